"""Every collection shape swaps, with real models (#22.4).

Collections made (a) with no metadata, (b) with only ``{"hnsw:space": ...}``, (c) with user
metadata, (d) by ``AutoEmbeddingFunction``, (e) by langchain-chroma with ``collection_metadata``,
(f) by LlamaIndex ``ChromaVectorStore``: each swaps forward to a dense model, then to a hybrid, then
back with ``--undo`` — each ``autoembed swap`` exits 0, the record says what it serves, the
user's metadata is unchanged, and ``--status`` names nothing pending.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from autoembedding.chroma.records import get_record, user_metadata
from autoembedding.cli import main

pytestmark = pytest.mark.integration

MADE = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"
DENSE = "sentence-transformers/all-MiniLM-L6-v2"
HYBRID = f"hybrid:{DENSE}+bm25"
DOCS = [
    f"{a} {b} note {i}."
    for i, (a, b) in enumerate(
        (a, b)
        for a in (
            "Coral reefs bleach in warm water",
            "Insulin controls blood sugar",
            "Rust eats iron",
        )
        for b in (
            "Scientists measured it.",
            "A review sums it up.",
            "Field notes agree.",
            "It recurs.",
        )
    )
]
IDS = [f"d{i}" for i in range(len(DOCS))]


def _make(shape: str, client: Any, path: Path) -> None:
    from autoembedding.adapters import get_adapter

    if shape in ("none", "hnsw-only", "user"):
        kwargs = {
            "none": {},
            "hnsw-only": {"metadata": {"hnsw:space": "cosine"}},
            "user": {"metadata": {"owner": "me", "hnsw:space": "cosine"}},
        }[shape]
        col = client.create_collection("docs", embedding_function=None, **kwargs)
        col.add(ids=IDS, documents=DOCS, embeddings=get_adapter(MADE).embed_documents(DOCS))
    elif shape == "function":
        from autoembedding.integrations.chroma import AutoEmbeddingFunction

        col = client.create_collection(
            "docs",
            embedding_function=AutoEmbeddingFunction(MADE),
            metadata={"hnsw:space": "cosine"},
        )
        col.add(ids=IDS, documents=DOCS)
    elif shape == "langchain":
        from langchain_chroma import Chroma

        from autoembedding.integrations.langchain import AutoEmbedding

        store = Chroma(
            collection_name="docs",
            client=client,
            embedding_function=AutoEmbedding(model=MADE),
            collection_metadata={"hnsw:space": "cosine", "team": "search"},
        )
        store.add_texts(DOCS, ids=IDS)
    else:
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from autoembedding.integrations.llama_index import AutoEmbedding as LiEmbedding

        raw = client.get_or_create_collection("docs", embedding_function=None)
        VectorStoreIndex.from_documents(
            [Document(text=t, id_=i) for t, i in zip(DOCS, IDS, strict=True)],
            storage_context=StorageContext.from_defaults(
                vector_store=ChromaVectorStore(chroma_collection=raw)
            ),
            embed_model=LiEmbedding(model=MADE),
        )


@pytest.mark.parametrize(
    "shape", ["none", "hnsw-only", "user", "function", "langchain", "llama_index"]
)
def test_every_shape_swaps_to_dense_then_hybrid_and_undoes(
    shape, chroma_client, chroma_path, capsys
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _make(shape, chroma_client, chroma_path)
    before = user_metadata(chroma_client.get_collection("docs").metadata)
    argv = ["swap", "--chroma-path", str(chroma_path), "--collection", "docs", "--no-progress"]

    def state() -> tuple[Any, dict[str, Any]]:
        live = chroma_client.get_collection("docs", embedding_function=None)
        return get_record(live), user_metadata(live.metadata)

    def status_is_settled() -> None:
        capsys.readouterr()
        assert main([*argv, "--status", "--json", "-"]) == 0
        state = json.loads(capsys.readouterr().out)
        assert state["state"] in ("swapped", "mode-swapped", "idle"), state  # nothing pending

    assert main([*argv, "--model", DENSE]) == 0
    record, meta = state()
    assert (record.model_id, record.retrieval) == (DENSE, "dense") and meta == before
    status_is_settled()

    assert main([*argv, "--model", HYBRID]) == 0
    record, meta = state()
    assert (record.model_id, record.retrieval) == (DENSE, "hybrid") and meta == before
    status_is_settled()

    assert main([*argv, "--undo"]) == 0
    record, meta = state()
    assert (record.model_id, record.retrieval) == (DENSE, "dense") and meta == before
    status_is_settled()
