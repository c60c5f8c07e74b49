"""Swaps of collections whose metadata is absent or only ``hnsw:`` keys (issues 22.2, 24.2).

Chroma refuses ``modify(metadata={})``; clearing the swap's own keys from such a collection
left ``{}`` and the hybrid swap (and its undo) exited 1 after the work was done.
"""

from __future__ import annotations

import pytest

pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.records import get_record, user_metadata  # noqa: E402
from autoembedding.cli import main  # noqa: E402

SHAPES = {
    "none": {},
    "hnsw-only": {"metadata": {"hnsw:space": "cosine"}},
    "user": {"metadata": {"owner": "me"}, "configuration": {"hnsw": {"space": "cosine"}}},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_hybrid_swap_and_undo_of_a_recordless_collection_exit_0(
    shape, chroma_client, chroma_path, capsys
):
    col = chroma_client.create_collection("docs", embedding_function=None, **SHAPES[shape])
    docs = [f"doc {i} about {['cats', 'dogs', 'birds'][i % 3]}" for i in range(20)]
    col.add(
        ids=[f"d{i}" for i in range(20)],
        documents=docs,
        embeddings=FakeAdapter("old", dim=8).embed_documents(docs),
    )
    before = user_metadata(chroma_client.get_collection("docs").metadata)
    argv = ["swap", "--chroma-path", str(chroma_path), "--collection", "docs", "--no-progress"]

    assert main([*argv, "--model", "hybrid:fake/new+bm25"]) == 0
    live = chroma_client.get_collection("docs")
    record = get_record(live)
    assert (record.model_id, record.retrieval) == ("fake/new", "hybrid")
    assert user_metadata(live.metadata) == before
    capsys.readouterr()
    assert main([*argv, "--status"]) == 0
    assert "stopped" not in capsys.readouterr().out  # nothing pending

    assert main([*argv, "--undo"]) == 0
    live = chroma_client.get_collection("docs")
    assert get_record(live) is None
    assert user_metadata(live.metadata) == before
    capsys.readouterr()
    assert main([*argv, "--status"]) == 0
    assert "not being swapped" in capsys.readouterr().out
