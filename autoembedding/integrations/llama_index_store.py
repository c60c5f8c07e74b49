"""``BoundChromaVectorStore``: a ``ChromaVectorStore`` that serves its collection's recorded mode.

Built by :func:`autoembedding.integrations.llama_index.chroma_vector_store` (use that). Its
collection is the one holding the bound name now (a
:class:`~autoembedding.retrieval.binding.FollowingCollection`), and a plain top-k query with a
query text (what ``index.as_retriever()`` sends) is served in the mode the collection records:
dense through Chroma as before, BM25 or hybrid through the same searcher as ``AutoRetriever``
(see :mod:`autoembedding.integrations._modes`). Filters, MMR and queries without text are served
dense, with one warning. Needs ``llama-index-vector-stores-chroma``.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.vector_stores.types import (
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.vector_stores.chroma import ChromaVectorStore
from pydantic import PrivateAttr

from autoembedding.integrations._modes import RecordedMode
from autoembedding.retrieval.binding import CollectionBinding

__all__ = ["BoundChromaVectorStore"]


class BoundChromaVectorStore(ChromaVectorStore):
    """A ``ChromaVectorStore`` over a collection bound by name, serving its recorded mode.

    Args:
        binding: The collection, bound by name (its proxy is the store's collection).
        **kwargs: Other ``ChromaVectorStore`` arguments.
    """

    _modes: RecordedMode = PrivateAttr()

    def __init__(self, *, binding: CollectionBinding, **kwargs: Any) -> None:
        super().__init__(chroma_collection=binding.proxy, **kwargs)
        self._modes = RecordedMode(binding, "chroma_vector_store()")

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's name for the class."""
        return "BoundChromaVectorStore"

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Top-k nodes for ``query``, in the mode the collection records (see the module)."""
        mode = self._modes.mode()
        if mode == "dense":
            return super().query(query, **kwargs)
        plain = (
            query.query_str
            and query.filters is None
            and not kwargs
            and query.mode == VectorStoreQueryMode.DEFAULT
            and not query.node_ids
            and not query.doc_ids
        )
        if not plain:
            self._modes.served_dense(mode, "a filtered, MMR or text-less query")
            return super().query(query, **kwargs)
        from autoembedding.integrations.llama_index_retriever import _node as node_of

        hits = self._modes.searcher.search(str(query.query_str), query.similarity_top_k)
        return VectorStoreQueryResult(
            nodes=[node_of(hit) for hit in hits],
            similarities=[hit.score for hit in hits],
            ids=[hit.id for hit in hits],
        )
