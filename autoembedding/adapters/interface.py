"""What callers of an adapter rely on: the :class:`EmbeddingAdapter` protocol and input checks.

:class:`~autoembedding.adapters.base.BaseAdapter` implements it; any object with these members
works wherever an adapter is expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["EmbeddingAdapter", "validate_texts"]


@runtime_checkable
class EmbeddingAdapter(Protocol):
    """What every adapter offers; all that callers may rely on."""

    @property
    def name(self) -> str:
        """A unique, human-readable name of the model and its options."""
        ...

    @property
    def dim(self) -> int:
        """The dimension of the vectors it returns (after truncation)."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents with the document prompt; returns ``(n, dim)`` float32."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query with the query prompt; returns ``(dim,)`` float32."""
        ...


def validate_texts(texts: Sequence[str]) -> list[str]:
    """Check that ``texts`` is a sequence of strings and return it as a list.

    Args:
        texts: What a caller passed as documents.

    Returns:
        The same texts as a list.

    Raises:
        TypeError: If ``texts`` is a single string or not a sequence, or if an item is not a
            string; the message names the index of the first bad item.
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            "embed_documents() takes a list of strings, got a single string; "
            "wrap it in a list or call embed_query()."
        )
    try:
        items = list(texts)
    except TypeError as exc:
        raise TypeError(
            f"embed_documents() takes a list of strings, got {type(texts).__name__}."
        ) from exc
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(
                f"Text at index {index} is {type(item).__name__} ({item!r:.60}), not str. "
                "Replace None/non-text items (e.g. with '') or drop them before embedding."
            )
    return items
