"""The store helpers serve the retrieval mode their collection records (#24.5).

After a swap to ``bm25`` or a hybrid, ``chroma_store(...).as_retriever()`` (LangChain) and
``index.as_retriever()`` over ``chroma_vector_store(...)`` (LlamaIndex) return what
``AutoRetriever`` returns; a call that cannot be served that way (a filter, MMR, scores) is
served dense with one warning naming ``AutoRetriever``. Before: dense results, no warning.
"""

from __future__ import annotations

import warnings

import pytest

from autoembedding.errors import AutoEmbeddingWarning
from autoembedding.integrations import langchain as lc
from autoembedding.integrations.langchain import chroma_store
from autoembedding.swap import swap

# BM25 and the fake bag-of-words model disagree on these: rare words decide BM25.
TEXTS = [
    f"note {i} on {'zebra' if i % 9 == 0 else 'topic'} {i % 7} shade {i % 5} mark w{i}"
    for i in range(40)
]
IDS = [f"n{i}" for i in range(len(TEXTS))]
QUERIES = ["zebra shade 3", "topic 2 mark w17", "w5 note", "shade 4 topic 6"]


@pytest.fixture(autouse=True)
def _own_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("mode", ["bm25", "hybrid-rrf:fake/old+bm25"])
def test_langchain_store_retriever_serves_the_recorded_mode(chroma_client, mode):
    store = chroma_store("docs", client=chroma_client, recheck_s=0, model="fake/old")
    store.add_texts(TEXTS, ids=IDS)
    dense = [[d.id for d in store.as_retriever(search_kwargs={"k": 5}).invoke(q)] for q in QUERIES]
    swap("docs", mode, client=chroma_client, progress=False, verify_sample=4)
    auto = lc.AutoRetriever(collection=chroma_client.get_collection("docs"), k=5)
    want = [[d.id for d in auto.invoke(q)] for q in QUERIES]
    assert want != dense  # the modes differ on these queries, so the check below can fail
    with warnings.catch_warnings():
        warnings.simplefilter("error", AutoEmbeddingWarning)  # a plain search: no warning
        retriever = store.as_retriever(search_kwargs={"k": 5})
        assert [[d.id for d in retriever.invoke(q)] for q in QUERIES] == want


def test_langchain_store_calls_it_cannot_serve_are_dense_with_one_warning(chroma_client):
    store = chroma_store("docs", client=chroma_client, recheck_s=0, model="fake/old")
    store.add_texts(TEXTS, ids=IDS)
    swap("docs", "bm25", client=chroma_client, progress=False, verify_sample=4)
    with pytest.warns(AutoEmbeddingWarning, match="AutoRetriever") as caught:
        store.similarity_search("zebra", k=3, filter={"x": "y"})
        store.similarity_search("zebra", k=3, filter={"x": "y"})  # once per kind of call
    assert len([w for w in caught if "filtered" in str(w.message)]) == 1
    with pytest.warns(AutoEmbeddingWarning, match="scores"):
        store.similarity_search_with_relevance_scores("zebra", k=3)
    with pytest.warns(AutoEmbeddingWarning, match="MMR"):
        store.max_marginal_relevance_search("zebra", k=3)


def test_llama_index_store_retriever_serves_the_recorded_mode(chroma_client):
    from llama_index.core import Document, StorageContext, VectorStoreIndex

    from autoembedding.integrations import llama_index as li
    from autoembedding.integrations.llama_index import chroma_vector_store

    store, embed = chroma_vector_store("docs", client=chroma_client, recheck_s=0, model="fake/old")
    index = VectorStoreIndex.from_documents(
        [Document(text=t, id_=i) for t, i in zip(TEXTS, IDS, strict=True)],
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embed,
    )
    retriever = index.as_retriever(similarity_top_k=5)
    dense = [[h.node.text for h in retriever.retrieve(q)] for q in QUERIES]
    swap("docs", "bm25", client=chroma_client, progress=False, verify_sample=4)
    auto = li.AutoRetriever(collection=chroma_client.get_collection("docs"), k=5)
    want = [[h.node.text for h in auto.retrieve(q)] for q in QUERIES]
    assert want != dense
    with warnings.catch_warnings():
        warnings.simplefilter("error", AutoEmbeddingWarning)
        assert [[h.node.text for h in retriever.retrieve(q)] for q in QUERIES] == want
