"""The framework stores serve the retrieval mode their collection records (#24.5).

After ``autoembed swap --model bm25`` (or a hybrid), the collection's record says ``lexical`` or
``hybrid``, and the store helpers' objects (``chroma_store`` in LangChain, ``chroma_vector_store``
in LlamaIndex) must serve it, not the dense vectors alone: their text searches go through the
same :class:`~autoembedding.retrieval.search.Searcher` as ``AutoRetriever``. A call that cannot
be served in that mode (a metadata filter, MMR, a search by vector) is served dense, with one
warning per store and call kind naming ``AutoRetriever``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from autoembedding.errors import AutoEmbeddingWarning
from autoembedding.warn import warn_user

if TYPE_CHECKING:
    from autoembedding.retrieval.binding import CollectionBinding
    from autoembedding.retrieval.search import Searcher

__all__ = ["RecordedMode"]


class RecordedMode:
    """The mode a bound store's collection records now, and its searcher.

    Args:
        binding: The store's collection binding (shared: the record is re-read on its
            ``recheck_s`` schedule, so a swap is followed).
        store: The store's class name, for the warning.
    """

    def __init__(self, binding: CollectionBinding, store: str) -> None:
        self._binding = binding
        self._store = store
        self._searcher: Searcher | None = None
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    @property
    def searcher(self) -> Searcher:
        """The searcher over the bound collection (built on first use)."""
        with self._lock:
            if self._searcher is None:
                from autoembedding.retrieval.search import Searcher

                self._searcher = Searcher(binding=self._binding)
            return self._searcher

    def mode(self) -> str:
        """``"dense"``, ``"lexical"`` or ``"hybrid"``, as the collection records it now."""
        self._binding.refresh()  # at most once per recheck_s: follows a swap
        record = self._binding.record()
        return "dense" if record is None else record.retrieval

    def served_dense(self, mode: str, what: str) -> None:
        """Warn once per kind of call that ``what`` was served dense in a ``mode`` collection."""
        with self._lock:
            if what in self._warned:
                return
            self._warned.add(what)
        warn_user(
            f"Collection {self._binding.name!r} serves {mode} retrieval (its record says so, "
            f"e.g. after autoembed swap), but {self._store} cannot serve {what} that way: it "
            "searched the dense vectors only. Plain text searches of this store follow the "
            "record; for the recorded mode with this call, use AutoRetriever "
            "(autoembedding.integrations.langchain or .llama_index).",
            AutoEmbeddingWarning,
        )
