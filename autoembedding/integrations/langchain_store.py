"""``BoundChroma``: a ``langchain_chroma.Chroma`` bound to its collection by name.

Built by :func:`autoembedding.integrations.langchain.chroma_store` (use that). Every operation of
the store acts on the collection that holds its name now (through a
:class:`~autoembedding.retrieval.binding.FollowingCollection`), and its ``AutoEmbedding``
follows the same binding, so after ``autoembed swap`` the next query embeds with the new model and
searches the new collection. Its text searches serve the retrieval mode the collection records
(dense, BM25 or hybrid, through the same searcher as ``AutoRetriever``; see
:mod:`autoembedding.integrations._modes`), so ``as_retriever()`` follows a swap to ``bm25`` too.
Needs ``langchain-chroma``.
"""

from __future__ import annotations

from typing import Any

from autoembedding.errors import MissingExtraError
from autoembedding.integrations._modes import RecordedMode
from autoembedding.retrieval.binding import CollectionBinding, FollowingCollection

try:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
except ImportError as exc:  # pragma: no cover - exercised only without the package
    raise MissingExtraError(
        f"langchain-chroma is not installed; chroma_store() needs it: pip install "
        f"'autoembedding[langchain,chroma]' langchain-chroma ({exc})"
    ) from exc

__all__ = ["BoundChroma"]


class BoundChroma(Chroma):
    """A ``langchain_chroma.Chroma`` whose collection is the one holding its name now.

    Args:
        binding: The collection, bound by name.
        embedding: The ``AutoEmbedding`` bound to the same binding.
        **kwargs: Other ``Chroma`` arguments (``relevance_score_fn``, ...).
    """

    def __init__(self, *, binding: CollectionBinding, embedding: Any, **kwargs: Any) -> None:
        self._binding = binding
        super().__init__(
            collection_name=binding.name,
            embedding_function=embedding,
            client=binding.client,
            create_collection_if_not_exists=False,
            **kwargs,
        )
        # Chroma's own handle is never used: _collection below always follows the name.
        self._chroma_collection = binding.collection
        self._modes = RecordedMode(binding, "chroma_store()")

    @property
    def binding(self) -> CollectionBinding:
        """The collection this store is bound to (by name)."""
        return self._binding

    @property
    def _collection(self) -> FollowingCollection:  # type: ignore[override]
        """Every operation of ``Chroma`` goes through this: the collection holding the name."""
        return self._binding.proxy

    # ------------------------------------------------------------ the recorded mode
    def similarity_search(
        self, query: str, k: int = 4, filter: dict[str, str] | None = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` best documents for ``query``, in the mode the collection records.

        Dense (or no record): Chroma's own search. BM25 or hybrid: the searcher's, unless a
        ``filter`` or other Chroma option is given (then dense, with one warning).
        """
        mode = self._modes.mode()
        if mode != "dense" and filter is None and not kwargs:
            return [
                Document(id=hit.id, page_content=hit.document or "", metadata=dict(hit.metadata))
                for hit in self._modes.searcher.search(query, k)
            ]
        if mode != "dense":
            self._modes.served_dense(mode, "a filtered search")
        pairs = Chroma.similarity_search_with_score(self, query, k, filter=filter, **kwargs)
        return [doc for doc, _ in pairs]

    def similarity_search_with_score(
        self, query: str, k: int = 4, *args: Any, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Chroma's search with distances (dense only: a BM25 or fused score is no distance).

        Relevance scores and score thresholds go through it too.
        """
        self._dense_only("a search with scores")
        return Chroma.similarity_search_with_score(self, query, k, *args, **kwargs)

    def max_marginal_relevance_search(
        self, query: str, k: int = 4, *args: Any, **kwargs: Any
    ) -> list[Document]:
        """Chroma's MMR search (dense only)."""
        self._dense_only("an MMR search")
        return Chroma.max_marginal_relevance_search(self, query, k, *args, **kwargs)

    def _dense_only(self, what: str) -> None:
        mode = self._modes.mode()
        if mode != "dense":
            self._modes.served_dense(mode, what)
