"""What callers of an adapter rely on: the :class:`EmbeddingAdapter` protocol and input checks.

:class:`~autoembedding.adapters.base.BaseAdapter` implements it; any object with these members
works wherever an adapter is expected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from autoembedding.errors import InvalidArgumentError

__all__ = ["EmbeddingAdapter", "check_text", "validate_texts"]


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


#: A UTF-16 surrogate on its own: not text, and no tokenizer or HTTP API can encode it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(text: str, name: str) -> None:
    """Refuse a string holding a lone surrogate (not valid Unicode), naming where it is.

    Such strings come from decoding bytes with ``errors="surrogateescape"`` or from broken
    JSON; every backend would fail on them deep inside a tokenizer or an HTTP client.

    Args:
        text: The string to check.
        name: What to call it in the message (``"texts[3]"``, ``"text"``).

    Raises:
        InvalidArgumentError: If ``text`` holds a lone surrogate.
    """
    bad = _LONE_SURROGATE.search(text)
    if bad is not None:
        raise InvalidArgumentError(
            f"{name} holds a lone surrogate (U+{ord(bad.group()):04X} at character "
            f"{bad.start()}), which is not valid Unicode text. Decode the source with "
            "errors='replace' or fix the text before embedding.",
            argument=name,
        )


def validate_texts(texts: Sequence[str]) -> list[str]:
    """Check that ``texts`` is a sequence of valid strings and return it as a list.

    Args:
        texts: What a caller passed as documents.

    Returns:
        The same texts as a list.

    Raises:
        InvalidArgumentError: If ``texts`` is a single string or not a sequence, or an item is
            not a string (a ``TypeError`` too) or holds a lone surrogate (a ``ValueError`` too);
            the message names the index of the first bad item.
    """
    if isinstance(texts, (str, bytes)):
        raise InvalidArgumentError(
            "embed_documents() takes a list of strings, got a single string; "
            "wrap it in a list or call embed_query().",
            argument="texts",
        )
    try:
        items = list(texts)
    except TypeError:
        raise InvalidArgumentError(
            f"embed_documents() takes a list of strings, got {type(texts).__name__}.",
            argument="texts",
        ) from None
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidArgumentError(
                f"Text at index {index} is {type(item).__name__} ({item!r:.60}), not str. "
                "Replace None/non-text items (e.g. with '') or drop them before embedding.",
                argument=f"texts[{index}]",
            )
        check_text(item, f"Text at index {index}")
    return items
