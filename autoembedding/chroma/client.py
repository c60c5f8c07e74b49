"""Open Chroma: one connect for a path, a host or a URL, and readers that wait out a swap."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from autoembedding.chroma.errors import is_not_found
from autoembedding.errors import MissingExtraError

__all__ = ["call_with_collection", "import_chromadb"]


def import_chromadb() -> Any:
    """Import chromadb or raise an error naming the extra."""
    try:
        import chromadb
    except ImportError as exc:
        raise MissingExtraError(
            "chromadb is not installed; install it with: "
            f"pip install 'autoembedding[chroma]' ({exc})"
        ) from exc
    return chromadb


_T = TypeVar("_T")


def call_with_collection(
    client: Any,
    name: str,
    fn: Callable[[Any], _T],
    *,
    wait_s: float = 10.0,
    interval_s: float = 0.05,
) -> _T:
    """Open collection ``name`` and call ``fn(collection)``, retrying briefly while it is missing.

    ``autoembed swap`` switches a collection by renaming; for an instant the name does not exist.
    Readers that open the collection by name through this helper wait through that instant (and
    through a dropped backup) instead of failing, and always see the collection that holds the
    name now.

    Args:
        client: A Chroma client.
        name: Collection name.
        fn: What to do with the collection (e.g. ``lambda c: c.query(...)``).
        wait_s: Give up after this long without the collection.
        interval_s: Pause between tries.

    Returns:
        What ``fn`` returned.

    Raises:
        Exception: Chroma's not-found error once ``wait_s`` has passed; any other error at once.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return fn(client.get_collection(name))
        except Exception as exc:
            if not is_not_found(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(interval_s)
