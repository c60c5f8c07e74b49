"""Issue 11 item 4 (first half): writes made to the source while the copy runs are not stranded.

Before the catch-up phase, a write during the copy either failed verification (the copy was
dropped and the swap had to start over) or, for a record past the copy's offset, was silently
missed when a delete shifted the offsets. Now the rounds compare content fingerprints and carry
every add, change and delete over to the staging copy before the switch.
"""

from __future__ import annotations

import numpy as np
import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.records import get_record  # noqa: E402
from autoembedding.swap import swap  # noqa: E402
from autoembedding.swap.baseline import fingerprint, read_fps  # noqa: E402
from autoembedding.swap.journal import sync_name  # noqa: E402

N = 120


def make_docs(n: int = N) -> tuple[list[str], list[str], list[dict | None]]:
    ids = [f"id-{i:04d}" for i in range(n)]
    docs = [f"doc {i} about {['cats', 'dogs', 'birds', 'fish'][i % 4]} number{i}" for i in range(n)]
    metas = [{"i": i, "kind": "even"} if i % 2 == 0 else None for i in range(n)]
    return ids, docs, metas


def fill(client, n: int = N):
    ids, docs, metas = make_docs(n)
    col = client.create_collection(
        "docs",
        metadata={"owner": "me"},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    col.add(
        ids=ids,
        documents=docs,
        metadatas=metas,
        embeddings=FakeAdapter("old", dim=16).embed_documents(docs),
    )
    return col


class Meddling(FakeAdapter):
    """A FakeAdapter that runs ``hooks[n]()`` before its n-th ``embed_documents`` call."""

    def __init__(self, hooks, **kwargs) -> None:
        super().__init__("new", dim=24, **kwargs)
        self.hooks, self.n = hooks, 0

    def embed_documents(self, texts):
        self.n += 1
        hook = self.hooks.pop(self.n, None)
        if hook is not None:
            hook()
        return super().embed_documents(texts)


def snapshot(col) -> dict[str, tuple]:
    got = col.get(include=["documents", "metadatas"])
    return {
        i: (d, m or None)
        for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }


def assert_new_vectors(col) -> None:
    got = col.get(include=["documents", "embeddings"])
    expected = FakeAdapter("new", dim=24).embed_documents(got["documents"])
    np.testing.assert_allclose(np.asarray(got["embeddings"]), expected, atol=1e-5)


def test_adds_changes_and_deletes_during_the_copy_reach_the_swapped_collection(chroma_client):
    fill(chroma_client)
    writer = chroma_client.get_collection("docs")  # another app's handle on the source
    old = FakeAdapter("old", dim=16)

    def during_copy() -> None:
        new_docs = [f"added during the copy {k}" for k in range(5)]
        writer.add(
            ids=[f"new-{k}" for k in range(5)],
            documents=new_docs,
            metadatas=[{"added": k} for k in range(5)],
            embeddings=old.embed_documents(new_docs),
        )
        changed = "doc 3 rewritten while the swap copied"
        writer.update(
            ids=["id-0003"], documents=[changed], embeddings=old.embed_documents([changed])
        )
        writer.update(ids=["id-0100"], metadatas=[{"i": 100, "kind": "edited"}])
        writer.upsert(  # a metadata key removed (Chroma would merge it back if not sent as None)
            ids=["id-0002"],
            documents=[make_docs()[1][2]],
            metadatas=[{"i": 2, "kind": None}],
            embeddings=old.embed_documents([make_docs()[1][2]]),
        )
        writer.delete(ids=["id-0005", "id-0110"])  # shifts the offsets the copy reads by

    adapter = Meddling({2: during_copy})
    result = swap("docs", adapter, client=chroma_client, page_size=20, progress=False)

    live = chroma_client.get_collection("docs")
    backup = chroma_client.get_collection(result.backup)
    assert snapshot(live) == snapshot(backup)  # every acknowledged write is in the new collection
    want = snapshot(backup)
    assert "new-4" in want and "id-0005" not in want and "id-0110" not in want
    assert want["id-0003"][0].startswith("doc 3 rewritten")
    assert want["id-0100"][1] == {"i": 100, "kind": "edited"}
    assert want["id-0002"][1] == {"i": 2}
    assert_new_vectors(live)
    assert get_record(live).model_id == "fake/new"
    # id-0002, id-0003 changed and id-0005 deleted after the copy read their page; the rest
    # (adds at the end, changes further on) the copy itself read in their new state.
    assert result.caught_up >= 3
    # Only what changed was embedded again: the copy, the catch-up and the sample.
    assert adapter.texts_seen <= N + 5 + result.caught_up + result.verified_vectors


def test_the_baseline_holds_the_fingerprints_of_the_switched_collection(chroma_client):
    fill(chroma_client, n=30)
    adapter = FakeAdapter("new", dim=24)
    swap("docs", adapter, client=chroma_client, page_size=7, progress=False)
    live = chroma_client.get_collection("docs")
    baseline = chroma_client.get_collection(sync_name("docs", adapter.record()))
    assert live.metadata["autoembedding:swap_sync"] == baseline.name
    got = live.get(include=["documents", "metadatas"])
    fps = read_fps(baseline, got["ids"])
    assert baseline.count() == 30
    for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        assert fps[i] == fingerprint(d, m)


def test_a_staging_copy_is_resumed_even_if_the_source_changed_meanwhile(chroma_client):
    """Before, a changed count dropped the staging copy and every rerun started from zero."""
    fill(chroma_client)
    failing = FakeAdapter("new", dim=24, fail_after_calls=3, batch_size=64)
    with pytest.raises(Exception, match="failed on purpose"):
        swap("docs", failing, client=chroma_client, page_size=20, progress=False)
    src = chroma_client.get_collection("docs")
    src.add(
        ids=["late"],
        documents=["a late document"],
        embeddings=FakeAdapter("old", dim=16).embed_documents(["x"]),
    )
    adapter = FakeAdapter("new", dim=24, batch_size=64)
    result = swap("docs", adapter, client=chroma_client, page_size=20, progress=False)
    assert result.resumed_from == 60
    live = chroma_client.get_collection("docs")
    assert live.count() == N + 1 and "late" in live.get(ids=["late"])["ids"]
    assert_new_vectors(live)


def test_the_copy_fills_the_baseline_and_the_sample_is_embedded_once(chroma_client, monkeypatch):
    """Issue 14: the copy's writer stores the fingerprints, so the catch-up writes none for an
    untouched source, and the verification re-embeds its sample in one batch."""
    from autoembedding.swap import catchup

    fill(chroma_client, n=30)
    written: list[dict] = []
    real_write = catchup.write_fps

    def spy(baseline, fps) -> None:
        if fps:
            written.append(dict(fps))
        real_write(baseline, fps)

    monkeypatch.setattr(catchup, "write_fps", spy)
    batches: list[int] = []

    class Counting(FakeAdapter):
        def embed_documents(self, texts):
            batches.append(len(texts))
            return super().embed_documents(texts)

    adapter = Counting("new", dim=24)
    result = swap(
        "docs", adapter, client=chroma_client, page_size=7, verify_sample=5, progress=False
    )
    assert written == []  # the baseline was filled during the copy
    assert batches == [7, 7, 7, 7, 2, 5]  # the copy's pages, then the sample (one per page)
    assert result.verified_vectors == 5
    baseline = chroma_client.get_collection(sync_name("docs", adapter.record()))
    got = chroma_client.get_collection("docs").get(include=["documents", "metadatas"])
    fps = read_fps(baseline, got["ids"])
    assert fps == {
        i: fingerprint(d, m)
        for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }
