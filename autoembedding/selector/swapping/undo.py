"""Undo a swap: put the original back under its name and move the swapped collection aside.

The undo is three steps, each completed by a rerun after a crash:

1. the swapped collection is marked ``swap_undo_of = NAME`` and renamed ``NAME__undone_<time>``;
2. the backup is renamed back to ``NAME``;
3. the mark and the backup name are removed from the swapped collection (or it is dropped).
"""

from __future__ import annotations

from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.errors import CollectionError, SwapError
from autoembedding.selector.swapping.journal import K_BACKUP, K_UNDO_OF, Journal, undone_name
from autoembedding.selector.swapping.store import drop, free_name, get_or_none, iter_collections

__all__ = ["undo_swap"]


def undo_swap(collection: Any, *, client: Any = None, drop_new: bool = False) -> str:
    """Put the original collection back under its name after :func:`swap`.

    The swapped collection is kept as ``NAME__undone_<UTC time>`` (or dropped with
    ``drop_new``). A rerun after a crash completes an interrupted undo.

    Args:
        collection: The collection or its name.
        client: The Chroma client holding it.
        drop_new: Delete the swapped collection instead of keeping it.

    Returns:
        The name the swapped collection was moved to (``""`` if dropped).

    Raises:
        SwapError: If there is nothing to undo (no backup recorded, or the backup is gone).
        CollectionError: If ``client`` is missing or Chroma fails (naming the collection).
    """
    if client is None:
        raise CollectionError("undo_swap() needs the Chroma client: undo_swap(name, client=...).")
    name = collection if isinstance(collection, str) else str(collection.name)
    current = get_or_none(client, name)
    if current is None:
        # Crashed between the two renames: find the swapped copy by its mark.
        moved = _pending_undo(client, name)
        if moved is None:
            raise SwapError(f"Collection {name!r} does not exist and no undo of it is pending.")
        backup = Journal.of(moved).backup
        original = get_or_none(client, backup) if backup else None
        if original is None:
            raise SwapError(f"The backup {backup!r} of {name!r} is gone; cannot undo.")
        _rename(original, name)
        return _finish_undo(client, moved, drop_new)
    journal = Journal.of(current)
    backup = journal.backup
    if not backup:
        pending = _pending_undo(client, name)
        if pending is not None:  # crashed before the last step
            return _finish_undo(client, pending, drop_new)
        raise SwapError(
            f"Collection {name!r} has no swap backup recorded; there is nothing to undo "
            "(was it swapped with --drop-old, or already undone?)."
        )
    original = get_or_none(client, backup)
    if original is None:
        raise SwapError(
            f"The backup {backup!r} of {name!r} no longer exists (dropped?); cannot undo."
        )
    moved_name = free_name(client, undone_name(name))
    journal.write(current, {K_UNDO_OF: name})  # step 1
    _rename(current, moved_name)
    _rename(original, name)  # step 2
    moved = get_or_none(client, moved_name)
    if moved is None:
        raise SwapError(f"Undo of {name!r} lost track of {moved_name!r}; nothing was deleted.")
    return _finish_undo(client, moved, drop_new)


def _pending_undo(client: Any, name: str) -> Any | None:
    """The swapped collection an interrupted undo of ``name`` moved aside, if any."""
    for col in iter_collections(client):
        if (col.metadata or {}).get(K_UNDO_OF) == name:
            return col
    return None


def _rename(collection: Any, new_name: str) -> None:
    with chroma_errors("rename", collection=str(collection.name)):
        collection.modify(name=new_name)


def _finish_undo(client: Any, moved: Any, drop_new: bool) -> str:
    """Step 3: clear the mark and the backup name from the moved collection, or drop it."""
    metadata = {k: v for k, v in (moved.metadata or {}).items() if k not in (K_UNDO_OF, K_BACKUP)}
    Journal(metadata).write(moved)
    if drop_new:
        drop(client, str(moved.name))
        return ""
    return str(moved.name)
