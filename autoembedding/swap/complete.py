"""From a copied staging collection to a finished swap: catch up, switch, reconcile, retire.

1. **Catch up** (:mod:`~.catchup`): rounds carry writes made to the source during the copy over
   to the staging copy, keep the sync baseline, and verify the copy.
2. **Switch** (:mod:`~.switch`), right after the last round; the *switch window* is the time from
   the end of that round to the end of the renames.
3. **Reconcile** (:mod:`~.sync`): what landed in the source after its last comparison (the
   window) and what handles opened before the switch wrote to the backup since, is carried over.
4. With ``drop_old``, the backup and baseline are dropped afterwards (:func:`~.sync.retire_backup`),
   so stale handles fail loudly from then on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.errors import (
    AutoEmbeddingError,
    CollectionError,
    CollectionNotFoundError,
    SwapError,
)
from autoembedding.record import ModelRecord
from autoembedding.swap.baseline import open_baseline
from autoembedding.swap.catchup import CatchUp, catch_up
from autoembedding.swap.journal import K_VERIFY_FAILED, Journal
from autoembedding.swap.result import SwapResult
from autoembedding.swap.status import connection_flags, swap_status
from autoembedding.swap.store import (
    failure_message,
    get_or_none,
    phase_errors,
    replace_metadata,
)
from autoembedding.swap.switch import switch_names
from autoembedding.swap.sync import SyncResult, reconcile, retire_backup
from autoembedding.swap.verify import MIN_COSINE, VerificationError

__all__ = [
    "Finished",
    "after_switch",
    "already_done",
    "catch_up_and_switch",
    "missing_collection_error",
    "result_of",
    "verification_advice",
]


@dataclass(frozen=True)
class Finished:
    """What happened after the copy.

    Attributes:
        backup: The original's backup (``None`` if dropped).
        caught_up: Records re-embedded or deleted in the staging copy by the catch-up.
        checked: Stored vectors re-embedded and compared.
        synced: Records carried over from the backup after the switch.
        window_s: Seconds from the last catch-up round to the end of the renames.
        sync: The reconciliation run after the switch, if any.
    """

    backup: str | None
    caught_up: int = 0
    checked: int = 0
    synced: int = 0
    window_s: float = 0.0
    sync: SyncResult | None = None


def catch_up_and_switch(
    client: Any,
    name: str,
    staging: str,
    baseline: str,
    adapter: Any,
    journal: Journal,
    *,
    page_size: int,
    sample: int,
    drop_old: bool,
    resume: str,
    tolerance: float = MIN_COSINE,
) -> Finished:
    """Catch up, switch, reconcile and (with ``drop_old``) retire the backup.

    Args:
        client: The Chroma client.
        name: The collection.
        staging: The copied staging collection.
        baseline: The sync baseline collection's name.
        adapter: The new model.
        journal: The staging journal.
        page_size: Records read at a time.
        sample: Vectors to re-embed and compare.
        drop_old: Drop the backup once writes in it are carried over.
        resume: The command that resumes this swap (quoted in errors).
        tolerance: A sampled vector must match a fresh embedding above this cosine (from the
            swap's self-check, :func:`~.verify.tolerance_from`).

    Raises:
        SwapError: If a phase fails; the message says what was kept and how to resume.
    """
    step = "catching up with writes made during the copy"
    state = f"The copy in {staging!r} is kept and the original is untouched; resume with: {resume}"
    with phase_errors(step, state=state):
        source = get_or_none(client, name)
        copy = get_or_none(client, staging)
        if source is None or copy is None:
            missing = name if source is None else staging
            raise SwapError(
                f"Cannot verify the copy: collection {missing!r} is gone; nothing was renamed."
            )
        base = open_baseline(client, baseline, name)
        old = Journal.of(copy)
        if old.verify_failed:  # verified again now: forget the last failure
            kept = {k: v for k, v in old.metadata.items() if k != K_VERIFY_FAILED}
            replace_metadata(copy, kept, old.metadata)
        try:
            caught: CatchUp = catch_up(
                source, copy, base, adapter, page_size=page_size, sample=sample,
                tolerance=tolerance,
            )  # fmt: skip
        except VerificationError as exc:  # kept for a look, journaled for --status
            Journal.of(copy).write(copy, {K_VERIFY_FAILED: str(exc)})
            raise VerificationError(
                verification_advice(str(exc), name, staging, connection_flags(client), resume)
            ) from exc
        except AutoEmbeddingError as exc:  # the model failed: say what is kept
            if isinstance(exc, (SwapError, CollectionError)):
                raise
            raise SwapError(failure_message(step, exc, state)) from exc
    caught_at = time.perf_counter()
    backup = switch_names(client, name, staging, journal)
    window = time.perf_counter() - caught_at
    done = after_switch(client, name, adapter, backup, page_size=page_size, drop_old=drop_old)
    return Finished(
        backup=done.backup,
        caught_up=caught.upserted + caught.deleted,
        checked=caught.checked,
        synced=done.synced,
        window_s=window,
        sync=done.sync,
    )


def after_switch(
    client: Any,
    name: str,
    adapter: Any,
    backup: str | None,
    *,
    page_size: int,
    drop_old: bool,
) -> Finished:
    """Reconcile the backup into the new collection; with ``drop_old``, then drop the backup."""
    result: SyncResult | None = None
    state = (
        "The switch is done; carry over writes made to the backup with: autoembed swap --sync "
        f"{connection_flags(client)} --collection {name}"
    )
    with phase_errors("carrying over writes made to the backup", state=state):
        live = get_or_none(client, name)
        journal = Journal.of(live)
        old = get_or_none(client, journal.backup) if journal.backup else None
        base = get_or_none(client, journal.sync) if journal.sync else None
        if live is not None and old is not None and base is not None:
            result = reconcile(old, live, base, adapter, page_size=page_size)
        if drop_old:
            retire_backup(client, name)
            backup = None
    return Finished(backup=backup, synced=result.changes if result else 0, sync=result)


def missing_collection_error(client: Any, name: str) -> Exception:
    """The error for a swap of ``name`` when no collection has that name: says what is left."""
    state = swap_status(name, client=client)
    if state.state == "absent":
        return CollectionNotFoundError(
            f"Collection {name!r} does not exist on this client; list them with "
            "client.list_collections()."
        )
    return SwapError(state.message)


def verification_advice(
    reason: str, name: str, staging: str, flags: str, resume: str | None = None
) -> str:
    """What a failed verification of ``staging`` (the copy of ``name``) means, and what to do.

    Args:
        reason: The verification's message (names the records that differ).
        name: The collection.
        staging: The kept copy.
        flags: The ``--chroma-*`` options of the commands.
        resume: The swap's own command (re-verifies the kept copy); ``None``: not said.
    """
    drop = f"autoembed swap {flags} --collection {name} --drop-staging"
    again = resume or "the same swap"
    return (
        f"{reason.rstrip('.')}. Nothing was renamed: {name!r} is untouched, and the copy is "
        f"kept in {staging!r} for a look. Re-verify the kept copy (it re-embeds only the "
        f"verification sample and records changed since, then switches if it passes): {again} "
        f"; to start over (a corrupt copy), remove it with: {drop} and swap again (it copies "
        f"afresh) once the model gives the same vector for the same text; to undo, {drop} is "
        "all it takes (the original was never changed)."
    )


def already_done(
    client: Any,
    name: str,
    source: Any,
    adapter: Any,
    record: ModelRecord,
    start_time: float,
    *,
    page_size: int,
    drop_old: bool,
    connection: str,
) -> SwapResult:
    """The collection already holds ``record``'s vectors: only carry over writes to its backup."""
    backup = Journal.of(source).backup
    done = after_switch(client, name, adapter, backup, page_size=page_size, drop_old=drop_old)
    with chroma_errors("count the records of", collection=name):
        docs = int(source.count())
    return SwapResult(
        name=name,
        record=record,
        backup=done.backup if backup else None,
        docs=docs,
        embedded=0,
        resumed_from=0,
        seconds=time.perf_counter() - start_time,
        docs_per_s=0.0,
        verified_vectors=0,
        already_done=True,
        synced=done.synced,
        connection=connection,
    )


def result_of(
    name: str,
    record: ModelRecord,
    done: Finished,
    total: int,
    embedded: int,
    resumed: int,
    start_time: float,
    connection: str,
    copy_seconds: float | None = None,
) -> SwapResult:
    """The :class:`SwapResult` of a swap that copied (or finished a switch), from its phases."""
    seconds = time.perf_counter() - start_time
    rate_s = copy_seconds if copy_seconds else seconds
    return SwapResult(
        name=name,
        record=record,
        backup=done.backup,
        docs=total,
        embedded=embedded,
        resumed_from=resumed,
        seconds=seconds,
        docs_per_s=embedded / rate_s if rate_s > 0 else 0.0,
        verified_vectors=done.checked,
        caught_up=done.caught_up,
        synced=done.synced,
        switch_window_s=done.window_s,
        connection=connection,
    )
