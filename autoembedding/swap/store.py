"""The few Chroma calls every phase of a swap shares, and how a failed phase is reported.

Chroma's errors are translated by :mod:`autoembedding.chroma.errors` (by type, naming the
collection); :func:`phase_errors` then turns a failure into a
:class:`~autoembedding.errors.SwapError` that says what state was kept and how to go on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from autoembedding.chroma.errors import chroma_errors, is_not_found, translate
from autoembedding.errors import AutoEmbeddingError, CollectionError, SwapError

__all__ = [
    "MAX_NAME",
    "configuration",
    "drop",
    "free_name",
    "get_or_none",
    "iter_collections",
    "phase_errors",
    "replace_metadata",
    "space",
    "trim_name",
]

#: Chroma's longest collection name.
MAX_NAME = 512


def trim_name(base: str, suffix: str) -> str:
    """``base + suffix``, with ``base`` cut so the whole fits Chroma's 512-character limit."""
    return base[: MAX_NAME - len(suffix)] + suffix


def get_or_none(client: Any, name: str) -> Any | None:
    """Return the collection called ``name``, or ``None`` if there is none.

    Raises:
        CollectionError: If Chroma fails otherwise (``ChromaUnavailableError`` for a server
            that does not answer), naming the collection.
    """
    try:
        return client.get_collection(name)
    except Exception as exc:
        if is_not_found(exc):
            return None
        translated = translate(exc, "open", collection=name)
        if translated is exc:
            raise
        raise translated from exc


def drop(client: Any, name: str) -> None:
    """Delete collection ``name``; a missing one is not an error."""
    try:
        client.delete_collection(name)
    except Exception as exc:
        if is_not_found(exc):
            return
        translated = translate(exc, "delete", collection=name)
        if translated is exc:
            raise
        raise translated from exc


def free_name(client: Any, name: str) -> str:
    """``name``, or ``name_2``, ``name_3``, ... : the first that no collection holds."""
    candidate, n = name, 1
    while get_or_none(client, candidate) is not None:
        n += 1
        candidate = trim_name(name, f"_{n}")
    return candidate


def iter_collections(client: Any) -> Iterator[Any]:
    """Every collection of ``client`` (list_collections gives names on some Chroma versions)."""
    with chroma_errors("list the collections of"):
        items = list(client.list_collections())
    for item in items:
        if isinstance(item, str):
            with chroma_errors("open", collection=item):
                item = client.get_collection(item)
        yield item


def replace_metadata(
    collection: Any, metadata: Mapping[str, Any], old: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Make ``metadata`` the whole metadata of ``collection``; return what was sent.

    Chroma's ``modify(metadata=...)`` replaces the metadata but refuses an empty dict and any
    ``hnsw:`` key (the distance space lives in the configuration and survives). So ``hnsw:``
    keys are left out, and an empty result is written as the old keys set to ``None`` (which
    Chroma drops); with nothing to clear, nothing is written.

    Args:
        collection: The collection.
        metadata: Its new metadata.
        old: The metadata as the caller read it (its keys are cleared too; default: the
            collection object's).

    Raises:
        CollectionError: If Chroma refuses the write (translated, naming the collection).
    """
    new = {k: v for k, v in metadata.items() if not k.startswith("hnsw:")}
    sent = dict(new)
    if not sent:
        keys = {*(getattr(collection, "metadata", None) or {}), *(old or {})}
        sent = {k: None for k in keys if not str(k).startswith("hnsw:")}
    if sent:
        with chroma_errors("update the metadata of", collection=str(collection.name)):
            collection.modify(metadata=sent)
    return new


def configuration(source: Any) -> dict[str, Any]:
    """Return the distance space (and HNSW options) of ``source``, for a new collection."""
    conf = getattr(source, "configuration", None) or {}
    hnsw = conf.get("hnsw") if isinstance(conf, Mapping) else None
    found = None
    if isinstance(hnsw, Mapping):
        found = hnsw.get("space")
    spann = conf.get("spann") if isinstance(conf, Mapping) else None
    if found is None and isinstance(spann, Mapping):
        found = spann.get("space")
    if found is None:
        found = (getattr(source, "metadata", None) or {}).get("hnsw:space", "l2")
    out: dict[str, Any] = {"space": found}
    if isinstance(hnsw, Mapping):
        for key in ("ef_construction", "ef_search", "max_neighbors"):
            if hnsw.get(key) is not None:
                out[key] = hnsw[key]
    return {"hnsw": out}


def space(collection: Any) -> str:
    """The distance space of ``collection`` (``"l2"``, ``"cosine"`` or ``"ip"``)."""
    return str(configuration(collection)["hnsw"]["space"])


def failure_message(step: str, exc: BaseException, state: str) -> str:
    """``Swap failed while <step>: <cause>. <state>`` for a failure that is not a SwapError."""
    if isinstance(exc, CollectionError):  # a translated Chroma error already says enough
        detail = str(exc).rstrip(". ")
    else:
        detail = f"{type(exc).__name__}: {exc}"
    return f"Swap failed while {step}: {detail}. {state}"


@contextmanager
def phase_errors(step: str, *, state: str) -> Iterator[None]:
    """Report a failure inside the block as a :class:`SwapError` saying what was kept.

    A :class:`SwapError` and this package's other non-Chroma errors (a model's
    :class:`~autoembedding.errors.BackendError`, ...) pass unchanged; Chroma's errors (translated
    or not) and any other exception become ``SwapError("Swap failed while <step>: ... <state>")``
    raised from the original.

    Args:
        step: What was being done (``"switching names"``).
        state: What was kept and how to go on (``"Rerun the same command to resume."``).
    """
    try:
        yield
    except SwapError:
        raise
    except Exception as exc:
        if isinstance(exc, AutoEmbeddingError) and not isinstance(exc, CollectionError):
            raise
        raise SwapError(failure_message(step, exc, state)) from exc
