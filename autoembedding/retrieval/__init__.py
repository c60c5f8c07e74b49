"""Serve a collection the way its model record says: dense, BM25 or a hybrid of both.

* :mod:`autoembedding.retrieval.store`: the persisted BM25 index of a Chroma collection
  (:func:`index_folder`, :func:`build_index`, :func:`open_index`, :func:`add_to_index`,
  :func:`drop_index`).
* :mod:`autoembedding.retrieval.search`: :class:`Searcher`, the one search used by the LangChain
  and LlamaIndex retrievers.

Needs the ``[lexical]`` extra for BM25 and ``[chroma]`` for the collection.
"""

from __future__ import annotations

from autoembedding.retrieval.hits import Hit
from autoembedding.retrieval.search import Searcher
from autoembedding.retrieval.store import (
    BM25_DIR_ENV,
    add_to_index,
    build_index,
    collection_fingerprint,
    drop_index,
    index_folder,
    open_index,
)

__all__ = [
    "BM25_DIR_ENV",
    "Hit",
    "Searcher",
    "add_to_index",
    "build_index",
    "collection_fingerprint",
    "drop_index",
    "index_folder",
    "open_index",
]
