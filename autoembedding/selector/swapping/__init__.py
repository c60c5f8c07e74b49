"""Move a Chroma collection to another embedding model safely, resumably and in place.

:func:`swap` streams the collection in pages, embeds each page with the new model and writes it
to a *staging collection* that carries the new model's embedding function; it then catches up
with writes made to the source meanwhile, verifies the copy, and switches names so that the new
collection takes the original name and the original is kept as ``NAME__backup_<UTC time>``;
finally it carries over what landed in the backup (the switch window, handles opened before the
switch). :func:`sync_swap` reruns that reconciliation, :func:`swap_status` says where a swap
stands (and the command that finishes it), :func:`undo_swap` switches back.

One module per phase, each callable on its own with the client, the names and the journal:
:mod:`~.journal` (journal keys, :class:`~.journal.Journal`, collection names),
:mod:`~.copy` (:func:`~.copy.copy_records`), :mod:`~.catchup` (catch-up rounds and verification),
:mod:`~.switch` (:func:`~.switch.switch_names`), :mod:`~.sync` (:func:`~.sync.sync_swap`),
:mod:`~.status` (:func:`~.status.swap_status`) and :mod:`~.undo` (:func:`~.undo.undo_swap`);
:mod:`~.complete` chains the phases after the copy, :mod:`~.baseline` holds the content
fingerprints, :mod:`~.verify` a strict stand-alone check of a copy.

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

The swap never writes the original before the switch; during the switch it is only renamed.
Readers that open the collection by name through
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
from dataclasses import replace
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.records import get_record
from autoembedding.errors import (
    AutoEmbeddingError,
    CollectionError,
    InvalidArgumentError,
    SwapError,
)
from autoembedding.selector.progress import Progress, ProgressFn
from autoembedding.selector.swapping.baseline import open_baseline
from autoembedding.selector.swapping.batching import BatchTuner
from autoembedding.selector.swapping.complete import (
    after_switch,
    already_done,
    catch_up_and_switch,
    missing_collection_error,
    result_of,
)
from autoembedding.selector.swapping.copy import copy_records, embed_page, open_staging
from autoembedding.selector.swapping.function import function_for, register_function
from autoembedding.selector.swapping.journal import (
    K_BACKUP,
    K_COUNT,
    K_OFFSET,
    K_PHASE,
    K_SOURCE,
    K_SYNC,
    K_UNDO_OF,
    PHASE_COPY,
    PHASE_SWITCHING,
    PHASE_VERIFY,
    Journal,
    backup_name,
    model_label,
    staging_name,
    sync_name,
)
from autoembedding.selector.swapping.lock import SwapLockedError, locked
from autoembedding.selector.swapping.model import check_arguments, resolve_model
from autoembedding.selector.swapping.result import SwapResult
from autoembedding.selector.swapping.status import (
    STATES,
    SwapState,
    connection_flags,
    swap_status,
)
from autoembedding.selector.swapping.store import failure_message, get_or_none, phase_errors
from autoembedding.selector.swapping.switch import finish_switch, switch_names
from autoembedding.selector.swapping.sync import SyncResult, sync_swap
from autoembedding.selector.swapping.undo import UndoResult, drop_staging, undo, undo_swap
from autoembedding.selector.swapping.verify import self_check, verify_copy

__all__ = [
    "K_BACKUP",
    "K_COUNT",
    "K_OFFSET",
    "K_PHASE",
    "K_SOURCE",
    "K_SYNC",
    "K_UNDO_OF",
    "STATES",
    "Journal",
    "SwapError",
    "SwapLockedError",
    "SwapResult",
    "SwapState",
    "SyncResult",
    "UndoResult",
    "backup_name",
    "copy_records",
    "drop_staging",
    "finish_switch",
    "staging_name",
    "swap",
    "swap_status",
    "swap_vectors",
    "switch_names",
    "sync_swap",
    "undo",
    "undo_swap",
    "verify_copy",
]


# ---------------------------------------------------------------------------- public
@locked("swap")
def swap(
    collection: Any,
    model: Any,
    *,
    client: Any = None,
    page_size: int = 256,
    drop_old: bool = False,
    verify_sample: int = 64,
    progress: bool | ProgressFn = True,
    engine: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    gpus_per_worker: float = 0.0,
    fusion_weight: float | None = None,
    **adapter_options: Any,
) -> SwapResult:
    """Move a Chroma collection to another embedding model, or to BM25 or a hybrid, in place.

    Rerunning the same call after a crash resumes where it stopped (finished pages are not
    re-embedded) or completes an interrupted switch.

    Lexical and hybrid labels (``"bm25"``, ``"bm25:zh"``, ``"hybrid:<model>+bm25"``,
    ``"hybrid-rrf:<model>+bm25"``, every label a probe report prints) build the collection's
    BM25 index and record the mode; the vectors are kept, re-embedded first only when a
    hybrid's model is not the recorded one (see :mod:`~.mode`). A dense label on a collection
    that holds that model's vectors but serves BM25 or a hybrid switches it back to dense.

    Args:
        collection: The collection or its name.
        model: A model id or label (``"id@256:int8"``), a lexical or hybrid label, a
            :class:`~autoembedding.selector.types.Candidate` (or a probe's ``CandidateResult``,
            whose convex weight is used) or an embedding adapter.
        client: The Chroma client (``PersistentClient`` or ``HttpClient``) holding the collection;
            needed to create and rename collections.
        page_size: Records read, embedded and written at a time; memory grows with it, not with
            the collection.
        drop_old: Delete the original after the switch instead of keeping it as a backup.
        verify_sample: How many stored vectors to re-embed and compare; above the tolerance
            the self-check derives before the copy (at most cosine 0.999, see
            :func:`~.verify.self_check`: a model that cannot reproduce its own vectors is
            refused before anything is written). 0: no verification, no self-check.
        progress: Show a progress bar on stderr (``True``), nothing (``False``), or call
            ``fn(message, fraction_done)`` after each page written.
        engine: ``"local"`` (this process) or ``"ray"``: the copy phase runs on Ray Data
            (read tasks, an actor pool of encoders, parallel writes to a Chroma server; see
            :mod:`~.ray_engine`). Journal, verify and switch are the same for both.
        ray_address: With ``engine="ray"``: the Ray cluster to connect to when this process is
            not connected yet (``None``: ``RAY_ADDRESS`` or a new local cluster).
        workers: With ``engine="ray"``: encoder actors (default: one per CPU of the cluster, or
            per ``gpus_per_worker`` GPUs).
        gpus_per_worker: With ``engine="ray"``: GPUs per encoder actor (0: CPU actors).
        fusion_weight: A convex hybrid's dense weight in ``[0, 1]`` (default: the probe's,
            when ``model`` is its ``CandidateResult``, else 0.5, said in the result's notes).
        **adapter_options: Options for ``get_adapter`` when ``model`` is an id.

    Returns:
        A :class:`SwapResult`; ``result.summary()`` is a one-line report.

    Raises:
        SwapError: If a phase fails; the message says what was kept and how to resume.
        MissingExtraError: If ``engine="ray"`` and Ray Data is not installed.
        CollectionNotFoundError: If the collection does not exist.
        ChromaUnavailableError: If the Chroma server does not answer before anything started.
        CollectionError: If ``client`` is missing or Chroma fails otherwise.
    """
    options: dict[str, Any] = {
        "page_size": page_size,
        "drop_old": drop_old,
        "verify_sample": verify_sample,
        "progress": progress,
        "engine": engine,
        "ray_address": ray_address,
        "workers": workers,
        "gpus_per_worker": gpus_per_worker,
        **adapter_options,
    }
    from autoembedding.selector.swapping.mode import swap_mode
    from autoembedding.selector.swapping.mode_target import is_mode_model

    if fusion_weight is not None or is_mode_model(model):
        check_arguments(page_size=page_size, verify_sample=verify_sample)
        return swap_mode(collection, model, client=client, fusion_weight=fusion_weight, **options)
    return swap_vectors(collection, getattr(model, "candidate", model), client=client, **options)


@locked("swap")
def swap_vectors(
    collection: Any,
    model: Any,
    *,
    client: Any = None,
    page_size: int = 256,
    drop_old: bool = False,
    verify_sample: int = 64,
    progress: bool | ProgressFn = True,
    engine: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    gpus_per_worker: float = 0.0,
    keep_retrieval: bool = False,
    **adapter_options: Any,
) -> SwapResult:
    """:func:`swap` to a dense model (the re-embedding swap).

    Args:
        collection: As for :func:`swap`.
        model: A dense model id or label, a Candidate or an adapter.
        client: As for :func:`swap`.
        page_size: As for :func:`swap`.
        drop_old: As for :func:`swap`.
        verify_sample: As for :func:`swap`.
        progress: As for :func:`swap`.
        engine: As for :func:`swap`.
        ray_address: As for :func:`swap`.
        workers: As for :func:`swap`.
        gpus_per_worker: As for :func:`swap`.
        keep_retrieval: When the collection already holds the model's vectors, leave its
            retrieval mode as it is (a hybrid's dense part) instead of switching it to dense.
        **adapter_options: As for :func:`swap`.

    Returns:
        A :class:`SwapResult`.
    """
    start_time = time.perf_counter()
    check_arguments(page_size=page_size, verify_sample=verify_sample)
    if client is None:
        raise CollectionError(
            "swap() needs the Chroma client to create and rename collections: "
            "swap(collection, model, client=chromadb.PersistentClient(path)) or HttpClient(...)."
        )
    if engine not in ("local", "ray"):
        raise InvalidArgumentError(
            f"engine must be 'local' or 'ray', got {engine!r}.", argument="engine"
        )
    if engine == "ray":
        from autoembedding.selector.swapping.ray_engine import check_options, import_ray

        check_options(workers=workers, gpus_per_worker=gpus_per_worker)
        import_ray()  # a missing extra fails before anything is touched
    name = collection if isinstance(collection, str) else str(collection.name)
    register_function()  # collections that carry AutoEmbeddingFunction open from here on
    adapter, record = resolve_model(model, adapter_options)
    staging = staging_name(name, record)
    flags = connection_flags(client)
    resume = f"autoembed swap {flags} --collection {name} --model {model_label(record)}"

    source = get_or_none(client, name)
    found = get_or_none(client, staging)
    journal = Journal.of(found)

    # An interrupted switch: complete it, then carry over what landed in the backup.
    if found is not None and journal.phase == PHASE_SWITCHING:
        backup = finish_switch(client, name, staging, journal)
        done = after_switch(client, name, adapter, backup, page_size=page_size, drop_old=drop_old)
        total = journal.source_count or 0
        return result_of(name, record, done, total, 0, 0, start_time, flags)
    if source is None:
        raise missing_collection_error(client, name)
    source_journal = Journal.of(source)
    if source_journal.switching_of(name):
        # Crashed after the rename, before the journal was cleared.
        backup = finish_switch(client, name, staging, source_journal)
        done = after_switch(client, name, adapter, backup, page_size=page_size, drop_old=drop_old)
        total = source_journal.source_count or 0
        return result_of(name, get_record(source) or record, done, total, 0, 0, start_time, flags)
    current = get_record(source)
    if found is None and current is not None and current.same_vectors_as(record):
        if current.retrieval != "dense" and not keep_retrieval:
            from autoembedding.selector.swapping.mode import swap_mode

            return swap_mode(name, model_label(record), client=client, page_size=page_size)
        return already_done(
            client, name, source, adapter, record, start_time,
            page_size=page_size, drop_old=drop_old, connection=flags,
        )  # fmt: skip

    with chroma_errors("count the records of", collection=name):
        total = int(source.count())
    # Before anything is written: can the model reproduce its own vectors? (the tolerance)
    step, untouched = "checking the model before the copy", f"Nothing was copied; rerun: {resume}"
    try:
        with phase_errors(step, state=untouched):
            checked_model = self_check(source, adapter, page_size=page_size,
                                       sample=verify_sample, resume=resume)  # fmt: skip
    except AutoEmbeddingError as exc:  # the model failed: say that nothing was written
        if isinstance(exc, SwapError):
            raise
        raise SwapError(failure_message(step, exc, untouched)) from exc
    function = function_for(adapter, adapter_options)
    sync = sync_name(name, record)
    staging_col, journal = open_staging(
        client, name, source, staging, found, total, record, function=function, sync=sync
    )
    resumed = journal.offset

    copy_start = time.perf_counter()
    embedded = 0
    batch_size: int | None = None
    if journal.phase == PHASE_COPY:
        base = open_baseline(client, sync, name) if engine == "local" else None
        # Only a model this swap builds is searched: an adapter passed in keeps its batch size.
        built = not hasattr(model, "embed_documents") and "batch_size" not in adapter_options
        tuner = BatchTuner(adapter, embed_page, enabled=built)
        bar = Progress(progress, total=total, desc="swap", unit="doc", initial=resumed)
        try:
            if engine == "ray":
                from autoembedding.selector.swapping.ray_engine import copy_records_ray

                embedded, journal = copy_records_ray(
                    client, source, staging_col, model, adapter_options, record, journal,
                    page_size=page_size, progress=bar, ray_address=ray_address,
                    workers=workers, gpus_per_worker=gpus_per_worker,
                )  # fmt: skip
            else:
                embedded, journal = copy_records(
                    source, staging_col, adapter, journal, page_size=page_size, progress=bar,
                    baseline=base, tuner=tuner,
                )  # fmt: skip
        finally:
            bar.close()
            tuner.close()
        batch_size = tuner.chosen
        journal = journal.write(staging_col, {K_PHASE: PHASE_VERIFY})
    copy_seconds = time.perf_counter() - copy_start

    done = catch_up_and_switch(
        client, name, staging, sync, adapter, journal, page_size=page_size,
        sample=verify_sample, drop_old=drop_old, resume=resume,
        tolerance=checked_model.tolerance,
    )  # fmt: skip
    if not keep_retrieval and done.backup:  # a dense swap that finished a hybrid's copy
        from autoembedding.selector.swapping.mode_undo import clear_reembed_mark

        clear_reembed_mark(client, done.backup)
    result = result_of(
        name, record, done, total, embedded, resumed, start_time, flags, copy_seconds
    )
    return replace(result, batch_size=batch_size, notes=(*result.notes, checked_model.note()))
