"""The switch phase: the verified copy takes the collection's name; the original becomes a backup.

The switch is four steps, each recognised and completed by the next run if a crash stops it:

1. the staging journal says ``"switching"`` and names the backup;
2. the original is renamed to the backup name;
3. the staging collection is renamed to the original name;
4. the journal keys are removed (the backup and baseline names stay, for undo and sync).

With ``drop_old`` the backup and the baseline are then dropped and forgotten. :func:`swap` does
that itself, only after the reconciliation has carried over writes that landed in the backup.

Nothing is written to the original; it is only renamed.
"""

from __future__ import annotations

import time
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.errors import SwapError
from autoembedding.swap.journal import (
    K_BACKUP,
    K_PHASE,
    K_SOURCE,
    PHASE_SWITCHING,
    Journal,
    backup_name,
)
from autoembedding.swap.store import free_name, get_or_none, phase_errors
from autoembedding.swap.sync import retire_backup

__all__ = ["begin_switch", "finish_switch", "switch_names"]

#: Seconds to sleep between the steps of the switch. Only the crash tests set it, to widen the
#: window in which they kill the process; never needed otherwise.
_STEP_PAUSE_S = 0.0


def switch_names(
    client: Any, name: str, staging: str, journal: Journal, *, drop_old: bool = False
) -> str | None:
    """Run the whole switch of a verified copy (steps 1 to 4); return the backup's name.

    Args:
        client: The Chroma client holding both collections.
        name: The collection's name (the original holds it now).
        staging: The verified staging collection's name.
        journal: The staging collection's journal.
        drop_old: Delete the original after the switch instead of keeping it as a backup.

    Returns:
        The backup's name, or ``None`` with ``drop_old``.

    Raises:
        SwapError: If a step fails; a rerun completes the switch (no data was deleted).
    """
    with phase_errors(
        "switching names",
        state="Rerun the same command to complete the switch (no data was deleted).",
    ):
        journal = begin_switch(client, name, staging, journal)
        return finish_switch(client, name, staging, journal, drop_old=drop_old)


def begin_switch(client: Any, name: str, staging: str, journal: Journal) -> Journal:
    """Step 1: choose a free backup name and journal the switch in the staging collection."""
    collection = get_or_none(client, staging)
    if collection is None:
        raise SwapError(f"The staging collection {staging!r} is gone; nothing was renamed.")
    backup = free_name(client, backup_name(name))
    journal = journal.write(collection, {K_PHASE: PHASE_SWITCHING, K_BACKUP: backup})
    time.sleep(_STEP_PAUSE_S)
    return journal


def finish_switch(
    client: Any, name: str, staging: str, journal: Journal, *, drop_old: bool = False
) -> str | None:
    """Steps 2 to 4, from whatever step a previous run reached; return the backup's name.

    Args:
        client: The Chroma client.
        name: The collection's name.
        staging: The staging collection's name.
        journal: A journal in the ``"switching"`` phase (from the staging collection, or from
            the collection now called ``name`` if the crash came after step 3).
        drop_old: Delete the backup at the end.

    Returns:
        The backup's name, or ``None`` with ``drop_old``.

    Raises:
        SwapError: If the collections are in a state no switch leaves; nothing is deleted.
    """
    backup = journal.backup
    if backup is None:
        raise SwapError(f"The swap journal of {name!r} names no backup; inspect it by hand.")
    original = get_or_none(client, name)
    copy = get_or_none(client, staging)
    if copy is not None and original is not None:
        if original.metadata and original.metadata.get(K_SOURCE) == name:
            raise SwapError(f"Both {name!r} and {staging!r} are swap copies; inspect them by hand.")
        if get_or_none(client, backup) is not None:
            raise SwapError(
                f"Cannot keep the original as {backup!r}: a collection with that name exists."
            )
        with chroma_errors("rename", collection=name):
            original.modify(name=backup)  # step 2: the original becomes the backup
        original = None
        time.sleep(_STEP_PAUSE_S)
    if copy is not None and original is None:
        if get_or_none(client, backup) is None:
            raise SwapError(
                f"Staging collection {staging!r} is ready but neither {name!r} nor its backup "
                f"{backup!r} exists; rename {staging!r} by hand if that is what you want."
            )
        with chroma_errors("rename", collection=staging):
            copy.modify(name=name)  # step 3: the copy takes the original name
        time.sleep(_STEP_PAUSE_S)
    new = get_or_none(client, name)
    if new is None:
        raise SwapError(f"Switch of {name!r} lost track of the collections; nothing was deleted.")
    Journal(Journal.of(new).cleared()).write(new, {K_BACKUP: backup})  # step 4
    if drop_old:
        retire_backup(client, name)  # and forget it, so nothing suggests an undo
        return None
    return backup
