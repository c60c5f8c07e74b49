"""Undo a swap: put the original back under its name and move the swapped collection aside.

After a finished switch, the undo is three steps, each completed by a rerun after a crash:

1. the swapped collection is marked ``swap_undo_of = NAME`` and renamed ``NAME__undone_<time>``;
2. the backup is renamed back to ``NAME``;
3. the mark and the backup name are removed from the swapped collection (or it is dropped), and
   the sync baseline is dropped.

Before the switch finished, undo abandons the swap instead: an interrupted switch is rolled back
(the original gets its name again) and the unfinished staging copies are removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.records import get_record
from autoembedding.errors import CollectionError, SwapError
from autoembedding.swap.guard import locked
from autoembedding.swap.journal import (
    K_BACKUP,
    K_SYNC,
    K_UNDO_OF,
    PHASE_SWITCHING,
    Journal,
    staging_name,
    undone_name,
)
from autoembedding.swap.status import related_collections, swap_status
from autoembedding.swap.store import drop, free_name, get_or_none

__all__ = ["UndoResult", "drop_staging", "undo", "undo_swap"]


@dataclass(frozen=True)
class UndoResult:
    """What :func:`undo` did.

    Attributes:
        name: The collection.
        moved: Where the swapped collection went (``""`` if it was dropped or never switched).
        message: One line saying what was done.
    """

    name: str
    moved: str
    message: str


def undo_swap(collection: Any, *, client: Any = None, drop_new: bool = False) -> str:
    """Put the original collection back under its name after :func:`swap`.

    The swapped collection is kept as ``NAME__undone_<UTC time>`` (or dropped with
    ``drop_new``). A rerun after a crash completes an interrupted undo. A swap that had not
    finished its switch is abandoned: the original keeps (or gets back) its name and the staging
    copies are removed.

    Args:
        collection: The collection or its name.
        client: The Chroma client holding it.
        drop_new: Delete the swapped collection instead of keeping it.

    Returns:
        The name the swapped collection was moved to (``""`` if dropped or never switched).

    Raises:
        SwapError: If there is nothing to undo; the message says the collection's state and
            the command that applies to it.
        CollectionError: If ``client`` is missing or Chroma fails (naming the collection).
    """
    return undo(collection, client=client, drop_new=drop_new).moved


@locked("undo")
def undo(collection: Any, *, client: Any = None, drop_new: bool = False) -> UndoResult:
    """:func:`undo_swap`, returning an :class:`UndoResult` with a message for people.

    A retrieval-mode swap (to BM25 or a hybrid, :mod:`~.mode`) is undone first: the record
    before it is restored (and its index dropped or rebuilt); a hybrid that re-embedded the
    collection then has that swap undone too.
    """
    if client is None:
        raise CollectionError("undo_swap() needs the Chroma client: undo_swap(name, client=...).")
    name = collection if isinstance(collection, str) else str(collection.name)
    from autoembedding.swap.mode_undo import clear_reembed_mark, undo_mode

    before, final = undo_mode(client, name)
    if final is not None:
        return UndoResult(name, "", final)
    result = _undo_collections(client, name, drop_new)
    clear_reembed_mark(client, name)
    return UndoResult(name, result.moved, f"{before} {result.message}".strip())


def _undo_collections(client: Any, name: str, drop_new: bool) -> UndoResult:
    """Undo a (dense) swap: put the original back, or abandon an unfinished swap."""
    current = get_or_none(client, name)
    stagings, undone = related_collections(client, name)
    if undone:  # an undo was interrupted
        return _resume_undo(client, name, current, undone[0], drop_new)
    if current is not None and Journal.of(current).switching_of(name):
        _finish_interrupted_switch(client, name, current)
        current = get_or_none(client, name)
    if stagings:  # the latest swap never switched: abandon it
        return _abandon(client, name, current, stagings)
    if current is None or not Journal.of(current).backup:
        raise SwapError(f"There is nothing to undo: {swap_status(name, client=client).message}")
    journal = Journal.of(current)
    backup = str(journal.backup)
    original = get_or_none(client, backup)
    if original is None:
        raise SwapError(
            f"Cannot undo: the original of {name!r} ({backup!r}) no longer exists (it was "
            "dropped), so the swap is final."
        )
    moved_name = free_name(client, undone_name(name))
    journal.write(current, {K_UNDO_OF: name})  # step 1
    _rename(current, moved_name)
    _rename(original, name)  # step 2
    moved = get_or_none(client, moved_name)
    if moved is None:
        raise SwapError(f"Undo of {name!r} lost track of {moved_name!r}; nothing was deleted.")
    return _finish_undo(client, name, moved, drop_new)


def _finish_interrupted_switch(client: Any, name: str, current: Any) -> None:
    """Both renames of a switch were done but not its journal: finish it before undoing."""
    from autoembedding.swap.switch import finish_switch

    record = get_record(current)
    staging = staging_name(name, record) if record is not None else name
    finish_switch(client, name, staging, Journal.of(current))


def _resume_undo(client: Any, name: str, current: Any, moved: Any, drop_new: bool) -> UndoResult:
    if current is None:  # crashed between the two renames
        backup = Journal.of(moved).backup
        original = get_or_none(client, backup) if backup else None
        if original is None:
            raise SwapError(
                f"An undo of {name!r} was interrupted, but the original ({backup!r}) is gone; "
                f"the swapped collection is {str(moved.name)!r}: rename it back by hand."
            )
        _rename(original, name)
    return _finish_undo(client, name, moved, drop_new)


def _abandon(client: Any, name: str, current: Any, stagings: list[Any]) -> UndoResult:
    """Abandon swaps that never finished their switch: original back in place, copies removed."""
    for staging in stagings:
        journal = Journal.of(staging)
        if current is None and journal.phase == PHASE_SWITCHING and journal.backup:
            original = get_or_none(client, journal.backup)
            if original is not None:  # stopped between the two renames
                _rename(original, name)
                current = original
    if current is None:
        raise SwapError(f"There is nothing to undo: {swap_status(name, client=client).message}")
    dropped = drop_staging(name, client=client)
    return UndoResult(
        name,
        "",
        f"The swap of {name!r} had not switched; {name!r} holds the original and the unfinished "
        f"staging copy was removed ({', '.join(dropped)}).",
    )


@locked("drop-staging")
def drop_staging(collection: Any, *, client: Any) -> list[str]:
    """Remove the unfinished staging copies of ``collection`` (and their sync baselines).

    The mark a hybrid swap leaves on the collection before its re-embedding (a pending mode
    swap, ``--status`` "mode-pending") is cleared too: that swap is abandoned with its copy.

    Args:
        collection: The collection or its name.
        client: The Chroma client.

    Returns:
        The names of the collections removed.

    Raises:
        SwapError: If a staging copy is mid-switch while ``collection`` is missing (it holds the
            only finished copy: finish the swap or undo it instead).
    """
    name = collection if isinstance(collection, str) else str(collection.name)
    stagings, _ = related_collections(client, name)
    current = get_or_none(client, name)
    dropped: list[str] = []
    for staging in stagings:
        journal = Journal.of(staging)
        if current is None and journal.phase == PHASE_SWITCHING:
            raise SwapError(f"Not dropped: {swap_status(name, client=client).message}")
        for other in (str(staging.name), journal.sync):
            if other:
                drop(client, other)
                dropped.append(other)
    if current is not None:
        from autoembedding.swap.mode_undo import clear_reembed_mark

        clear_reembed_mark(client, name)
    return dropped


def _rename(collection: Any, new_name: str) -> None:
    with chroma_errors("rename", collection=str(collection.name)):
        collection.modify(name=new_name)


def _finish_undo(client: Any, name: str, moved: Any, drop_new: bool) -> UndoResult:
    """Step 3: clear the mark, the backup and sync names from the moved collection, or drop it."""
    journal = Journal.of(moved)
    if journal.sync:
        drop(client, journal.sync)
    metadata = {k: v for k, v in journal.metadata.items() if k not in (K_UNDO_OF, K_BACKUP, K_SYNC)}
    Journal(metadata).write(moved)
    if drop_new:
        drop(client, str(moved.name))
        kept, where = "", "was dropped"
    else:
        kept = str(moved.name)
        where = f"is kept as {kept!r}"
    record = get_record(get_or_none(client, name))
    serves = f", which serves {record.describe()}" if record is not None else ""
    return UndoResult(
        name, kept, f"Restored the original {name!r}{serves}; the swapped copy {where}."
    )
