"""Where a swap stands: every state the collections and the journal can be in, as one message.

:func:`swap_status` looks at the collection, its staging copies (``swap_source = NAME``), an
interrupted undo (``swap_undo_of = NAME``) and the backup, and returns a :class:`SwapState`: what
happened, in one message, and the one complete ``autoembed swap`` command (with the connection
options) that finishes it or undoes it. ``autoembed swap --status --collection NAME`` prints it;
the swap, undo and sync errors quote it.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from autoembedding.chroma.client import connection_flags
from autoembedding.chroma.records import get_record
from autoembedding.swap.journal import (
    K_MODE_PHASE,
    PHASE_COPY,
    PHASE_SWITCHING,
    PHASE_VERIFY,
    Journal,
    mode_label,
)
from autoembedding.swap.lock import running_state
from autoembedding.swap.state import STATES, SwapState
from autoembedding.swap.store import get_or_none, iter_collections

if TYPE_CHECKING:
    from autoembedding.swap.mode_target import ModeTarget

__all__ = ["STATES", "SwapState", "connection_flags", "related_collections", "swap_status"]

_PHASE_ORDER = {PHASE_SWITCHING: 0, PHASE_VERIFY: 1, PHASE_COPY: 2}


def related_collections(client: Any, name: str) -> tuple[list[Any], list[Any]]:
    """``(staging copies of name, collections an interrupted undo of name moved aside)``.

    Staging copies come most advanced first (switching, then verifying, then copying).
    """
    stagings, undone = [], []
    for col in iter_collections(client):
        journal = Journal.of(col)
        if str(col.name) == name:  # its own marks are read from the collection itself
            continue
        if journal.source == name and journal.phase:
            stagings.append(col)
        elif journal.undo_of == name:
            undone.append(col)
    stagings.sort(key=lambda c: _PHASE_ORDER.get(Journal.of(c).phase or "", 9))
    return stagings, undone


def swap_status(collection: Any, *, client: Any, connection: str | None = None) -> SwapState:
    """Where the swap of ``collection`` stands, and the command that finishes or undoes it.

    Args:
        collection: The collection or its name.
        client: The Chroma client.
        connection: The ``--chroma-*`` options to quote in commands (default: read from
            ``client``).

    Returns:
        A :class:`SwapState`.
    """
    name = collection if isinstance(collection, str) else str(collection.name)
    flags = connection if connection is not None else connection_flags(client)

    def cmd(*extra: str) -> str:
        return " ".join(["autoembed swap", flags, "--collection", shlex.quote(name), *extra])

    live = get_or_none(client, name)
    stagings, undone = related_collections(client, name)
    others = [str(c.name) for c in stagings[1:]]
    state = _state(name, client, live, stagings, undone, cmd)
    record = get_record(live) if live is not None else None
    if record is not None:
        state = SwapState(**{**state.to_dict(), "retrieval": record.retrieval})
    if others:
        extra = f" Other unfinished staging copies of {name!r}: {', '.join(others)}."
        state = SwapState(**{**state.to_dict(), "message": state.message + extra, "others": others})
    return running_state(client, name, state)


def _state(  # noqa: PLR0911 - one return per state, in the order of STATES
    name: str, client: Any, live: Any, stagings: list[Any], undone: list[Any], cmd: Any
) -> SwapState:
    if undone:
        moved = str(undone[0].name)
        where = "is missing" if live is None else "is back in place"
        return SwapState(
            name,
            "undo-interrupted",
            f"An undo of {name!r} was interrupted: the swapped collection was moved to "
            f"{moved!r} and the original {where}. Finish the undo: {cmd('--undo')}",
            cmd("--undo"),
            staging=moved,
            backup=Journal.of(undone[0]).backup,
        )
    lj = Journal.of(live)
    if live is not None and lj.switching_of(name):
        unfinished = _label(live) or "?"
        return SwapState(
            name,
            "switch-unfinished",
            f"The swap of {name!r} to {unfinished} renamed both collections (the original is "
            f"{lj.backup!r}) but was stopped before it cleared its journal. Finish it: "
            f"{cmd('--model', shlex.quote(unfinished))}",
            cmd("--model", shlex.quote(unfinished)),
            model=unfinished,
            backup=lj.backup,
        )
    if stagings:
        return _staging_state(name, client, live, stagings[0], cmd)
    if live is None:
        return SwapState(
            name,
            "absent",
            f"Collection {name!r} does not exist, and no swap of it is under way. List the "
            "collections with client.list_collections().",
        )
    mode = _mode_state(name, client, live, lj, cmd)
    if mode is not None:
        return mode
    label = _label(live)
    if lj.backup:
        if get_or_none(client, lj.backup) is None:
            return SwapState(
                name,
                "swapped-backup-dropped",
                f"{name!r} holds {label}; its original ({lj.backup!r}) was dropped, so the swap "
                "cannot be undone. Nothing is pending.",
                model=label,
            )
        return SwapState(
            name,
            "swapped",
            f"{name!r} was swapped to {label}; the original is kept as {lj.backup!r}. Writes "
            "made through handles opened before the switch land in the backup; carry them over "
            f"with: {cmd('--sync')} . Undo the swap with: {cmd('--undo')}",
            cmd("--sync"),
            model=label,
            backup=lj.backup,
        )
    record = get_record(live)
    holds = f" (it serves {record.describe()})" if record is not None else ""
    return SwapState(
        name, "idle", f"{name!r} is not being swapped{holds}; nothing is pending.", model=label
    )


def _staging_state(name: str, client: Any, live: Any, staging: Any, cmd: Any) -> SwapState:
    journal = Journal.of(staging)
    label = _label(staging) or "?"
    sname = str(staging.name)
    hybrid = _pending_target(client, live, journal)
    finish = cmd("--model", hybrid.command_label if hybrid else shlex.quote(label))
    said = f"{hybrid.label} (its re-embedding with {label})" if hybrid else label
    common: dict[str, Any] = {"model": label, "staging": sname}
    if journal.phase == PHASE_SWITCHING:
        backup = journal.backup
        if live is not None:
            return SwapState(
                name,
                "switch-started",
                f"A swap of {name!r} to {said} was verified and its switch had begun, but "
                f"nothing was renamed: {name!r} is untouched and the new copy is {sname!r}. "
                f"Finish it: {finish} ; or abandon it (removes the copy): {cmd('--undo')}",
                finish,
                backup=backup,
                **common,
            )
        if backup and get_or_none(client, backup) is not None:
            return SwapState(
                name,
                "between-renames",
                f"{name!r} does not exist right now: a swap to {said} was stopped between its "
                f"two renames. The original is safe as {backup!r} and the new copy is {sname!r}. "
                f"Finish the swap: {finish} ; or put the original back: {cmd('--undo')}",
                finish,
                backup=backup,
                **common,
            )
        return SwapState(
            name,
            "lost-between-renames",
            f"Neither {name!r} nor its backup {backup!r} exists, but the finished copy "
            f"{sname!r} (to {said}) does: rename it by hand if that is what you want "
            f"(client.get_collection({sname!r}).modify(name={name!r})).",
            backup=backup,
            **common,
        )
    done, total = journal.offset, journal.source_count
    if live is None:
        return SwapState(
            name,
            "leftover-staging",
            f"Collection {name!r} does not exist, but the staging copy {sname!r} of an "
            f"unfinished swap to {said} is left ({done} of {total} records). Remove it: "
            f"{cmd('--drop-staging')}",
            cmd("--drop-staging"),
            offset=done,
            total=total,
            **common,
        )
    if journal.phase == PHASE_VERIFY and journal.verify_failed:
        reason = journal.verify_failed.removeprefix("Verification failed: ").rstrip(".")
        return SwapState(
            name,
            "verify-failed",
            f"A swap of {name!r} to {said} copied every record to {sname!r}, but the "
            f"verification of the copy failed: {reason}. Nothing "
            f"was renamed: {name!r} is untouched. Re-verify the kept copy (re-embeds only the "
            f"verification sample, then switches if it passes): {finish} ; to start over (a "
            f"corrupt copy), remove the copy: {cmd('--drop-staging')} and swap again (it copies "
            "afresh) once the model gives the same vector for the same text; to undo, "
            f"{cmd('--drop-staging')} is all it takes (the original was never changed).",
            cmd("--drop-staging"),
            offset=done,
            total=total,
            **common,
        )
    if journal.phase == PHASE_COPY:
        what = f"was stopped while copying: {done} of {total} records are saved in {sname!r}"
        key = "copying"
    else:
        what = f"copied every record to {sname!r} but was stopped before it was verified"
        key = "verifying"
    return SwapState(
        name,
        key,
        f"A swap of {name!r} to {said} {what}; {name!r} is untouched. Resume it: {finish} ; "
        f"or abandon it (removes the copy): {cmd('--undo')}",
        finish,
        offset=done,
        total=total,
        **common,
    )


def _label(collection: Any) -> str | None:
    record = get_record(collection) if collection is not None else None
    return mode_label(record) if record is not None else None


def _pending_target(client: Any, live: Any, journal: Journal) -> ModeTarget | None:
    """The hybrid whose dense swap this staging copy is (if it is one)."""
    from autoembedding.swap.mode_target import pending_target

    original = live if live is not None else get_or_none(client, journal.backup or "")
    return pending_target(Journal.of(original).metadata) if original is not None else None


def _mode_state(name: str, client: Any, live: Any, lj: Journal, cmd: Any) -> SwapState | None:
    """The state of a retrieval-mode swap (to BM25 or a hybrid) journaled in ``live``.

    A hybrid stopped after its dense swap switched, before its index was built, is journaled in
    the backup (the original, marked before the dense swap began).
    """
    from autoembedding.swap.mode_target import (
        PHASE_INDEX,
        pending_target,
        previous_records,
    )

    meta = lj.metadata
    record = get_record(live)
    serves = record.describe() if record is not None else "no recorded model"
    target = pending_target(meta)
    if target is None and lj.backup and record is not None:
        original = get_or_none(client, lj.backup)
        marked = pending_target(Journal.of(original).metadata) if original is not None else None
        if marked is not None and marked.dense == mode_label(record):
            target, meta = marked, {K_MODE_PHASE: PHASE_INDEX}
    if target is not None:
        finish = cmd("--model", target.command_label)
        stopped = (
            "was stopped while building its BM25 index"
            if meta.get(K_MODE_PHASE) == PHASE_INDEX
            else "was stopped before it began re-embedding"
        )
        key = "mode-indexing" if meta.get(K_MODE_PHASE) == PHASE_INDEX else "mode-pending"
        return SwapState(
            name,
            key,
            f"A swap of {name!r} to {target.label} {stopped}; {name!r} still serves {serves}. "
            f"Finish it: {finish} ; or undo it: {cmd('--undo')}",
            finish,
            model=target.label,
            backup=lj.backup,
        )
    history = previous_records(meta)
    if not history or record is None:
        return None
    prev = history[-1].record.describe()
    also = ""
    if history[-1].reembedded:  # the entry is the record after the re-embedding: say the original
        original = get_or_none(client, lj.backup) if lj.backup else None
        held = get_record(original) if original is not None else None
        if original is not None:
            before = held.describe() if held is not None else "vectors of no recorded model"
            prev = f"{before} (the original, kept as {lj.backup!r}; the swap re-embedded it)"
            also = f" (and puts back the original {lj.backup!r})"
        else:
            prev = "other vectors (the swap re-embedded it; the original was dropped)"
    if lj.backup:
        also += (
            ". Writes made through handles opened before its switch land in the backup; carry "
            f"them over with: {cmd('--sync')}"
        )
    return SwapState(
        name,
        "mode-swapped",
        f"{name!r} serves {serves} (retrieval {record.retrieval}); before that swap it served "
        f"{prev}. Nothing is pending. Undo it with: {cmd('--undo')}{also}",
        cmd("--sync") if lj.backup else None,
        model=mode_label(record),
        backup=lj.backup,
    )
