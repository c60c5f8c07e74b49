"""Read a Chroma collection in pages, so memory stays bounded whatever its size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Page", "iter_pages"]


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
