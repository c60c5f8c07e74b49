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

__all__ = ["MIN_COSINE", "check_copy", "check_sample", "sample_picks", "verify_copy"]

#: A re-embedded record must match its stored vector above this cosine.
MIN_COSINE = 0.999


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
        raise SwapError(
            f"Verification failed: the staging collection {staging.name!r} holds {got} records, "
            f"the source {source.name!r} {total}. The source probably changed during the swap."
        )
    n_pages = max(1, math.ceil(total / page_size))
    per_page = math.ceil(sample / n_pages) if sample > 0 else 0
    checked = 0
    pages = iter_pages(source, page_size)
    while True:
        with chroma_errors("read", collection=str(source.name)):
            page = next(pages, None)
        if page is None:
            return checked
        checked += _check_page(page, staging, adapter, per_page)


def _check_page(page: Page, staging: Any, adapter: Any, per_page: int) -> int:
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
            raise SwapError(f"Verification failed: id {i!r} is missing from the copy.")
        d2, m2, e2 = by_id[i]
        if d2 != doc or (m2 or None) != (meta or None):
            raise SwapError(
                f"Verification failed: record {i!r} differs between source and copy. "
                "The source probably changed during the swap."
            )
        if len(e2) != dim:
            raise SwapError(
                f"Verification failed: record {i!r} has a {len(e2)}-d vector, expected {dim}."
            )
    return check_sample(page, {i: row[2] for i, row in by_id.items()}, adapter, per_page)


def sample_picks(page: Page, per_page: int) -> list[int]:
    """The positions in ``page`` whose vectors are re-embedded: seeded by the page's offset."""
    rng = np.random.default_rng(page.offset)
    drawn = rng.choice(len(page.ids), size=min(per_page, len(page.ids)), replace=False)
    return [int(p) for p in drawn]


def check_sample(
    page: Page,
    stored: Mapping[str, Any],
    adapter: Any,
    per_page: int,
    *,
    skip: Collection[int] = (),
) -> int:
    """Re-embed a seeded sample of ``page`` and compare with the stored vectors.

    Args:
        page: The source page (ids and documents).
        stored: The stored vectors, by id.
        adapter: The model that made the stored vectors.
        per_page: How many records of the page to draw.
        skip: Positions not to check (records changed since they were stored).

    Returns:
        How many vectors were compared.

    Raises:
        SwapError: If a stored vector does not match a fresh embedding (cosine <= MIN_COSINE).
    """
    if not per_page:
        return 0
    picks = [p for p in sample_picks(page, per_page) if p not in skip]
    if not picks:
        return 0
    ids = [page.ids[p] for p in picks]
    fresh = np.asarray(adapter.embed_documents([page.documents[p] for p in picks]))
    vectors = np.asarray([stored[i] for i in ids], dtype=np.float32)
    cos = (l2_normalize(fresh) * l2_normalize(vectors)).sum(axis=1)
    if (cos <= MIN_COSINE).any():
        bad = ids[int(np.argmin(cos))]
        raise SwapError(
            f"Verification failed: the stored vector of {bad!r} does not match a fresh "
            f"embedding (cosine {float(cos.min()):.4f} <= {MIN_COSINE}); the model is not "
            "deterministic or the copy is corrupt."
        )
    return len(ids)
