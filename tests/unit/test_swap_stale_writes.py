"""Issue 11 item 4 (second half): writes through a handle opened before the switch.

Chroma has no aliases: a handle opened before the rename keeps writing to
``NAME__backup_<time>``. Before this fix those writes were stranded there and the swap reported
success; so were writes that landed between the verification and the rename. The swap now
reconciles right after the switch, ``sync_swap`` / ``autoembed swap --sync`` rerun it, and
``--drop-old`` drops the backup only after carrying its writes over (a stale write after that
fails loudly).
"""

from __future__ import annotations

import numpy as np
import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.cli import main  # noqa: E402
from autoembedding.errors import SwapError  # noqa: E402
from autoembedding.swap import K_PHASE, swap, sync_swap  # noqa: E402

N = 60


def fill(client, n: int = N, dim: int = 16):
    ids = [f"id-{i:04d}" for i in range(n)]
    docs = [f"doc {i} about {['cats', 'dogs', 'birds'][i % 3]} number{i}" for i in range(n)]
    col = client.create_collection(
        "docs", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    col.add(
        ids=ids,
        documents=docs,
        metadatas=[{"i": i} for i in range(n)],
        embeddings=FakeAdapter("old", dim=dim).embed_documents(docs),
    )
    return col


def content(col) -> dict[str, tuple]:
    got = col.get(include=["documents", "metadatas"])
    return {
        i: (d, m or None)
        for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }


def assert_embedded_by(col, adapter) -> None:
    got = col.get(include=["documents", "embeddings"])
    expected = adapter.embed_documents(got["documents"])
    np.testing.assert_allclose(np.asarray(got["embeddings"]), expected, atol=1e-5)


def stale_writes(stale, dim: int = 16) -> None:
    """What an app holding a pre-switch handle does after the switch (old model's vectors)."""
    old = FakeAdapter("old", dim=dim)
    stale.add(
        ids=["late-1"],
        documents=["written through an old handle"],
        metadatas=[{"late": True}],
        embeddings=old.embed_documents(["written through an old handle"]),
    )
    stale.update(ids=["id-0007"], metadatas=[{"i": 7, "edited": True}])
    stale.delete(ids=["id-0009"])


def test_sync_carries_over_writes_through_a_stale_handle(chroma_client):
    fill(chroma_client)
    stale = chroma_client.get_collection("docs")
    new = FakeAdapter("new", dim=24)
    result = swap("docs", new, client=chroma_client, page_size=16, progress=False)
    assert stale.name == "docs"  # the handle's cached name; it now points at the backup
    stale_writes(stale)
    backup = chroma_client.get_collection(result.backup)
    assert backup.get(ids=["late-1"])["ids"] == ["late-1"]  # where the write landed
    live = chroma_client.get_collection("docs")
    live.update(ids=["id-0011"], metadatas=[{"fresh": 1}])  # a fresh handle's write
    stale.update(ids=["id-0011"], metadatas=[{"stale": 1}])  # and a stale one: conflict

    synced = sync_swap("docs", client=chroma_client, model=new)
    assert (synced.carried, synced.deleted, synced.conflicts) == (2, 1, ["id-0011"])
    got = content(chroma_client.get_collection("docs"))
    assert got["late-1"] == ("written through an old handle", {"late": True})
    assert got["id-0007"][1] == {"i": 7, "edited": True}
    assert "id-0009" not in got
    assert got["id-0011"][1] == {"i": 11, "fresh": 1}  # the new collection's write wins
    assert_embedded_by(chroma_client.get_collection("docs"), new)
    again = sync_swap("docs", client=chroma_client, model=new)
    assert (again.carried, again.deleted, again.conflicts) == (0, 0, [])  # idempotent


def test_writes_in_the_switch_window_are_carried_over_by_the_swap_itself(chroma_client):
    """A write between the last catch-up and the rename lands in what becomes the backup."""
    fill(chroma_client)
    writer = chroma_client.get_collection("docs")

    class Hooked:
        def __init__(self, inner) -> None:
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def modify(self, **kw):
            if (kw.get("metadata") or {}).get(K_PHASE) == "switching":  # the switch begins
                writer.add(
                    ids=["window"], documents=["written in the window"], embeddings=[[0.1] * 16]
                )
                writer.update(
                    ids=["id-0003"],
                    documents=["doc 3, changed in the window"],
                    embeddings=[[0.3] * 16],
                )
            return self._inner.modify(**kw)

    class Client:
        def __getattr__(self, name):
            return getattr(chroma_client, name)

        def get_collection(self, name, **kw):
            return Hooked(chroma_client.get_collection(name, **kw))

        def get_or_create_collection(self, name, **kw):
            return Hooked(chroma_client.get_or_create_collection(name, **kw))

    new = FakeAdapter("new", dim=24)
    result = swap("docs", new, client=Client(), page_size=16, drop_old=True, progress=False)
    assert result.synced == 2 and result.backup is None
    got = content(chroma_client.get_collection("docs"))
    assert got["window"][0] == "written in the window"
    assert got["id-0003"][0] == "doc 3, changed in the window"
    assert_embedded_by(chroma_client.get_collection("docs"), new)
    assert result.switch_window_s < 5.0
    # The backup is gone: the stale handle's next write fails instead of being stranded.
    with pytest.raises(Exception, match="does not exist"):
        writer.add(ids=["lost?"], documents=["x"], embeddings=[[0.2] * 16])


def test_cli_sync_reruns_the_reconciliation(chroma_path, capsys):
    client = chromadb.PersistentClient(path=str(chroma_path))
    fill(client, dim=64)
    stale = client.get_collection("docs")
    args = ["swap", "--collection", "docs", "--chroma-path", str(chroma_path)]
    assert main([*args, "--model", "fake/new", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"autoembed swap --sync --chroma-path {chroma_path} --collection docs" in out
    stale_writes(stale, dim=64)
    assert main([*args, "--sync"]) == 0
    assert "2 record(s) carried over, 1 deleted" in capsys.readouterr().out
    live = chromadb.PersistentClient(path=str(chroma_path)).get_collection("docs")
    assert "late-1" in content(live) and "id-0009" not in content(live)
    assert_embedded_by(live, FakeAdapter("new"))


def test_sync_without_a_swap_says_why(chroma_client):
    fill(chroma_client)
    with pytest.raises(SwapError, match="Nothing to sync: 'docs' is not being swapped"):
        sync_swap("docs", client=chroma_client)
