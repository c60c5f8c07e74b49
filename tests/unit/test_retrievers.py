"""Issue 12, items 4 and 5: ``AutoRetriever`` in LangChain and LlamaIndex serves the record's mode.

Fake-model collections in a real embedded Chroma, real bm25s. Each retriever serves dense,
BM25 or hybrid as the collection's model record says, returns Chroma ids, follows a record
change and a new collection under the same name (a swap), and writes through the collection and
its BM25 index.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from autoembedding.adapters import get_adapter
from autoembedding.chroma.records import read_record, write_record
from autoembedding.errors import CollectionError, LexicalIndexWarning
from autoembedding.integrations.chroma import get_or_create_collection
from autoembedding.integrations.langchain import AutoRetriever as LcRetriever
from autoembedding.integrations.llama_index import AutoRetriever as LiRetriever
from autoembedding.retrieval import build_index

TEXTS = [f"passage {i} about topic {i % 7} in colour {i % 5}" for i in range(30)] + [
    "a zebra grazes on the savanna",
    "the cats are running across the garden",
]
IDS = [f"p{i}" for i in range(len(TEXTS))]

#: The first query of a lexical collection builds its index (warned); expected here.
pytestmark = pytest.mark.filterwarnings("ignore::autoembedding.errors.LexicalIndexWarning")


@pytest.fixture(autouse=True)
def _own_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _make(client, name="docs", model="fake/a", texts=TEXTS, ids=IDS):
    guarded = get_or_create_collection(client, name, model=model)
    guarded.add(ids=ids, documents=texts, metadatas=[{"n": i} for i in range(len(texts))])
    return client.get_collection(name, embedding_function=None)


def _set_mode(client, mode, name="docs", **fusion):
    raw = client.get_collection(name, embedding_function=None)
    tokenizer = "en" if mode != "dense" else ""
    write_record(raw, read_record(raw).with_retrieval(mode, tokenizer=tokenizer, **fusion))


@pytest.fixture
def docs(chroma_client):
    return _make(chroma_client)


# ------------------------------------------------------------------------- LangChain
def test_langchain_dense_returns_documents_with_chroma_ids(docs):
    retriever = LcRetriever(collection=docs, k=4)
    found = retriever.invoke("zebra savanna")
    assert len(found) == 4  # dense always fills k
    assert found[0].id == "p30" and found[0].page_content == TEXTS[30]
    assert found[0].metadata["n"] == 30 and found[0].metadata["score"] <= 1.0
    assert [d.metadata["score"] for d in found] == sorted(
        (d.metadata["score"] for d in found), reverse=True
    )


def test_langchain_lexical_serves_bm25(chroma_client, docs):
    _set_mode(chroma_client, "lexical")
    retriever = LcRetriever(collection=docs, k=4)
    found = retriever.invoke("zebra")
    assert [d.id for d in found] == ["p30"]  # only documents sharing a term
    assert found[0].metadata["score"] > 0 and found[0].metadata["n"] == 30
    assert retriever.invoke("the and of") == []
    assert retriever.invoke("") == []


@pytest.mark.parametrize(
    "fusion", [{"fusion": "convex", "fusion_weight": 0.5}, {"fusion": "rrf", "rrf_k": 60}]
)
def test_langchain_hybrid_fuses_both(chroma_client, docs, fusion):
    _set_mode(chroma_client, "hybrid", **fusion)
    retriever = LcRetriever(collection=docs, k=5)
    found = retriever.invoke("running cats")
    assert len(found) == 5 and found[0].id == "p31"
    top = found[0].metadata["score"]
    assert top == pytest.approx(1.0 if fusion["fusion"] == "convex" else 2 / 61)
    # a stopword-only query has no lexical side: the dense ranking alone
    assert len(retriever.invoke("the and of")) == 5


def test_langchain_over_a_chroma_store_and_async(chroma_client, docs):
    from langchain_chroma import Chroma

    from autoembedding.integrations.langchain import AutoEmbedding, chroma_store

    _set_mode(chroma_client, "lexical")
    plain = Chroma(
        client=chroma_client,
        collection_name="docs",
        embedding_function=AutoEmbedding(model="fake/a"),
    )
    retriever = LcRetriever(vectorstore=plain, k=3)
    assert [d.id for d in retriever.invoke("zebra")] == ["p30"]
    bound = chroma_store("docs", client=chroma_client)
    retriever = LcRetriever(vectorstore=bound, k=3)
    assert retriever.searcher.binding is bound.binding
    found = asyncio.run(retriever.ainvoke("zebra"))
    assert [d.id for d in found] == ["p30"]


def test_langchain_lcel_chain(chroma_client, docs):
    from langchain_core.runnables import RunnableLambda

    _set_mode(chroma_client, "hybrid", fusion="rrf")
    chain = LcRetriever(collection=docs, k=2) | RunnableLambda(
        lambda found: " | ".join(d.page_content for d in found)
    )
    assert chain.invoke("zebra").startswith(TEXTS[30])


def test_langchain_follows_a_record_change(chroma_client, docs):
    retriever = LcRetriever(collection=docs, k=4, recheck_s=0)
    assert len(retriever.invoke("zebra")) == 4  # dense
    _set_mode(chroma_client, "lexical")
    assert [d.id for d in retriever.invoke("zebra")] == ["p30"]  # BM25 now
    _set_mode(chroma_client, "dense")
    assert len(retriever.invoke("zebra")) == 4


def test_langchain_follows_a_new_collection_under_the_name(chroma_client, docs):
    retriever = LcRetriever(collection=docs, k=3, recheck_s=0)
    old_id = docs.id
    assert retriever.invoke("zebra")[0].id == "p30"
    chroma_client.delete_collection("docs")
    _make(
        chroma_client, model="fake/b", texts=["an okapi in the forest", "a zebra"], ids=["o", "z"]
    )
    _set_mode(chroma_client, "lexical")
    found = retriever.invoke("okapi forest")
    assert [d.id for d in found] == ["o"]
    assert retriever.searcher.collection.id != old_id
    assert retriever.searcher.record().model_id == "fake/b"


def test_langchain_follows_a_swap(chroma_client, docs):
    from autoembedding.swap import swap

    retriever = LcRetriever(collection=docs, k=3, recheck_s=0)
    assert retriever.invoke("zebra")[0].id == "p30"
    swap("docs", "fake/b", client=chroma_client, progress=False, verify_sample=4)
    assert retriever.invoke("zebra savanna")[0].id == "p30"
    assert retriever.searcher.collection.id != docs.id
    assert retriever.searcher.record().model_id == "fake/b"


def test_langchain_writes_through_the_collection_and_index(chroma_client, docs):
    from langchain_core.documents import Document

    _set_mode(chroma_client, "lexical")
    retriever = LcRetriever(collection=docs, k=3)
    assert [d.id for d in retriever.invoke("zebra")] == ["p30"]  # index built now
    ids = retriever.add_documents(
        [Document(id="owl", page_content="an owl hunts at night", metadata={"kind": "bird"})]
    )
    assert ids == ["owl"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", LexicalIndexWarning)  # updated, not rebuilt
        found = retriever.invoke("owl hunting")
    assert [d.id for d in found] == ["owl"] and found[0].metadata["kind"] == "bird"
    stored = chroma_client.get_collection("docs").get(ids=["owl"], include=["embeddings"])
    expected = get_adapter("fake/a").embed_documents(["an owl hunts at night"])[0]
    np.testing.assert_allclose(stored["embeddings"][0], expected, rtol=1e-5, atol=1e-6)
    new = retriever.add_texts(["a heron fishes"])
    assert [d.id for d in retriever.invoke("heron")] == new


def test_change_by_another_process_is_served_fresh(chroma_client, chroma_path, docs):
    _set_mode(chroma_client, "lexical")
    build_index(docs, "en")
    retriever = LcRetriever(collection=docs, k=3)
    retriever.searcher.verify_s = 0  # re-check the contents on every query
    assert [d.id for d in retriever.invoke("zebra")] == ["p30"]
    script = textwrap.dedent(
        f"""
        import chromadb
        col = chromadb.PersistentClient(path={str(chroma_path)!r}).get_collection(
            "docs", embedding_function=None)
        col.update(ids=["p30"], documents=["an okapi in the forest"], embeddings=[[0.0] * 64])
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    with pytest.warns(LexicalIndexWarning, match="documents changed"):
        assert [d.id for d in retriever.invoke("okapi")] == ["p30"]
    assert retriever.invoke("zebra") == []


def test_langchain_bad_construction(docs):
    with pytest.raises(CollectionError, match="exactly one"):
        LcRetriever(k=3)
    with pytest.raises(ValueError):
        LcRetriever(collection=docs, k=0)


# ------------------------------------------------------------------------- LlamaIndex
def test_llama_index_modes_over_a_collection(chroma_client, docs):
    from llama_index.core.schema import NodeWithScore, TextNode

    retriever = LiRetriever(collection=docs, k=4, recheck_s=0)
    nodes = retriever.retrieve("zebra savanna")
    assert len(nodes) == 4 and isinstance(nodes[0], NodeWithScore)
    assert isinstance(nodes[0].node, TextNode) and nodes[0].node.id_ == "p30"
    assert nodes[0].node.text == TEXTS[30] and nodes[0].node.metadata["n"] == 30
    _set_mode(chroma_client, "lexical")
    assert [n.node.id_ for n in retriever.retrieve("zebra")] == ["p30"]
    assert retriever.retrieve("the of and") == []
    _set_mode(chroma_client, "hybrid", fusion="convex", fusion_weight=0.3)
    nodes = asyncio.run(retriever.aretrieve("running cats"))
    assert nodes[0].node.id_ == "p31" and nodes[0].score == pytest.approx(1.0)


def test_llama_index_query_engine_over_a_vector_store(chroma_client):
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.core.query_engine import RetrieverQueryEngine

    from autoembedding.integrations.llama_index import chroma_vector_store

    store, embed = chroma_vector_store("li-docs", client=chroma_client, model="fake/a")
    VectorStoreIndex.from_documents(
        [Document(text=t, id_=f"doc{i}") for i, t in enumerate(TEXTS)],
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embed,
    )
    _set_mode(chroma_client, "hybrid", name="li-docs", fusion="rrf")
    retriever = LiRetriever(store, k=2)
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(max_tokens=8))
    response = engine.query("zebra savanna")
    top = response.source_nodes[0].node
    assert top.text == TEXTS[30] and top.ref_doc_id == "doc30"  # LlamaIndex's node rebuilt
    stored = chroma_client.get_collection("li-docs").get(include=[])["ids"]
    assert top.id_ in stored
    plain = LiRetriever(collection=chroma_client.get_collection("li-docs"), k=1)
    assert plain.retrieve("zebra")[0].node.id_ == top.id_


def test_llama_index_follows_a_new_collection_and_writes(chroma_client, docs):
    retriever = LiRetriever(collection=docs, k=3, recheck_s=0)
    assert retriever.retrieve("zebra")[0].node.id_ == "p30"
    chroma_client.delete_collection("docs")
    _make(
        chroma_client, model="fake/b", texts=["an okapi in the forest", "a zebra"], ids=["o", "z"]
    )
    _set_mode(chroma_client, "lexical")
    assert [n.node.id_ for n in retriever.retrieve("okapi")] == ["o"]
    retriever.add_texts(["a heron fishes"], ids=["h"])
    assert [n.node.id_ for n in retriever.retrieve("heron")] == ["h"]
    with pytest.raises(CollectionError, match="at least 1"):
        LiRetriever(collection=docs, k=0)


def test_a_collection_without_record_is_searched_with_its_own_function(chroma_client):
    from chromadb import Documents, EmbeddingFunction, Embeddings

    class BagOfWords(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            self.adapter = get_adapter("fake/own")

        def __call__(self, input: Documents) -> Embeddings:
            return [np.asarray(v, dtype=np.float32) for v in self.adapter.embed_documents(input)]

    col = chroma_client.create_collection("plain", embedding_function=BagOfWords())
    col.add(ids=IDS, documents=TEXTS)
    assert read_record(col) is None
    retriever = LcRetriever(collection=col, k=2)
    assert retriever.searcher.mode() == "dense"
    assert retriever.invoke("zebra savanna")[0].id == "p30"
    assert retriever.add_texts(["an okapi in the forest"], ids=["o"]) == ["o"]
    assert retriever.invoke("okapi forest")[0].id == "o"


def test_writes_through_the_bound_stores_update_the_index(chroma_client, docs):
    from llama_index.core.schema import TextNode

    from autoembedding.integrations.langchain import chroma_store
    from autoembedding.integrations.llama_index import chroma_vector_store

    _set_mode(chroma_client, "hybrid", fusion="rrf")
    retriever = LcRetriever(collection=docs, k=3)
    assert retriever.invoke("zebra")[0].id == "p30"  # index built now
    store = chroma_store("docs", client=chroma_client)
    vector_store, embed_model = chroma_vector_store("docs", client=chroma_client)
    node = TextNode(id_="heron", text="a heron fishes in the reeds")
    node.embedding = embed_model.get_text_embedding(node.text)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LexicalIndexWarning)  # updated on write, never rebuilt
        store.add_texts(["an owl hunts at night"], ids=["owl"])
        vector_store.add([node])
        assert retriever.invoke("owl hunts")[0].id == "owl"
        assert retriever.invoke("heron reeds")[0].id == "heron"


def test_writes_through_the_chroma_function_collection_update_the_index(chroma_client, docs):
    _set_mode(chroma_client, "lexical")
    retriever = LcRetriever(collection=docs, k=3)
    assert retriever.invoke("zebra")[0].id == "p30"  # index built now
    guarded = get_or_create_collection(chroma_client, "docs", model="fake/a")  # sees the mode
    with warnings.catch_warnings():
        warnings.simplefilter("error", LexicalIndexWarning)  # updated on write, never rebuilt
        guarded.add(ids=["owl"], documents=["an owl hunts at night"])
        guarded.upsert(ids=["p30"], documents=["a zebra and an owl on the savanna"])
        assert [d.id for d in retriever.invoke("owl hunts")][:2] == ["owl", "p30"]
