"""The catch-up phase: carry writes made to the source during the copy over to the staging copy.

A swap never locks the source, so records can be added, changed or deleted while it is copied.
Each *round* streams the source page by page and compares every record's content fingerprint
(:func:`~.baseline.fingerprint`: document + metadata) with the staging copy's: what is new or
changed is re-embedded with the new model and upserted, what the source no longer holds is
deleted. Rounds repeat until one finds at most a page of differences, or :data:`MAX_ROUNDS`
have run; the reconciliation right after the switch carries over the rest. The first round
compares with the staging copy itself; later rounds compare with the baseline (the copy's
fingerprints), which is much smaller to read.

Each round also keeps the baseline collection equal to the fingerprints of the staging copy, and
the first round verifies the copy: every vector must have the model's dimension, and a sample of
records re-embedded must match the stored vectors (cosine above the tolerance the swap's
self-check derived, :func:`~.verify.tolerance_from`; at most :data:`MIN_COSINE`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.pages import Page, iter_pages
from autoembedding.swap.baseline import (
    Content,
    delete_fps,
    delete_records,
    exact_metadatas,
    fingerprint,
    read_content,
    read_fps,
    write_fps,
)
from autoembedding.swap.copy import embed_page
from autoembedding.swap.verify import MIN_COSINE, Sample

__all__ = ["MAX_ROUNDS", "MIN_COSINE", "CatchUp", "catch_up", "catch_up_round"]

#: Catch-up rounds before the switch goes ahead anyway.
MAX_ROUNDS = 3


@dataclass(frozen=True)
class CatchUp:
    """What catch-up rounds did.

    Attributes:
        rounds: Rounds run.
        upserted: Records (re-)embedded and written to the staging copy.
        deleted: Records deleted from the staging copy (gone from the source).
        checked: Stored vectors re-embedded and compared (first round only).
        clean: Whether the last round found nothing to do.
    """

    rounds: int = 0
    upserted: int = 0
    deleted: int = 0
    checked: int = 0
    clean: bool = True


def catch_up(
    source: Any,
    staging: Any,
    baseline: Any,
    adapter: Any,
    *,
    page_size: int = 256,
    sample: int = 64,
    max_rounds: int = MAX_ROUNDS,
    tolerance: float = MIN_COSINE,
) -> CatchUp:
    """Run rounds until one finds at most a page of differences, or ``max_rounds`` have run.

    Args:
        source: The collection being moved.
        staging: Its staging copy.
        baseline: The baseline collection (fingerprints of the staging copy).
        adapter: The new model.
        page_size: Records read at a time.
        sample: Vectors to re-embed and compare in the first round.
        max_rounds: At most this many rounds.
        tolerance: A sampled vector must match a fresh embedding above this cosine.

    Raises:
        SwapError: If a record cannot be moved (no document, duplicate ids) or a stored vector
            does not match a fresh embedding.
    """
    total = CatchUp()
    for n in range(1, max_rounds + 1):
        result = catch_up_round(
            source, staging, baseline, adapter, page_size=page_size, sample=sample,
            verify=n == 1, tolerance=tolerance,
        )  # fmt: skip
        total = CatchUp(
            rounds=n,
            upserted=total.upserted + result.upserted,
            deleted=total.deleted + result.deleted,
            checked=total.checked + result.checked,
            clean=result.clean,
        )
        if result.clean or result.upserted + result.deleted <= page_size:
            break  # what is left is no more than a page: the reconciliation carries it over
    return total


def catch_up_round(
    source: Any,
    staging: Any,
    baseline: Any,
    adapter: Any,
    *,
    page_size: int = 256,
    sample: int = 0,
    verify: bool = False,
    tolerance: float = MIN_COSINE,
) -> CatchUp:
    """One pass over the source and the staging copy; see the module docstring."""
    source_name = str(source.name)
    with chroma_errors("count the records of", collection=source_name):
        count = int(source.count())
    per_page = 0
    if verify and sample > 0:
        per_page = math.ceil(sample / max(1, math.ceil(count / page_size)))
    upserted = 0
    drawn = Sample()
    pages = iter_pages(source, page_size)
    while True:
        with chroma_errors("read", collection=source_name):
            page = next(pages, None)
        if page is None:
            break
        fps = [fingerprint(d, m) for d, m in zip(page.documents, page.metadatas, strict=True)]
        stored = read_fps(baseline, page.ids)
        if verify:  # compare with the copy itself (and its vectors); fills the baseline
            have = read_content(staging, page.ids, embeddings=True)
            changed = _changed(page, fps, have, int(adapter.dim))
        else:  # the baseline holds the copy's fingerprints: read the copy only where it differs
            changed = [k for k, i in enumerate(page.ids) if stored.get(i) != fps[k]]
            have = read_content(staging, [page.ids[k] for k in changed])
        if changed:
            upsert_picked(staging, adapter, page, changed, have)
            upserted += len(changed)
        due = {i: fp for i, fp in zip(page.ids, fps, strict=True) if stored.get(i) != fp}
        write_fps(baseline, due)
        if per_page:
            stored = {i: content[2] for i, content in have.items()}
            drawn.draw(page, stored, per_page, skip=set(changed))
    checked = drawn.check(adapter, tolerance)
    gone = _gone(source, staging, page_size)
    if gone:
        delete_records(staging, gone)
        delete_fps(baseline, gone)
    # Filling the baseline is no difference from the source: a page skipped because a write
    # moved the offsets shows up as an upsert or a delete, so the round is not clean then.
    clean = not (upserted or gone)
    return CatchUp(1, upserted, len(gone), checked, clean)


def _changed(page: Page, fps: list[str], have: dict[str, Content], dim: int) -> list[int]:
    """Positions in ``page`` whose staging record is missing, differs or has a bad vector."""
    out = []
    for k, i in enumerate(page.ids):
        got = have.get(i)
        if got is None or fingerprint(got[0], got[1]) != fps[k]:
            out.append(k)
        elif got[2] is None or len(got[2]) != dim:
            out.append(k)
    return out


def upsert_picked(
    target: Any, adapter: Any, page: Page, picks: list[int], have: dict[str, Content]
) -> None:
    """Embed the picked records of ``page`` and upsert them into ``target`` exactly."""
    sub = Page(
        offset=page.offset,
        ids=[page.ids[k] for k in picks],
        documents=[page.documents[k] for k in picks],
        metadatas=[page.metadatas[k] for k in picks],
    )
    vectors = embed_page(adapter, sub)
    old = [have[i][1] if i in have else None for i in sub.ids]
    with chroma_errors("write to", collection=str(target.name)):
        target.upsert(
            ids=sub.ids,
            embeddings=vectors,
            documents=sub.documents,
            metadatas=exact_metadatas(sub.metadatas, old),
        )


def _gone(source: Any, staging: Any, page_size: int) -> list[str]:
    """Ids the staging copy holds and the source no longer does."""
    gone: list[str] = []
    pages = iter_pages(staging, page_size, include=())
    while True:
        with chroma_errors("read", collection=str(staging.name)):
            page = next(pages, None)
        if page is None:
            return gone
        with chroma_errors("read", collection=str(source.name)):
            present = set(source.get(ids=page.ids, include=[])["ids"])
        gone.extend(i for i in page.ids if i not in present)
