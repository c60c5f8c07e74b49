"""Swap against a real Chroma server (`chroma run` on 127.0.0.1), including one that drops."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.records import get_record  # noqa: E402
from autoembedding.cli import main  # noqa: E402
from autoembedding.swap import (  # noqa: E402
    K_OFFSET,
    SwapError,
    staging_name,
    swap,
    sync_swap,
)

pytestmark = [pytest.mark.integration, pytest.mark.server]

N = 300


def data():
    ids = [f"id-{i:04d}" for i in range(N)]
    docs = [f"server doc {i} on topic{i % 6} and word{i % 11}" for i in range(N)]
    metas = [{"i": i} for i in range(N)]
    return ids, docs, metas


def fill(client) -> None:
    ids, docs, metas = data()
    col = client.create_collection(
        "docs",
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"owner": "me"},
        embedding_function=None,
    )
    col.add(
        ids=ids,
        documents=docs,
        metadatas=metas,
        embeddings=FakeAdapter("old", dim=16).embed_documents(docs),
    )


def check(client, model: str = "new", dim: int = 24) -> None:
    ids, docs, metas = data()
    col = client.get_collection("docs")
    got = col.get(ids=ids, include=["documents", "metadatas", "embeddings"])
    pos = {i: k for k, i in enumerate(got["ids"])}
    vectors = FakeAdapter(model, dim=dim).embed_documents(docs)
    assert col.count() == N and set(pos) == set(ids)
    for k, i in enumerate(ids):
        assert got["documents"][pos[i]] == docs[k]
        assert got["metadatas"][pos[i]] == metas[k]
        np.testing.assert_allclose(got["embeddings"][pos[i]], vectors[k], atol=1e-5)
    assert get_record(col).model_id == f"fake/{model}"
    assert col.configuration["hnsw"]["space"] == "cosine"


def test_cli_swap_and_undo_on_a_server(chroma_server, capsys):
    server = chroma_server
    fill(server.client())
    args = ["--collection", "docs", "--chroma-host", "127.0.0.1", "--chroma-port", str(server.port)]
    assert main(["swap", *args, "--model", "fake/new", "--page-size", "64", "--no-progress"]) == 0
    assert "Swapped 'docs'" in capsys.readouterr().out
    check(server.client(), dim=64)  # fake/<name> from the CLI has the fake's default 64 dims
    assert main(["swap", "--undo", *args]) == 0
    assert get_record(server.client().get_collection("docs")) is None


def test_a_server_that_drops_mid_swap_is_reported_and_resumable(chroma_server):
    server = chroma_server
    fill(server.client())
    errors: list[BaseException] = []
    slow = FakeAdapter("new", dim=24, latency_ms=150)

    def run() -> None:
        try:
            swap("docs", slow, client=server.client(), page_size=20, progress=False)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    staging = staging_name("docs", slow.record())
    watcher = server.client()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # drop the server once a few pages are written
        try:
            if watcher.get_collection(staging).metadata.get(K_OFFSET, 0) >= 60:
                break
        except Exception:  # noqa: BLE001 - not created yet
            pass
        time.sleep(0.05)
    server.kill()  # SIGKILL, as a crash would
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert errors and isinstance(errors[0], SwapError), errors
    message = str(errors[0])
    assert "rerun the same command" in message.lower() and "original is untouched" in message
    server.start()  # same folder, same port
    client = server.client()
    original = client.get_collection("docs")
    assert get_record(original) is None and original.count() == N
    result = swap("docs", FakeAdapter("new", dim=24), client=client, page_size=20, progress=False)
    assert 60 <= result.resumed_from < N and result.embedded == N - result.resumed_from
    check(client)


def test_old_handles_are_carried_over_then_refused_after_drop_old_on_a_server(chroma_server):
    fill(chroma_server.client())
    stale = chroma_server.client().get_collection("docs")
    new = FakeAdapter("new", dim=24)
    result = swap("docs", new, client=chroma_server.client(), page_size=64, progress=False)
    stale.add(ids=["late"], documents=["late doc"], embeddings=[[0.5] * 16])  # lands in the backup
    synced = sync_swap("docs", client=chroma_server.client(), model=new)
    assert (synced.backup, synced.carried) == (result.backup, 1)
    live = chroma_server.client().get_collection("docs")
    got = live.get(ids=["late"], include=["documents", "embeddings"])
    assert got["documents"] == ["late doc"]
    np.testing.assert_allclose(
        got["embeddings"][0], new.embed_documents(["late doc"])[0], atol=1e-5
    )
    again = swap("docs", new, client=chroma_server.client(), drop_old=True, progress=False)
    assert again.already_done and again.backup is None
    with pytest.raises(Exception, match="(?i)not (exist|found)"):  # loud, not stranded
        stale.add(ids=["later"], documents=["later doc"], embeddings=[[0.5] * 16])
