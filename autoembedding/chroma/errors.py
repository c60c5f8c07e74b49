"""Chroma's errors, and its transport's, translated once into this package's types.

Every call into Chroma that can fail for a reason the user must act on runs inside
:func:`chroma_errors`; the rest of the package catches only its own types
(:class:`~autoembedding.errors.CollectionNotFoundError`,
:class:`~autoembedding.errors.ChromaUnavailableError`,
:class:`~autoembedding.errors.CollectionError`). Errors are recognised by type, never by their
message text: ``chromadb.errors`` for Chroma's own, ``httpx.TransportError`` and the built-in
``ConnectionError`` for a server that is not there, ``sqlite3.Error`` and ``OSError`` for a
database folder that cannot be used. The one plain ``ValueError`` Chroma raises that must be told
apart, an embedding-function conflict on ``get_collection``, is recognised by the Chroma function
that raised it (:func:`is_function_conflict`), not by its text.
"""

from __future__ import annotations

import shlex
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from autoembedding.chroma.flags import location_flags
from autoembedding.errors import (
    AutoEmbeddingError,
    ChromaUnavailableError,
    CollectionError,
    CollectionNotFoundError,
    ModelMismatchError,
)

__all__ = [
    "chroma_errors",
    "is_connection_error",
    "is_function_conflict",
    "is_not_found",
    "translate",
]

#: The chromadb functions that raise a plain ``ValueError`` when the embedding function passed to
#: ``get_collection``/``create_collection`` is not the one persisted with the collection.
_CONFLICT_CHECKS = frozenset(
    {
        ("chromadb.api.collection_configuration", "validate_embedding_function_conflict_on_get"),
        (
            "chromadb.api.collection_configuration",
            "validate_embedding_function_conflict_on_create",
        ),
    }
)


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


def _raised_in(tb: TracebackType | None) -> tuple[str, str] | None:
    """``(module, function)`` of the innermost frame of a traceback."""
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    return str(frame.f_globals.get("__name__", "")), frame.f_code.co_name


def is_function_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is Chroma refusing an embedding function other than the persisted one.

    chromadb 1.x raises a plain ``ValueError`` for this; it is told apart from every other
    ``ValueError`` by where it was raised (Chroma's conflict check), never by its message.
    """
    return type(exc) is ValueError and _raised_in(exc.__traceback__) in _CONFLICT_CHECKS


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
        A :class:`CollectionNotFoundError`, :class:`ChromaUnavailableError`,
        :class:`ModelMismatchError` (embedding-function conflict) or :class:`CollectionError`
        that names the collection and the place; ``exc`` unchanged if it is already ours or not
        a Chroma, transport or database error.
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
    if is_function_conflict(exc):
        return ModelMismatchError(
            f"Could not {action} {what}{place}: it was made with another embedding function "
            f"({detail}), so its vectors came from another model. Open it without an embedding "
            f"function, or migrate it: autoembed swap {location_flags(where)} --collection "
            f"{shlex.quote(collection or '<name>')} --model <id>."
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
