"""Undo a retrieval-mode swap (:mod:`~.mode`): restore the record before it, fix the index.

:func:`undo_mode` is the first step of :func:`~.undo.undo`; :func:`clear_reembed_mark` forgets
a hybrid's pending dense swap (after an undo, a ``--drop-staging`` or a dense swap that
finished the hybrid's copy).
"""

from __future__ import annotations

from typing import Any

from autoembedding.chroma.records import read_record
from autoembedding.swap.journal import (
    K_MODE_PHASE,
    K_MODE_PREV,
    K_MODE_TARGET,
    MODE_KEYS,
    Journal,
)
from autoembedding.swap.mode_apply import _clear_reembed_mark, write_metadata
from autoembedding.swap.mode_target import (
    PHASE_REEMBED,
    dump_previous,
    previous_records,
    target_label,
)
from autoembedding.swap.status import related_collections
from autoembedding.swap.store import get_or_none

__all__ = ["clear_reembed_mark", "undo_mode"]


def undo_mode(client: Any, name: str) -> tuple[str, str | None]:
    """Undo the latest retrieval-mode swap of ``name``, if its metadata records one.

    The record before it is restored; the BM25 index is dropped when that record served
    dense (or the swap re-embedded: the swapped copy is moved aside next), and rebuilt with the
    old tokenizer otherwise.

    Returns:
        ``(message, final)``: ``final`` is the whole undo's message when nothing else is to be
        undone, ``None`` when the caller must go on with the normal undo (a hybrid that
        re-embedded, or a pending hybrid's staging copy to abandon); ``message`` then says
        what was done so far (``""`` when there was no mode swap).
    """
    live = get_or_none(client, name)
    if live is None:
        return "", None
    journal = Journal.of(live)
    meta = journal.metadata
    stagings, undone = related_collections(client, name)
    if undone or journal.switching_of(name) or not any(k in meta for k in MODE_KEYS):
        return "", None
    record = read_record(live)
    if meta.get(K_MODE_PHASE) == PHASE_REEMBED:  # a hybrid's dense swap had not switched
        label = target_label(meta)
        write_metadata(live, meta, record, remove=(K_MODE_PHASE, K_MODE_TARGET))
        if stagings:
            return f"The swap of {name!r} to {label} had not switched.", None
        return "", f"The swap of {name!r} to {label} had not started; {name!r} is unchanged."
    history = previous_records(meta)
    if not history:  # unreadable: forget it, undo what the collections say
        write_metadata(live, meta, record, remove=MODE_KEYS)
        return "", None
    from autoembedding.retrieval.store import build_index, drop_index

    last = history.pop()
    prev = last.record
    if prev.retrieval == "dense" or last.reembedded:
        drop_index(live, client=client)
        what = "its BM25 index was dropped"
    else:
        build_index(live, prev.tokenizer, client=client)
        what = f"its BM25 index was rebuilt with {prev.tokenizer or 'detected'} tokens"
    rest = {K_MODE_PREV: dump_previous(history)} if history else {}
    write_metadata(live, meta, prev, rest, remove=MODE_KEYS)
    was = record.describe() if record is not None else "?"
    if last.reembedded and journal.backup:  # the caller undoes the dense swap too
        return f"Undid the swap of {name!r} to {was}: {what}.", None
    message = f"Restored {name!r} to {prev.describe()} (it served {was}); {what}."
    if last.reembedded:
        message += " Its re-embedding cannot be undone: the original was dropped (--drop-old)."
    return "", message


def clear_reembed_mark(client: Any, name: str | None) -> None:
    """Remove a hybrid's dense-swap mark from ``name`` (the restored original, or a backup)."""
    _clear_reembed_mark(client, name)
