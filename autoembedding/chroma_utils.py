"""Small helpers around a Chroma collection, shared by the integrations, the selector and swap.

Chroma is imported lazily by callers; these helpers only use the collection object they are
given, so they work the same on an embedded ``PersistentClient`` and on an ``HttpClient``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from autoembedding.errors import MissingExtraError, ModelMismatchError
from autoembedding.record import METADATA_PREFIX, ModelRecord

__all__ = [
    "Page",
    "call_with_collection",
    "check_record",
    "get_record",
    "import_chromadb",
    "is_not_found",
    "iter_pages",
    "merged_metadata",
    "write_record",
]


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


@dataclass(frozen=True)
class Page:
    """One page of a collection read by :func:`iter_pages`."""

    offset: int
    ids: list[str]
    documents: list[str | None]
    metadatas: list[dict[str, Any] | None]
    embeddings: Any = None


def iter_pages(
    collection: Any,
    page_size: int = 256,
    *,
    include: Sequence[str] = ("documents", "metadatas"),
    start: int = 0,
    limit: int | None = None,
) -> Iterator[Page]:
    """Read a collection in pages of ``page_size`` (memory stays bounded).

    Args:
        collection: A Chroma collection.
        page_size: Records per page.
        include: What to fetch besides ids (``documents``, ``metadatas``, ``embeddings``).
        start: Offset of the first record.
        limit: Stop after this many records (all when ``None``).

    Yields:
        :class:`Page` objects in collection order.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}.")
    offset, seen = start, 0
    while limit is None or seen < limit:
        size = page_size if limit is None else min(page_size, limit - seen)
        got = collection.get(limit=size, offset=offset, include=list(include))
        ids = list(got.get("ids") or [])
        if not ids:
            return
        docs = got.get("documents")
        metas = got.get("metadatas")
        embs = got.get("embeddings")
        yield Page(
            offset=offset,
            ids=ids,
            documents=list(docs) if docs is not None else [None] * len(ids),
            metadatas=list(metas) if metas is not None else [None] * len(ids),
            embeddings=embs,
        )
        offset += len(ids)
        seen += len(ids)
        if len(ids) < size:
            return


def get_record(collection: Any) -> ModelRecord | None:
    """The model record stored in a collection's metadata, if any."""
    return ModelRecord.from_metadata(getattr(collection, "metadata", None))


def merged_metadata(existing: dict[str, Any] | None, record: ModelRecord) -> dict[str, Any]:
    """Collection metadata with ``record`` written in and other keys kept."""
    kept = {k: v for k, v in (existing or {}).items() if not k.startswith(METADATA_PREFIX)}
    return {**kept, **record.to_metadata()}


def write_record(collection: Any, record: ModelRecord) -> None:
    """Store ``record`` in the collection's metadata (keeping the user's own keys)."""
    metadata = merged_metadata(getattr(collection, "metadata", None), record)
    # Chroma refuses to change the distance space through modify(); never send hnsw keys back.
    metadata = {k: v for k, v in metadata.items() if not k.startswith("hnsw:")}
    collection.modify(metadata=metadata)


def check_record(collection: Any, record: ModelRecord, *, action: str = "use") -> None:
    """Refuse to write or query a collection whose vectors came from another model.

    Args:
        collection: The Chroma collection.
        record: The model about to be used.
        action: What is about to happen, for the message (``"add to"``, ``"query"``).

    Raises:
        ModelMismatchError: If the collection records another model; says how to migrate.
    """
    stored = get_record(collection)
    if stored is None or stored.same_vectors_as(record):
        return
    name = getattr(collection, "name", "?")
    raise ModelMismatchError(
        f"Collection {name!r} holds vectors made by {stored.describe()}, but you asked to "
        f"{action} it with {record.describe()}. Mixing models gives meaningless results. "
        f"Use model={stored.model_id!r} (AutoEmbedding(collection=...) does this for you), or "
        f"migrate the collection: autoembed swap --collection {name} --model {record.model_id} "
        "(or autoembedding.selector.swap)."
    )


_T = TypeVar("_T")


def is_not_found(exc: BaseException) -> bool:
    """Whether a Chroma exception means "this collection does not exist" (embedded or HTTP)."""
    text = str(exc).lower()
    return type(exc).__name__ in ("NotFoundError", "InvalidCollectionException") or (
        "does not exist" in text or "not found" in text
    )


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
