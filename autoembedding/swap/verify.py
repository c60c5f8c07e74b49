"""A strict, stand-alone check of a staging copy against its source (no writes allowed meanwhile).

:func:`~autoembedding.swap.swap` verifies in its catch-up phase
(:mod:`~.catchup`), which tolerates writes made during the swap; :func:`verify_copy` is for
callers that run the phases themselves on a source nobody writes to.

The source is streamed again page by page. The copy must hold the same count and, for every id,
the same document and metadata and a vector of the model's dimension; a sample of records,
re-embedded, must match the stored vectors (cosine above the swap's tolerance).

**The tolerance comes from the model itself.** Before anything is copied,
:func:`self_check` embeds a few texts of the verification sample (:data:`SELF_CHECK_TEXTS` of
the source's first page, drawn as verification draws them) twice: together in one batch, the way
the copy hands a page to the model, and again one by one. Their lowest cosine is how well the
model reproduces its own vectors. A model below :data:`FLOOR_COSINE` + :data:`SELF_CHECK_MARGIN`
is refused there (:class:`SelfCheckError`, nothing written). Otherwise the verification demands
``cosine > tolerance`` with ``tolerance = max(FLOOR_COSINE, min(MIN_COSINE, measured -
SELF_CHECK_MARGIN))`` (:func:`tolerance_from`): 0.999 for a bitwise-stable local model, a little
lower for one that answers over HTTP with a slightly different vector each time, never below
0.99 (a corrupt vector is far below that).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from autoembedding.adapters.quantize import l2_normalize
from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.pages import Page, iter_pages
from autoembedding.errors import SwapError
from autoembedding.swap.journal import Journal
from autoembedding.swap.store import drop, get_or_none, phase_errors

__all__ = [
    "FLOOR_COSINE",
    "MIN_COSINE",
    "SELF_CHECK_MARGIN",
    "SELF_CHECK_TEXTS",
    "Sample",
    "SelfCheck",
    "SelfCheckError",
    "VerificationError",
    "batch_invariant",
    "check_copy",
    "sample_picks",
    "self_check",
    "tolerance_from",
    "verify_copy",
]

#: The highest tolerance: a re-embedded record of a bitwise-stable model must match its stored
#: vector above this cosine.
MIN_COSINE = 0.999

#: The lowest tolerance a verification accepts; a model that cannot reproduce its own vectors to
#: this plus :data:`SELF_CHECK_MARGIN` is refused before the copy.
FLOOR_COSINE = 0.99

#: How far below the self-check's measured minimum the tolerance is set.
SELF_CHECK_MARGIN = 0.001

#: Texts the self-check embeds twice (at most the verification sample).
SELF_CHECK_TEXTS = 16

#: Records named in a failed verification's message.
NAMED = 5


class VerificationError(SwapError):
    """A copy does not match its source: a record differs, or a vector is not the model's."""


class SelfCheckError(SwapError):
    """The target model does not reproduce its own vectors well enough to verify a copy."""


def tolerance_from(measured: float) -> float:
    """The verification's tolerance for a model whose self-check measured ``measured``.

    >>> tolerance_from(1.0), tolerance_from(0.9995), tolerance_from(0.95)
    (0.999, 0.9985, 0.99)
    """
    return round(max(FLOOR_COSINE, min(MIN_COSINE, measured - SELF_CHECK_MARGIN)), 6)


def batch_invariant(adapter: Any) -> bool:
    """Whether ``adapter`` is known to give a text the same vector whatever its batch.

    An adapter says so with a ``batch_invariant`` attribute. Without one, only the fake
    backend's adapters are (a hashed bag of words, per text by construction: the self-check
    would only cost the unit tests' call budgets); every real backend is measured.
    """
    declared = getattr(adapter, "batch_invariant", None)
    if declared is not None:
        return bool(declared)
    from autoembedding.adapters.fake import FakeAdapter

    return isinstance(adapter, FakeAdapter)


@dataclass(frozen=True)
class SelfCheck:
    """What :func:`self_check` measured.

    Attributes:
        texts: Texts embedded twice (0: no verification sample, nothing measured).
        min_cosine: Their lowest cosine, batched vs alone (1.0 when nothing was measured).
        worst: The id of the record with that cosine (``None`` when nothing was measured).
        tolerance: The verification's tolerance derived from it (:func:`tolerance_from`).
    """

    texts: int = 0
    min_cosine: float = 1.0
    worst: str | None = None
    tolerance: float = MIN_COSINE

    def note(self) -> str:
        """One sentence for the swap's summary."""
        if not self.texts:
            return "No self-check (no verification sample, or a batch-invariant fake model)."
        return (
            f"Self-check: {self.texts} texts embedded in one batch and alone agree to cosine "
            f">= {self.min_cosine:.6f}; verification tolerance {self.tolerance}."
        )


def self_check(
    source: Any, adapter: Any, *, page_size: int = 256, sample: int = 64, resume: str = ""
) -> SelfCheck:
    """Measure how well ``adapter`` reproduces its own vectors; refuse a model that cannot.

    Embeds up to :data:`SELF_CHECK_TEXTS` (at most ``sample``) texts of the source's first page,
    picked as verification picks them, in one batch and then one by one. Nothing is measured for
    an adapter known to be batch-invariant (:func:`batch_invariant`).

    Args:
        source: The collection being moved (only read).
        adapter: The new model.
        page_size: The swap's page size (the first page is read).
        sample: The verification sample (0: no verification, nothing measured).
        resume: The swap's command, quoted in the refusal.

    Returns:
        The measurement and the tolerance derived from it.

    Raises:
        SelfCheckError: If the lowest cosine leaves no tolerance >= :data:`FLOOR_COSINE`.
    """
    if sample <= 0 or batch_invariant(adapter):
        return SelfCheck()
    pages = iter_pages(source, page_size)
    with chroma_errors("read", collection=str(source.name)):
        page = next(pages, None)
    if page is None:
        return SelfCheck()
    picks = sample_picks(page, min(SELF_CHECK_TEXTS, sample))
    ids = [page.ids[p] for p in picks]
    docs = [page.documents[p] or "" for p in picks]
    batched = np.asarray(adapter.embed_documents(docs), dtype=np.float32)
    alone = np.asarray([adapter.embed_documents([d])[0] for d in docs], dtype=np.float32)
    cos = (l2_normalize(batched) * l2_normalize(alone)).sum(axis=1)
    k = int(np.argmin(cos))
    measured = float(cos[k])
    if measured - SELF_CHECK_MARGIN < FLOOR_COSINE:
        again = f" then swap again: {resume}" if resume else " then swap again"
        raise SelfCheckError(
            f"The model does not reproduce its own vectors: the text of {ids[k]!r} embedded in "
            f"a batch of {len(docs)} and alone gives cosine {measured:.4f}, so a copy could not "
            f"be verified (that needs >= {FLOOR_COSINE + SELF_CHECK_MARGIN:.3f} on all "
            f"{len(docs)} self-check texts). Nothing was copied; the collection is untouched. "
            "Make the model deterministic and independent of its batch (another backend or "
            f"batch_size=1, a server that does not batch requests together),{again}"
        )
    return SelfCheck(len(docs), measured, ids[k], tolerance_from(measured))


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

    def check(self, adapter: Any, tolerance: float = MIN_COSINE) -> int:
        """Re-embed the drawn documents and compare with their stored vectors.

        Args:
            adapter: The new model.
            tolerance: A stored vector must match its fresh embedding above this cosine
                (:func:`tolerance_from` of the swap's self-check).

        Returns:
            How many vectors were compared.

        Raises:
            VerificationError: If stored vectors do not match a fresh embedding
                (cosine <= tolerance); the message names the first :data:`NAMED`, worst first,
                with their cosines.
        """
        if not self.ids:
            return 0
        fresh = np.asarray(adapter.embed_documents(self.documents))
        vectors = np.asarray(self.vectors, dtype=np.float32)
        cos = (l2_normalize(fresh) * l2_normalize(vectors)).sum(axis=1)
        bad = [int(k) for k in np.argsort(cos, kind="stable") if cos[k] <= tolerance]
        if bad:
            named = ", ".join(f"{self.ids[k]!r} (cosine {float(cos[k]):.4f})" for k in bad[:NAMED])
            more = f" and {len(bad) - NAMED} more" if len(bad) > NAMED else ""
            raise VerificationError(
                f"Verification failed: the stored vector of {named}{more} does not match a "
                f"fresh embedding (cosine <= {tolerance}; {len(bad)} of {len(self.ids)} sampled "
                "records); the copy is corrupt or the model is not deterministic."
            )
        return len(self.ids)
