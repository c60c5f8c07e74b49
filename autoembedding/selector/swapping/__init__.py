"""Move a Chroma collection to another embedding model safely, resumably and in place.

:func:`swap` streams the collection in pages, embeds each page with the new model and writes it
to a *staging collection*; it then verifies the copy and switches names so that the new
collection takes the original name and the original is kept as ``NAME__backup_<UTC time>``.
:func:`undo_swap` switches back.

One module per phase, each callable on its own with the client, the names and the journal:
:mod:`~.journal` (journal keys, :class:`~.journal.Journal`, collection names),
:mod:`~.copy` (:func:`~.copy.copy_records`), :mod:`~.verify` (:func:`~.verify.verify_copy`),
:mod:`~.switch` (:func:`~.switch.switch_names`) and :mod:`~.undo` (:func:`~.undo.undo_swap`).

Crash safety comes from three things:

* the staging name is derived from the collection name and the model record, so a rerun finds
  the staging collection of an interrupted run;
* a small journal lives in the staging collection's own metadata (``autoembedding:swap_*`` keys:
  phase, next offset to copy, source size, backup name), so it works on an embedded client and on
  a server alike; writes are idempotent upserts and the offset is advanced only after its page is
  written;
* every intermediate state of the switch (journal says "switching" -> original renamed to the
  backup -> staging renamed to the original name -> journal cleared) is recognised and completed
  by the next run.

The original collection is never written before the switch; during the switch it is only
renamed. Readers that open the collection by name through
:func:`autoembedding.chroma.client.call_with_collection` retry through the instant of the rename.

Example:
    >>> import chromadb  # doctest: +SKIP
    >>> from autoembedding.selector import swap, undo_swap
    >>> client = chromadb.PersistentClient("db")  # doctest: +SKIP
    >>> model = "sentence-transformers/all-MiniLM-L6-v2"
    >>> result = swap("docs", model, client=client)  # doctest: +SKIP
    >>> result.backup  # doctest: +SKIP
    'docs__backup_20260101T120000Z'
    >>> undo_swap("docs", client=client)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.records import get_record
from autoembedding.errors import CollectionError, CollectionNotFoundError, SwapError
from autoembedding.record import ModelRecord
from autoembedding.selector.progress import Progress, ProgressFn
from autoembedding.selector.swapping.copy import copy_records, open_staging
from autoembedding.selector.swapping.journal import (
    K_BACKUP,
    K_COUNT,
    K_OFFSET,
    K_PHASE,
    K_SOURCE,
    K_UNDO_OF,
    PHASE_COPY,
    PHASE_SWITCHING,
    PHASE_VERIFY,
    Journal,
    backup_name,
    staging_name,
)
from autoembedding.selector.swapping.store import drop, get_or_none
from autoembedding.selector.swapping.switch import finish_switch, switch_names
from autoembedding.selector.swapping.undo import undo_swap
from autoembedding.selector.swapping.verify import verify_copy

__all__ = [
    "K_BACKUP",
    "K_COUNT",
    "K_OFFSET",
    "K_PHASE",
    "K_SOURCE",
    "K_UNDO_OF",
    "Journal",
    "SwapError",
    "SwapResult",
    "backup_name",
    "copy_records",
    "finish_switch",
    "staging_name",
    "swap",
    "switch_names",
    "undo_swap",
    "verify_copy",
]


@dataclass(frozen=True)
class SwapResult:
    """What :func:`swap` did.

    Attributes:
        name: The collection name, now holding the new model's vectors.
        record: The model record written into the new collection's metadata.
        backup: Name of the kept original, or ``None`` if it was dropped.
        docs: Records in the collection.
        embedded: Records embedded by this run (less than ``docs`` when resumed).
        resumed_from: Offset this run resumed copying from (0 for a fresh run).
        seconds: Wall time of this run.
        docs_per_s: ``embedded / seconds`` for the copy phase.
        verified_vectors: Vectors re-embedded and compared during verification.
        already_done: True when the collection was already on this model and nothing was done.
    """

    name: str
    record: ModelRecord
    backup: str | None
    docs: int
    embedded: int
    resumed_from: int
    seconds: float
    docs_per_s: float
    verified_vectors: int
    already_done: bool = False

    def summary(self) -> str:
        """One human-readable line, as the CLI prints it."""
        if self.already_done:
            return f"{self.name!r} already holds {self.record.describe()}; nothing to do."
        kept = f"original kept as {self.backup!r}" if self.backup else "original dropped"
        resumed = f", resumed at {self.resumed_from}" if self.resumed_from else ""
        return (
            f"Swapped {self.name!r} to {self.record.describe()}: {self.docs} docs, "
            f"{self.embedded} embedded in {self.seconds:.1f} s ({self.docs_per_s:.1f} docs/s"
            f"{resumed}); {self.verified_vectors} vectors re-checked; {kept}. "
            f"Undo with: autoembed swap --undo --collection {self.name}"
        )


# ---------------------------------------------------------------------------- model
def _resolve_model(model: Any, options: Mapping[str, Any]) -> tuple[Any, ModelRecord]:
    """Build an adapter and its record from a model id/label, a Candidate or an adapter."""
    from autoembedding.selector.types import Candidate

    if isinstance(model, str):
        cand = Candidate.parse(model)
        opts = dict(options)
        if cand.truncate_dim is not None:
            opts.setdefault("truncate_dim", cand.truncate_dim)
        if cand.precision != "float32":
            opts.setdefault("precision", cand.precision)
        from autoembedding.adapters import get_adapter

        adapter = get_adapter(cand.model_id, **opts)
    elif isinstance(model, Candidate):
        adapter = model.build()
    else:
        adapter = model
    if not hasattr(adapter, "embed_documents"):
        raise TypeError(
            f"model must be a model id, a Candidate or an embedding adapter, got {type(model)}."
        )
    record_fn = getattr(adapter, "record", None)
    if callable(record_fn):
        record = record_fn()
    else:
        record = ModelRecord(
            model_id=str(getattr(adapter, "name", type(adapter).__name__)),
            backend="custom",
            dim=int(adapter.dim),
        )
    return adapter, record


# ---------------------------------------------------------------------------- public
def swap(
    collection: Any,
    model: Any,
    *,
    client: Any = None,
    page_size: int = 256,
    drop_old: bool = False,
    verify_sample: int = 64,
    progress: bool | ProgressFn = True,
    **adapter_options: Any,
) -> SwapResult:
    """Move a Chroma collection to another embedding model, keeping its name.

    Rerunning the same call after a crash resumes where it stopped (finished pages are not
    re-embedded) or completes an interrupted switch.

    Args:
        collection: The collection or its name.
        model: A model id or label (``"id@256:int8"``), a
            :class:`~autoembedding.selector.types.Candidate` or an embedding adapter.
        client: The Chroma client (``PersistentClient`` or ``HttpClient``) holding the collection;
            needed to create and rename collections.
        page_size: Records read, embedded and written at a time; memory grows with it, not with
            the collection.
        drop_old: Delete the original after the switch instead of keeping it as a backup.
        verify_sample: How many stored vectors to re-embed and compare (cosine > 0.999).
        progress: Show a progress bar on stderr (``True``), nothing (``False``), or call
            ``fn(message, fraction_done)`` after each page written.
        **adapter_options: Options for ``get_adapter`` when ``model`` is an id.

    Returns:
        A :class:`SwapResult`; ``result.summary()`` is a one-line report.

    Raises:
        SwapError: If a phase fails; the message says what was kept and how to resume.
        CollectionNotFoundError: If the collection does not exist.
        ChromaUnavailableError: If the Chroma server does not answer before anything started.
        CollectionError: If ``client`` is missing or Chroma fails otherwise.
    """
    start_time = time.perf_counter()
    if client is None:
        raise CollectionError(
            "swap() needs the Chroma client to create and rename collections: "
            "swap(collection, model, client=chromadb.PersistentClient(path)) or HttpClient(...)."
        )
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}.")
    name = collection if isinstance(collection, str) else str(collection.name)
    adapter, record = _resolve_model(model, adapter_options)
    staging = staging_name(name, record)

    source = get_or_none(client, name)
    found = get_or_none(client, staging)
    journal = Journal.of(found)

    # An interrupted switch: complete it.
    if found is not None and journal.phase == PHASE_SWITCHING:
        backup = finish_switch(client, name, staging, journal, drop_old=drop_old)
        return _result(name, record, backup, journal.source_count or 0, 0, 0, start_time, 0)
    if source is None:
        raise CollectionNotFoundError(
            f"Collection {name!r} does not exist on this client; list them with "
            "client.list_collections()."
        )
    source_journal = Journal.of(source)
    if source_journal.switching_of(name):
        # Crashed after the rename, before the journal was cleared.
        backup = finish_switch(client, name, staging, source_journal, drop_old=drop_old)
        done_record = get_record(source) or record
        total = source_journal.source_count or 0
        return _result(name, done_record, backup, total, 0, 0, start_time, 0)
    current = get_record(source)
    if found is None and current is not None and current.same_vectors_as(record):
        return _already_done(client, name, source, record, start_time, drop_old)

    with chroma_errors("count the records of", collection=name):
        total = int(source.count())
    staging_col, journal = open_staging(client, name, source, staging, found, total, record)
    resumed = journal.offset

    copy_start = time.perf_counter()
    embedded = 0
    if journal.phase == PHASE_COPY:
        bar = Progress(progress, total=total, desc="swap", unit="doc", initial=resumed)
        try:
            embedded, journal = copy_records(
                source, staging_col, adapter, journal, page_size=page_size, progress=bar
            )
        finally:
            bar.close()
        journal = journal.write(staging_col, {K_PHASE: PHASE_VERIFY})
    copy_seconds = time.perf_counter() - copy_start

    checked = verify_copy(
        client, name, staging, adapter, journal, page_size=page_size, sample=verify_sample
    )
    backup = switch_names(client, name, staging, journal, drop_old=drop_old)
    return _result(
        name, record, backup, total, embedded, resumed, start_time, checked, copy_seconds
    )


def _already_done(
    client: Any, name: str, source: Any, record: ModelRecord, start_time: float, drop_old: bool
) -> SwapResult:
    """The result for a collection that already holds ``record``'s vectors (nothing to do)."""
    backup = Journal.of(source).backup
    if drop_old and backup:
        drop(client, backup)
        backup = None
    with chroma_errors("count the records of", collection=name):
        docs = int(source.count())
    return SwapResult(
        name=name,
        record=record,
        backup=backup,
        docs=docs,
        embedded=0,
        resumed_from=0,
        seconds=time.perf_counter() - start_time,
        docs_per_s=0.0,
        verified_vectors=0,
        already_done=True,
    )


def _result(
    name: str,
    record: ModelRecord,
    backup: str | None,
    total: int,
    embedded: int,
    resumed: int,
    start_time: float,
    checked: int,
    copy_seconds: float | None = None,
) -> SwapResult:
    seconds = time.perf_counter() - start_time
    rate_s = copy_seconds if copy_seconds else seconds
    return SwapResult(
        name=name,
        record=record,
        backup=backup,
        docs=total,
        embedded=embedded,
        resumed_from=resumed,
        seconds=seconds,
        docs_per_s=embedded / rate_s if rate_s > 0 else 0.0,
        verified_vectors=checked,
    )
