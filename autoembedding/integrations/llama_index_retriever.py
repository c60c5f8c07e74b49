"""``AutoRetriever``: a LlamaIndex retriever serving dense, BM25 or hybrid, as the record says.

Example:
    .. code-block:: python

        from llama_index.core.query_engine import RetrieverQueryEngine
        from autoembedding.integrations.llama_index import AutoRetriever

        retriever = AutoRetriever(vector_store=chroma_vector_store, k=5)  # or collection=...
        engine = RetrieverQueryEngine.from_args(retriever, llm=llm)
        print(engine.query("how do cats sleep?"))

Like the LangChain class (:mod:`autoembedding.integrations.langchain_retriever`), it reads the
collection's model record on every query (at most once per ``recheck_s``), serves its vectors,
its BM25 index or both fused, and follows ``autoembed swap``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from autoembedding.adapters import missing_extra

try:
    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("llama-index-core", "llama-index", exc) from exc

from autoembedding.retrieval.hits import Hit
from autoembedding.retrieval.search import Searcher, searcher_for

__all__ = ["AutoRetriever"]

#: The metadata key LlamaIndex's vector stores keep a serialised node under.
_NODE_CONTENT = "_node_content"


class AutoRetriever(BaseRetriever):
    """A LlamaIndex ``BaseRetriever`` over a Chroma collection, in the mode its record names.

    Each result is a ``NodeWithScore`` whose node's ``id_`` is the Chroma id and whose text is
    the document (higher scores are better: a cosine similarity, a BM25 score or a fused
    score). A record written by LlamaIndex's ``ChromaVectorStore`` is turned back into its
    node (relationships kept); any other record becomes a ``TextNode`` with its metadata.
    Usable wherever a retriever is, e.g. ``RetrieverQueryEngine.from_args(retriever, llm=...)``.

    Args:
        vector_store: A ``ChromaVectorStore`` (its collection and client are used), e.g. the
            one :func:`~autoembedding.integrations.llama_index.chroma_vector_store` returns.
        collection: Or a chromadb collection.
        client: The chromadb client of ``collection`` (default: the one it came from).
        k: How many nodes to return.
        recheck_s: Re-read the collection by name at most this often (how soon a swap is
            followed).
        callback_manager: LlamaIndex callbacks.
        verbose: LlamaIndex's verbose flag.

    Raises:
        CollectionError: If not exactly one of ``vector_store`` and ``collection`` is given,
            or ``k`` is below 1.
    """

    def __init__(
        self,
        vector_store: Any = None,
        *,
        collection: Any = None,
        client: Any = None,
        k: int = 10,
        recheck_s: float = 1.0,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ) -> None:
        from autoembedding.errors import CollectionError

        if not isinstance(k, int) or k < 1:
            raise CollectionError(f"k must be a whole number of at least 1, got {k!r}.")
        self.k = k
        self._searcher = searcher_for(collection, vector_store, client, recheck_s, "AutoRetriever")
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    @property
    def searcher(self) -> Searcher:
        """The :class:`~autoembedding.retrieval.search.Searcher` doing the work."""
        return self._searcher

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._searcher.search(query_bundle.query_str, self.k)
        return [NodeWithScore(node=_node(hit), score=hit.score) for hit in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)

    def add_texts(
        self,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any] | None] | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[str]:
        """Add texts to the collection (recorded model) and its BM25 index; returns their ids."""
        return self._searcher.add_texts(list(texts), metadatas, ids)


def _node(hit: Hit) -> TextNode:
    """The node of a hit: rebuilt from LlamaIndex's stored node, else a plain ``TextNode``."""
    if _NODE_CONTENT in hit.metadata:
        try:
            node = metadata_dict_to_node(hit.metadata, text=hit.document or "")
        except (ValueError, TypeError, KeyError):  # not a node LlamaIndex wrote: plain text
            pass
        else:
            if isinstance(node, TextNode):
                node.id_ = hit.id
                return node
    return TextNode(id_=hit.id, text=hit.document or "", metadata=dict(hit.metadata))
