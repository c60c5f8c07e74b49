"""The states of a collection's swap (:data:`STATES`) and one of them (:class:`SwapState`).

:func:`~.status.swap_status` finds which; the lock (:func:`~.lock.running_state`) marks one as
running while another process holds the collection's lock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["STATES", "SwapState"]

#: Every state :func:`swap_status` reports, in the order it checks them.
STATES = (
    "running",
    "undo-interrupted",
    "switch-unfinished",
    "between-renames",
    "lost-between-renames",
    "switch-started",
    "leftover-staging",
    "copying",
    "verify-failed",
    "verifying",
    "absent",
    "mode-pending",
    "mode-indexing",
    "mode-swapped",
    "swapped",
    "swapped-backup-dropped",
    "idle",
)


@dataclass(frozen=True)
class SwapState:
    """One state of a collection's swap.

    Attributes:
        name: The collection.
        state: One of :data:`STATES`.
        message: What happened and what to run, in full sentences.
        command: The one command that finishes (or, where nothing can be finished, undoes) it;
            ``None`` when nothing needs doing.
        model: Label of the swap's new model, if one is under way or done.
        staging: The staging collection involved, if any.
        backup: The original's backup, if any.
        offset: Records copied so far (during the copy).
        total: Records the source held when the copy began.
        others: Other unfinished staging collections of this collection.
        retrieval: How the collection is searched now (its record's ``retrieval``:
            ``"dense"``, ``"lexical"`` or ``"hybrid"``), ``None`` without a record.
    """

    name: str
    state: str
    message: str
    command: str | None = None
    model: str | None = None
    staging: str | None = None
    backup: str | None = None
    offset: int | None = None
    total: int | None = None
    others: list[str] = field(default_factory=list)
    retrieval: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The state as plain JSON types (``autoembed swap --status --json``)."""
        return asdict(self)
