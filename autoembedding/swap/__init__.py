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

from autoembedding.errors import SwapError
from autoembedding.swap.copy import copy_records
from autoembedding.swap.dense import swap_vectors
from autoembedding.swap.dispatch import swap
from autoembedding.swap.journal import (
    K_BACKUP,
    K_COUNT,
    K_OFFSET,
    K_PHASE,
    K_SOURCE,
    K_SYNC,
    K_UNDO_OF,
    Journal,
    backup_name,
    staging_name,
)
from autoembedding.swap.lock import SwapLockedError
from autoembedding.swap.result import SwapResult
from autoembedding.swap.status import STATES, SwapState, swap_status
from autoembedding.swap.switch import finish_switch, switch_names
from autoembedding.swap.sync import SyncResult, sync_swap
from autoembedding.swap.undo import UndoResult, drop_staging, undo, undo_swap
from autoembedding.swap.verify import verify_copy

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
