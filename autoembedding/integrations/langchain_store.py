"""``BoundChroma``: a ``langchain_chroma.Chroma`` bound to its collection by name.

Built by :func:`autoembedding.integrations.langchain.chroma_store` (use that). Every operation of
the store acts on the collection that holds its name now (through a
:class:`~autoembedding.integrations.stores.FollowingCollection`), and its ``AutoEmbedding``
follows the same binding, so after ``autoembed swap`` the next query embeds with the new model and
searches the new collection. Needs ``langchain-chroma``.
"""

from __future__ import annotations

from typing import Any

from autoembedding.errors import MissingExtraError
from autoembedding.integrations.stores import CollectionBinding, FollowingCollection

try:
    from langchain_chroma import Chroma
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

    @property
    def binding(self) -> CollectionBinding:
        """The collection this store is bound to (by name)."""
        return self._binding

    @property
    def _collection(self) -> FollowingCollection:  # type: ignore[override]
        """Every operation of ``Chroma`` goes through this: the collection holding the name."""
        return self._binding.proxy
