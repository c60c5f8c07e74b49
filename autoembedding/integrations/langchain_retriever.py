"""``AutoRetriever``: a LangChain retriever serving dense, BM25 or hybrid, as the record says.

Example:
    .. code-block:: python

        from autoembedding.integrations.langchain import AutoRetriever

        retriever = AutoRetriever(collection=client.get_collection("docs"), k=5)
        docs = retriever.invoke("how do cats sleep?")  # Documents, .id = the Chroma id

It reads the collection's model record on every query (a cheap re-check, at most once per
``recheck_s``) and serves what it names: the vectors (``dense``, or no record), the collection's
BM25 index (``lexical``) or both fused (``hybrid``); after ``autoembed swap`` it follows the new
collection under the same name. See :class:`~autoembedding.retrieval.search.Searcher`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from autoembedding.adapters import missing_extra

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from pydantic import ConfigDict, Field, PrivateAttr
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("langchain-core", "langchain", exc) from exc

from autoembedding.retrieval.search import Searcher, searcher_for

__all__ = ["AutoRetriever"]


class AutoRetriever(BaseRetriever):
    """A LangChain ``BaseRetriever`` over a Chroma collection, in the mode its record names.

    Build it with ``AutoRetriever(collection=<chromadb collection>, k=10)`` or
    ``AutoRetriever(vectorstore=<langchain_chroma.Chroma>, k=10)`` (its client and collection
    are used). Each ``Document`` has ``id`` = the Chroma id, ``page_content`` = the document and
    ``metadata`` = the record's metadata plus ``score_key`` (higher is better: a cosine
    similarity, a BM25 score or a fused score). Async calls run the search in a thread.

    An empty query returns ``[]``; so does a query with no BM25 term (only stopwords) in
    ``lexical`` mode. Writes through :meth:`add_texts` / :meth:`add_documents` are embedded by
    the recorded model and added to the BM25 index.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    collection: Any = None
    """The chromadb collection to search (or give ``vectorstore``)."""
    vectorstore: Any = None
    """A ``langchain_chroma.Chroma`` whose client and collection to use."""
    client: Any = None
    """The chromadb client of ``collection`` (default: the one it came from)."""
    k: int = Field(default=10, ge=1)
    """How many documents to return."""
    recheck_s: float = 1.0
    """Re-read the collection by name at most this often: how soon a swap is followed."""
    score_key: str = "score"
    """The metadata key the score is written under."""

    _searcher: Searcher = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        self._searcher = searcher_for(
            self.collection, self.vectorstore, self.client, self.recheck_s, "AutoRetriever"
        )

    @property
    def searcher(self) -> Searcher:
        """The :class:`~autoembedding.retrieval.search.Searcher` doing the work."""
        return self._searcher

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                id=hit.id,
                page_content=hit.document or "",
                metadata={**hit.metadata, self.score_key: hit.score},
            )
            for hit in self._searcher.search(query, self.k)
        ]

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: Sequence[dict[str, Any] | None] | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[str]:
        """Add texts to the collection (recorded model) and its BM25 index; returns their ids."""
        return self._searcher.add_texts(list(texts), metadatas, ids)

    def add_documents(
        self, documents: Sequence[Document], ids: Sequence[str] | None = None
    ) -> list[str]:
        """Add ``Document`` objects (their ``id`` is kept unless ``ids`` is given)."""
        if ids is None and all(doc.id for doc in documents):
            ids = [str(doc.id) for doc in documents]
        return self.add_texts(
            [doc.page_content for doc in documents],
            [dict(doc.metadata) or None for doc in documents],
            ids,
        )
