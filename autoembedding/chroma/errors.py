"""Chroma's errors, and its transport's, translated once into this package's types.

Every call into Chroma that can fail for a reason the user must act on runs inside
:func:`chroma_errors`; the rest of the package catches only its own types
(:class:`~autoembedding.errors.CollectionNotFoundError`,
:class:`~autoembedding.errors.ChromaUnavailableError`,
:class:`~autoembedding.errors.CollectionError`). Errors are recognised by type, never by their
message text: ``chromadb.errors`` for Chroma's own, ``httpx.TransportError`` and the built-in
``ConnectionError`` for a server that is not there, ``sqlite3.Error`` and ``OSError`` for a
database folder that cannot be used.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from autoembedding.errors import (
    AutoEmbeddingError,
    ChromaUnavailableError,
    CollectionError,
    CollectionNotFoundError,
)

__all__ = ["chroma_errors", "is_connection_error", "is_not_found", "translate"]


def _chroma_error_types() -> tuple[type[BaseException], ...]:
    """``(NotFoundError, InvalidArgumentError, ChromaError)``, or empty types without chromadb."""
    try:
        from chromadb.errors import ChromaError, InvalidArgumentError, NotFoundError
    except ImportError:  # pragma: no cover - chromadb is an extra
        return ()
    return NotFoundError, InvalidArgumentError, ChromaError


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or during, innermost last."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_not_found(exc: BaseException) -> bool:
    """Whether ``exc`` means "this collection does not exist" (embedded or HTTP client)."""
    if isinstance(exc, CollectionNotFoundError):
        return True
    types = _chroma_error_types()
    return bool(types) and isinstance(exc, types[0])


def is_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) means the Chroma server cannot be reached."""
    try:
        import httpx

        transport: tuple[type[BaseException], ...] = (httpx.TransportError, ConnectionError)
    except ImportError:  # pragma: no cover - httpx comes with chromadb
        transport = (ConnectionError,)
    return any(isinstance(item, transport) for item in _chain(exc))


def translate(
    exc: BaseException,
    action: str,
    *,
    collection: str | None = None,
    where: str | None = None,
) -> BaseException:
    """This package's error for a foreign one, or ``exc`` itself when it is not recognised.

    Args:
        exc: What Chroma (or its transport) raised.
        action: What was being done, for the message (``"open collection"``, ``"add to"``).
        collection: The collection's name, if one was involved.
        where: The database path or server URL, if known.

    Returns:
        A :class:`CollectionNotFoundError`, :class:`ChromaUnavailableError` or
        :class:`CollectionError` that names the collection and the place; ``exc`` unchanged if
        it is already ours or not a Chroma, transport or database error.
    """
    if isinstance(exc, AutoEmbeddingError):
        return exc
    what = f"collection {collection!r}" if collection else "Chroma"
    place = f" at {where}" if where else ""
    detail = f"{type(exc).__name__}: {exc}"
    if is_not_found(exc):
        return CollectionNotFoundError(
            f"Could not {action} {what}{place}: it does not exist ({detail}). List the "
            "collections with client.list_collections(), or create it first."
        )
    if is_connection_error(exc):
        return ChromaUnavailableError(
            f"Could not {action} {what}: no Chroma server answers{place or ''} ({detail}). Start "
            "one (chroma run --path <dir> --port <port>) or check the host and port."
        )
    types = _chroma_error_types()
    if types and isinstance(exc, types[1]):
        return CollectionError(f"Chroma refused to {action} {what}{place}: {exc}")
    if (types and isinstance(exc, types[2])) or isinstance(exc, (sqlite3.Error, OSError)):
        return CollectionError(
            f"Could not {action} {what}{place}: the database failed ({detail}). Check that the "
            "path is a Chroma database folder you can write to and that the disk is not full."
        )
    return exc


@contextmanager
def chroma_errors(
    action: str, *, collection: str | None = None, where: str | None = None
) -> Iterator[None]:
    """Run a block of Chroma calls, translating their errors with :func:`translate`.

    Example:
        >>> with chroma_errors("open collection", collection="docs"):  # doctest: +SKIP
        ...     client.get_collection("docs")
    """
    try:
        yield
    except Exception as exc:
        translated = translate(exc, action, collection=collection, where=where)
        if translated is exc:
            raise
        raise translated from exc
