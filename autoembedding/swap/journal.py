"""The swap's journal, and the names of the collections a swap makes.

The journal lives in the staging collection's own metadata, so it works on an embedded client
and on a server alike. Its keys (``autoembedding:swap_*``) are a stored format: a swap
interrupted by an older version of this package resumes with this one, so never rename them.

* ``swap_source``: the name of the collection being moved;
* ``swap_phase``: ``"copy"``, ``"verify"`` or ``"switching"``;
* ``swap_offset``: the next record to copy (advanced only after its page is written);
* ``swap_source_count``: the number of records the source held when the copy began;
* ``swap_backup``: the name the original gets (kept on the new collection after the switch, so
  :func:`~autoembedding.swap.undo.undo_swap` can find it);
* ``swap_verify_failed``: why the verification of the copy failed (the copy is kept, nothing
  was renamed; ``--status`` says so and how to remove it);
* ``swap_undo_of``: set on the swapped collection while an undo moves it aside;
* ``swap_sync``: the name of the *baseline* collection (ids and content fingerprints of what the
  new collection held at the switch), kept on the new collection after the switch so
  :func:`~autoembedding.swap.sync.sync_swap` can carry over writes that land in the
  backup through handles opened before the switch.

A *retrieval-mode* swap (to ``bm25`` or a hybrid, :mod:`~.mode`) re-embeds nothing (unless a
hybrid's dense part is another model: that is first a normal swap), so its journal lives in the
collection's own metadata (``autoembedding:swap_mode_*`` keys):

* ``swap_mode_phase``: ``"reembed"`` (written on the original before a hybrid's dense swap) or
  ``"index"`` (the BM25 index is being built; the record is not written yet);
* ``swap_mode_target``: what was asked, as JSON (label, forced tokenizer, fusion, weight);
* ``swap_mode_prev``: the records before each mode swap, the latest last, as JSON, each with
  whether that swap began with a dense swap (kept for undo, which undoes that swap too).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from autoembedding.chroma.records import merged_metadata, user_metadata
from autoembedding.record import METADATA_PREFIX, ModelRecord
from autoembedding.swap.store import MAX_NAME, replace_metadata, trim_name

__all__ = [
    "JOURNAL_KEYS",
    "K_BACKUP",
    "K_COUNT",
    "K_OFFSET",
    "K_PHASE",
    "K_SOURCE",
    "K_SYNC",
    "K_MODE_PHASE",
    "K_MODE_PREV",
    "K_MODE_TARGET",
    "K_UNDO_OF",
    "K_VERIFY_FAILED",
    "MAX_NAME",
    "MODE_KEYS",
    "PHASE_COPY",
    "PHASE_SWITCHING",
    "PHASE_VERIFY",
    "Journal",
    "backup_name",
    "mode_label",
    "model_label",
    "staging_name",
    "sync_name",
    "trim_name",
    "undone_name",
]

_J = METADATA_PREFIX + "swap_"
#: Journal keys (collection metadata) written by swap.
K_SOURCE = _J + "source"
K_PHASE = _J + "phase"
K_OFFSET = _J + "offset"
K_COUNT = _J + "source_count"
K_BACKUP = _J + "backup"
K_UNDO_OF = _J + "undo_of"
K_SYNC = _J + "sync"
#: Finished record ranges past ``K_OFFSET``, written by the Ray engine (pages end out of order).
K_DONE = _J + "done"
#: Why the verification of the copy failed (its message); the copy is kept, nothing renamed.
K_VERIFY_FAILED = _J + "verify_failed"
#: Keys removed once the switch is done (``K_BACKUP`` and ``K_SYNC`` stay for undo and sync).
JOURNAL_KEYS = (K_SOURCE, K_PHASE, K_OFFSET, K_COUNT, K_DONE, K_VERIFY_FAILED)

#: Journal keys of a retrieval-mode swap (kept in the collection itself; see the module docstring).
K_MODE_PHASE = _J + "mode_phase"
K_MODE_TARGET = _J + "mode_target"
K_MODE_PREV = _J + "mode_prev"
MODE_KEYS = (K_MODE_PHASE, K_MODE_TARGET, K_MODE_PREV)

#: Values of ``K_PHASE``, in order.
PHASE_COPY = "copy"
PHASE_VERIFY = "verify"
PHASE_SWITCHING = "switching"


# ---------------------------------------------------------------------------- names
def staging_name(name: str, record: ModelRecord) -> str:
    """Return the deterministic staging name for moving ``name`` to ``record``'s model.

    The name depends only on the collection name and the model record, so a rerun finds the
    staging collection of an interrupted run.
    """
    return trim_name(name, f"__swap_{_digest(name, record)}")


def sync_name(name: str, record: ModelRecord) -> str:
    """The baseline collection of a swap of ``name`` to ``record``'s model (``NAME__swapsync_*``).

    It holds one tiny record per id (the content fingerprint the new collection held at the
    switch); :func:`~autoembedding.swap.sync.sync_swap` compares the backup with it.
    """
    return trim_name(name, f"__swapsync_{_digest(name, record)}")


def _digest(name: str, record: ModelRecord) -> str:
    key = json.dumps({"name": name, **record.to_metadata()}, sort_keys=True)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def model_label(record: ModelRecord) -> str:
    """``id[@dim][:precision]``: the ``--model`` value that makes ``record``'s vectors."""
    label = record.model_id
    if record.truncate_dim:
        label += f"@{record.truncate_dim}"
    if record.precision != "float32":
        label += f":{record.precision}"
    return label


def mode_label(record: ModelRecord) -> str:
    """The ``--model`` label that serves ``record`` (the convex weight is not in it).

    :func:`model_label` for a dense record, ``bm25:<tokenizer>``,
    ``hybrid:<model label>+bm25:<tokenizer>`` or ``hybrid-rrf:<model label>+bm25:<tokenizer>``.
    """
    if record.retrieval == "dense":
        return model_label(record)
    lexical = f"bm25:{record.tokenizer}" if record.tokenizer else "bm25"
    if record.retrieval == "lexical":
        return lexical
    prefix = "hybrid-rrf" if record.fusion == "rrf" else "hybrid"
    return f"{prefix}:{model_label(record)}+{lexical}"


def backup_name(name: str, when: datetime | None = None) -> str:
    """``NAME__backup_<UTC timestamp>``, trimmed to Chroma's 512-character limit."""
    when = when or datetime.now(timezone.utc)
    return trim_name(name, "__backup_" + when.strftime("%Y%m%dT%H%M%SZ"))


def undone_name(name: str, when: datetime | None = None) -> str:
    """``NAME__undone_<UTC timestamp>``: where an undo moves the swapped collection."""
    when = when or datetime.now(timezone.utc)
    return trim_name(name, "__undone_" + when.strftime("%Y%m%dT%H%M%SZ"))


# ---------------------------------------------------------------------------- journal
@dataclass(frozen=True)
class Journal:
    """A swap's journal: a collection's whole metadata, the journal keys among the rest.

    It is immutable; :meth:`write` stores a changed copy in the collection and returns it.

    Attributes:
        metadata: The collection metadata (user keys, model record and journal keys).
    """

    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, collection: Any | None) -> Journal:
        """The journal read from ``collection``'s metadata (empty for ``None``)."""
        if collection is None:
            return cls()
        return cls(dict(getattr(collection, "metadata", None) or {}))

    @classmethod
    def start(
        cls, name: str, source_metadata: Mapping[str, Any] | None, record: ModelRecord, total: int
    ) -> Journal:
        """The first journal of a copy of ``name`` (``total`` records) to ``record``'s model.

        The user's own metadata of the source is kept; the model record is written in.
        """
        metadata = merged_metadata(user_metadata(source_metadata), record)
        metadata.update({K_SOURCE: name, K_PHASE: PHASE_COPY, K_OFFSET: 0, K_COUNT: total})
        return cls(metadata)

    @property
    def phase(self) -> str | None:
        """``"copy"``, ``"verify"``, ``"switching"``, or ``None`` outside a swap."""
        value = self.metadata.get(K_PHASE)
        return None if value is None else str(value)

    @property
    def source(self) -> str | None:
        """Name of the collection being moved."""
        value = self.metadata.get(K_SOURCE)
        return None if value is None else str(value)

    @property
    def offset(self) -> int:
        """Offset of the next record to copy (0 before the copy)."""
        return int(self.metadata.get(K_OFFSET, 0))

    @property
    def source_count(self) -> int | None:
        """Records in the source when the copy began, if recorded."""
        value = self.metadata.get(K_COUNT)
        return None if value is None else int(value)

    @property
    def backup(self) -> str | None:
        """Name of the original's backup, once the switch has chosen it."""
        value = self.metadata.get(K_BACKUP)
        return str(value) if value else None

    @property
    def sync(self) -> str | None:
        """Name of the baseline collection :func:`~.sync.sync_swap` compares the backup with."""
        value = self.metadata.get(K_SYNC)
        return str(value) if value else None

    @property
    def verify_failed(self) -> str | None:
        """Why the verification of this staging copy failed, if it did."""
        value = self.metadata.get(K_VERIFY_FAILED)
        return str(value) if value else None

    @property
    def undo_of(self) -> str | None:
        """The collection an interrupted undo moved this one away from, if any."""
        value = self.metadata.get(K_UNDO_OF)
        return str(value) if value else None

    def switching_of(self, name: str) -> bool:
        """Whether this journal says the switch of ``name`` began and was not finished."""
        return self.phase == PHASE_SWITCHING and self.source == name

    def cleared(self) -> dict[str, Any]:
        """The metadata without the journal keys (what the finished collection keeps)."""
        return {k: v for k, v in self.metadata.items() if k not in JOURNAL_KEYS}

    def write(self, collection: Any, changes: Mapping[str, Any] | None = None) -> Journal:
        """Store this journal, with ``changes``, as ``collection``'s metadata; return the new one.

        Raises:
            CollectionError: If Chroma refuses the write (translated, naming the collection).
        """
        metadata = {**self.metadata, **(changes or {})}
        replace_metadata(collection, metadata, self.metadata)
        return Journal(metadata)
