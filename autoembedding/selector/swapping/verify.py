"""A strict, stand-alone check of a staging copy against its source (no writes allowed meanwhile).

:func:`~autoembedding.selector.swapping.swap` verifies in its catch-up phase
(:mod:`~.catchup`), which tolerates writes made during the swap; :func:`verify_copy` is for
callers that run the phases themselves on a source nobody writes to.

The source is streamed again page by page. The copy must hold the same count and, for every id,
the same document and metadata and a vector of the model's dimension; a sample of records,
re-embedded, must match the stored vectors (cosine > :data:`MIN_COSINE`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from autoembedding.adapters.quantize import l2_normalize
from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.pages import Page, iter_pages
from autoembedding.errors import SwapError
from autoembedding.selector.swapping.journal import Journal
from autoembedding.selector.swapping.store import drop, get_or_none, phase_errors

__all__ = [
    "MIN_COSINE",
    "Sample",
    "VerificationError",
    "check_copy",
    "sample_picks",
    "verify_copy",
]

#: A re-embedded record must match its stored vector above this cosine.
MIN_COSINE = 0.999


class VerificationError(SwapError):
    """A copy does not match its source: a record differs, or a vector is not the model's."""


def verify_copy(
    client: Any,
    name: str,
    staging: str,
    adapter: Any,
    journal: Journal,
    *,
    page_size: int = 256,
    sample: int = 64,
) -> int:
    """Verify the staging copy of ``name`` (the swap's verify phase); return vectors re-embedded.

    A copy that does not match is dropped (the original is untouched), so a rerun copies afresh.

    Args:
        client: The Chroma client holding both collections.
        name: The source collection's name.
        staging: The staging collection's name.
        adapter: The new model, to re-embed the sample.
        journal: The staging journal; its source count is the expected number of records.
        page_size: Records read at a time.
        sample: How many stored vectors to re-embed and compare.

    Returns:
        The number of vectors re-embedded and compared.

    Raises:
        SwapError: If the copy differs (it has been dropped), or Chroma fails (rerun to resume).
    """
    with phase_errors("verifying the copy", state="Rerun the same command to resume."):
        source = get_or_none(client, name)
        copy = get_or_none(client, staging)
        if source is None or copy is None:
            missing = name if source is None else staging
            raise SwapError(
                f"Cannot verify the copy: collection {missing!r} is gone; nothing was renamed."
            )
        try:
            return check_copy(
                source,
                copy,
                adapter,
                total=journal.source_count or 0,
                page_size=page_size,
                sample=sample,
            )
        except SwapError as exc:
            drop(client, staging)
            raise SwapError(
                f"{exc} The staging copy {staging!r} was removed and the original is untouched; "
                "rerun to copy afresh."
            ) from exc


def check_copy(
    source: Any, staging: Any, adapter: Any, *, total: int, page_size: int = 256, sample: int = 64
) -> int:
    """Compare ``staging`` with ``source`` page by page; return vectors re-embedded.

    Raises:
        SwapError: At the first difference, naming the record.
    """
    with chroma_errors("count the records of", collection=str(staging.name)):
        got = staging.count()
    if got != total:
        raise VerificationError(
            f"Verification failed: the staging collection {staging.name!r} holds {got} records, "
            f"the source {source.name!r} {total}. The source probably changed during the swap."
        )
    n_pages = max(1, math.ceil(total / page_size))
    per_page = math.ceil(sample / n_pages) if sample > 0 else 0
    drawn = Sample()
    pages = iter_pages(source, page_size)
    while True:
        with chroma_errors("read", collection=str(source.name)):
            page = next(pages, None)
        if page is None:
            return drawn.check(adapter)
        _check_page(page, staging, adapter, per_page, drawn)


def _check_page(page: Page, staging: Any, adapter: Any, per_page: int, drawn: Sample) -> None:
    with chroma_errors("read", collection=str(staging.name)):
        new = staging.get(ids=page.ids, include=["documents", "metadatas", "embeddings"])
    by_id = {
        i: (d, m, e)
        for i, d, m, e in zip(
            new["ids"], new["documents"], new["metadatas"], new["embeddings"], strict=True
        )
    }
    dim = int(adapter.dim)
    for i, doc, meta in zip(page.ids, page.documents, page.metadatas, strict=True):
        if i not in by_id:
            raise VerificationError(f"Verification failed: id {i!r} is missing from the copy.")
        d2, m2, e2 = by_id[i]
        if d2 != doc or (m2 or None) != (meta or None):
            raise VerificationError(
                f"Verification failed: record {i!r} differs between source and copy. "
                "The source probably changed during the swap."
            )
        if len(e2) != dim:
            raise VerificationError(
                f"Verification failed: record {i!r} has a {len(e2)}-d vector, expected {dim}."
            )
    drawn.draw(page, {i: row[2] for i, row in by_id.items()}, per_page)


def sample_picks(page: Page, per_page: int) -> list[int]:
    """The positions in ``page`` whose vectors are re-embedded: seeded by the page's offset."""
    rng = np.random.default_rng(page.offset)
    drawn = rng.choice(len(page.ids), size=min(per_page, len(page.ids)), replace=False)
    return [int(p) for p in drawn]


class Sample:
    """Records drawn page by page for re-embedding, compared in one batch by :meth:`check`.

    Drawing while streaming and embedding once at the end gives the model one batch instead of
    a few texts per page; it holds at most the sample (ids, documents, stored vectors).
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.documents: list[str] = []
        self.vectors: list[Any] = []

    def draw(
        self, page: Page, stored: Mapping[str, Any], per_page: int, *, skip: Collection[int] = ()
    ) -> None:
        """Add ``per_page`` seeded picks of ``page`` (not ``skip``) with their stored vectors."""
        if not per_page:
            return
        for p in sample_picks(page, per_page):
            if p not in skip:
                self.ids.append(page.ids[p])
                self.documents.append(page.documents[p] or "")
                self.vectors.append(stored[page.ids[p]])

    def check(self, adapter: Any) -> int:
        """Re-embed the drawn documents and compare with their stored vectors.

        Returns:
            How many vectors were compared.

        Raises:
            SwapError: If a stored vector does not match a fresh embedding
                (cosine <= MIN_COSINE).
        """
        if not self.ids:
            return 0
        fresh = np.asarray(adapter.embed_documents(self.documents))
        vectors = np.asarray(self.vectors, dtype=np.float32)
        cos = (l2_normalize(fresh) * l2_normalize(vectors)).sum(axis=1)
        if (cos <= MIN_COSINE).any():
            bad = self.ids[int(np.argmin(cos))]
            raise VerificationError(
                f"Verification failed: the stored vector of {bad!r} does not match a fresh "
                f"embedding (cosine {float(cos.min()):.4f} <= {MIN_COSINE}); the model is not "
                "deterministic or the copy is corrupt."
            )
        return len(self.ids)
