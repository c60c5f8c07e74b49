"""``swap_vectors``: re-embed a collection with another model, resumably, and switch names.

The phases (self-check, copy, catch-up, verify, switch, reconcile) live in their own modules;
this one chains them for one collection and one model, on this machine or with the copy on Ray
(:mod:`~.ray.engine`). See :mod:`autoembedding.swap` for the whole story.
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
from autoembedding.progress import Progress, ProgressFn
from autoembedding.swap.baseline import open_baseline
from autoembedding.swap.batching import BatchTuner
from autoembedding.swap.complete import (
    after_switch,
    already_done,
    catch_up_and_switch,
    missing_collection_error,
    result_of,
)
from autoembedding.swap.copy import copy_records, embed_page, open_staging
from autoembedding.swap.function import function_for, register_function
from autoembedding.swap.guard import locked
from autoembedding.swap.journal import (
    K_PHASE,
    PHASE_COPY,
    PHASE_SWITCHING,
    PHASE_VERIFY,
    Journal,
    model_label,
    staging_name,
    sync_name,
)
from autoembedding.swap.model import check_arguments, resolve_model
from autoembedding.swap.result import SwapResult
from autoembedding.swap.status import (
    connection_flags,
)
from autoembedding.swap.store import failure_message, get_or_none, phase_errors
from autoembedding.swap.switch import finish_switch
from autoembedding.swap.verify import self_check

__all__ = ["swap_vectors"]


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
        from autoembedding.swap.ray.engine import check_options, import_ray

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
            from autoembedding.swap.mode_apply import apply_mode
            from autoembedding.swap.mode_target import parse_target

            back = parse_target(model_label(record), None)
            return apply_mode(client, name, back, start=time.perf_counter(), page_size=page_size)
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
                from autoembedding.swap.ray.engine import copy_records_ray

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
        from autoembedding.swap.mode_apply import clear_reembed_mark

        clear_reembed_mark(client, done.backup)
    result = result_of(
        name, record, done, total, embedded, resumed, start_time, flags, copy_seconds
    )
    return replace(result, batch_size=batch_size, notes=(*result.notes, checked_model.note()))
