"""After the switch: carry over writes that landed in the backup, and retire the backup.

Chroma has no aliases. A collection handle opened before the switch points at the renamed
original (``NAME__backup_<time>``), so an app that keeps such a handle keeps writing there. The
reconciliation compares the backup with the baseline (the fingerprints the new collection held at
the switch, :mod:`~.baseline`): every record added, changed or deleted in the backup since the
switch is applied to the new collection, embedded with the new model, unless the new collection
changed that record itself since the switch (then the new collection wins, and the record is
counted as a conflict). :func:`swap` runs it right after the switch; :func:`sync_swap`
(``autoembed swap --sync``) reruns it whenever stale handles may have written since.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.pages import Page, iter_pages
from autoembedding.chroma.records import get_record
from autoembedding.errors import CollectionError, ModelMismatchError, SwapError
from autoembedding.swap.baseline import (
    delete_fps,
    delete_records,
    fingerprint,
    read_content,
    read_fps,
    write_fps,
)
from autoembedding.swap.catchup import upsert_picked
from autoembedding.swap.guard import locked
from autoembedding.swap.journal import K_BACKUP, K_SYNC, Journal
from autoembedding.swap.store import drop, get_or_none, replace_metadata

__all__ = ["SyncResult", "reconcile", "retire_backup", "sync_swap"]


@dataclass(frozen=True)
class SyncResult:
    """What a reconciliation carried over from the backup to the new collection.

    Attributes:
        name: The swapped collection.
        backup: The backup compared (``None`` if there is none any more).
        carried: Records added or changed in the backup and written to ``name``.
        deleted: Records deleted in the backup and deleted from ``name``.
        conflicts: Ids changed both in the backup and in ``name`` since the switch (``name``
            kept its version).
        unmovable: Ids written to the backup with no document (cannot be re-embedded).
        seconds: Wall time.
    """

    name: str
    backup: str | None
    carried: int = 0
    deleted: int = 0
    conflicts: list[str] = field(default_factory=list)
    unmovable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changes(self) -> int:
        """Records written or deleted in the new collection."""
        return self.carried + self.deleted

    def summary(self) -> str:
        """One line, as ``autoembed swap --sync`` prints it."""
        if self.backup is None:
            return f"{self.name!r} has no backup any more; nothing to carry over."
        text = (
            f"Synced {self.name!r} with its backup {self.backup!r}: {self.carried} record(s) "
            f"carried over, {self.deleted} deleted"
        )
        if self.conflicts:
            text += (
                f"; {len(self.conflicts)} changed in both since the switch kept the new "
                f"collection's version (e.g. {self.conflicts[:3]})"
            )
        if self.unmovable:
            text += f"; {len(self.unmovable)} without a document skipped ({self.unmovable[:3]})"
        return text + "."


def reconcile(
    backup: Any, live: Any, baseline: Any, adapter: Any, *, page_size: int = 256
) -> SyncResult:
    """Apply to ``live`` what changed in ``backup`` since the switch (see the module docstring).

    Args:
        backup: The renamed original.
        live: The new collection.
        baseline: Fingerprints ``live`` held at the switch; updated as records are settled, so
            a rerun does nothing twice.
        adapter: The new model.
        page_size: Records read at a time.
    """
    start = time.perf_counter()
    carried = 0
    conflicts: list[str] = []
    unmovable: list[str] = []
    pages = iter_pages(backup, page_size)
    while True:
        with chroma_errors("read", collection=str(backup.name)):
            page = next(pages, None)
        if page is None:
            break
        done, clash, stuck = _carry_page(page, live, baseline, adapter)
        carried, conflicts, unmovable = carried + done, conflicts + clash, unmovable + stuck
    deleted, clash = _carry_deletes(backup, live, baseline, page_size)
    return SyncResult(
        name=str(live.name),
        backup=str(backup.name),
        carried=carried,
        deleted=deleted,
        conflicts=conflicts + clash,
        unmovable=unmovable,
        seconds=time.perf_counter() - start,
    )


def _carry_page(
    page: Page, live: Any, baseline: Any, adapter: Any
) -> tuple[int, list[str], list[str]]:
    fps = [fingerprint(d, m) for d, m in zip(page.documents, page.metadatas, strict=True)]
    base = read_fps(baseline, page.ids)
    moved = [k for k, i in enumerate(page.ids) if base.get(i) != fps[k]]
    if not moved:
        return 0, [], []
    now = read_content(live, [page.ids[k] for k in moved])
    settle: dict[str, str] = {}
    apply: list[int] = []
    clash: list[str] = []
    stuck: list[str] = []
    for k in moved:
        i = page.ids[k]
        got = now.get(i)
        have = fingerprint(got[0], got[1]) if got is not None else None
        if have == fps[k]:
            settle[i] = fps[k]
        elif have == base.get(i):  # the new collection is as the switch left it
            if page.documents[k] is None:
                stuck.append(i)
            else:
                apply.append(k)
        else:
            clash.append(i)
            settle[i] = fps[k]
    if apply:
        upsert_picked(live, adapter, page, apply, now)
        settle.update({page.ids[k]: fps[k] for k in apply})
    write_fps(baseline, settle)
    return len(apply), clash, stuck


def _carry_deletes(backup: Any, live: Any, baseline: Any, page_size: int) -> tuple[int, list[str]]:
    """Delete from ``live`` what was deleted from ``backup`` since the switch."""
    forget: list[str] = []
    remove: list[str] = []
    clash: list[str] = []
    pages = iter_pages(baseline, page_size, include=("metadatas",))
    while True:
        with chroma_errors("read", collection=str(baseline.name)):
            page = next(pages, None)
        if page is None:
            break
        with chroma_errors("read", collection=str(backup.name)):
            present = set(backup.get(ids=page.ids, include=[])["ids"])
        gone = [k for k, i in enumerate(page.ids) if i not in present]
        if not gone:
            continue
        now = read_content(live, [page.ids[k] for k in gone])
        for k in gone:
            i = page.ids[k]
            forget.append(i)
            got = now.get(i)
            if got is None:
                continue
            if fingerprint(got[0], got[1]) == (page.metadatas[k] or {}).get("fp"):
                remove.append(i)
            else:
                clash.append(i)
    delete_records(live, remove)
    delete_fps(baseline, forget)
    return len(remove), clash


def _adapter_for(live: Any, model: Any, options: dict[str, Any]) -> Any:
    """The new model: ``model`` if given (checked against the record), else the record's."""
    from autoembedding.swap.model import resolve_model

    record = get_record(live)
    if model is None:
        if record is None:
            raise SwapError(
                f"{live.name!r} records no model, so --sync cannot tell which model to embed "
                "with; pass it (--model / model=)."
            )
        from autoembedding.adapters import get_adapter

        return get_adapter(record.model_id, **{**record.to_options(), **options})
    adapter, given = resolve_model(model, options)
    if record is not None and not record.same_vectors_as(given):
        raise ModelMismatchError(
            f"{live.name!r} holds vectors of {record.describe()}, not {given.describe()}; "
            "sync with the collection's own model (leave --model out)."
        )
    return adapter


@locked("sync")
def sync_swap(
    collection: Any,
    *,
    client: Any = None,
    model: Any = None,
    page_size: int = 256,
    **adapter_options: Any,
) -> SyncResult:
    """Carry over writes made to the backup of a swapped collection since its switch.

    :func:`swap` runs this once right after the switch. Run it again when apps that opened the
    collection before the switch may have written since (their handles point at the backup):
    ``autoembed swap --sync --collection NAME``. Rerunning it is always safe.

    Args:
        collection: The swapped collection or its name.
        client: The Chroma client holding it.
        model: The new model (default: the one the collection's record names).
        page_size: Records read at a time.
        **adapter_options: Options for ``get_adapter``.

    Returns:
        A :class:`SyncResult`.

    Raises:
        SwapError: If ``collection`` has no swap to sync (the message says its state) or its
            baseline is gone.
        ModelMismatchError: If ``model`` is not the collection's model.
        CollectionError: If ``client`` is missing or Chroma fails.
    """
    if client is None:
        raise CollectionError("sync_swap() needs the Chroma client: sync_swap(name, client=...).")
    name = collection if isinstance(collection, str) else str(collection.name)
    live = get_or_none(client, name)
    journal = Journal.of(live)
    if live is None or not journal.backup:
        from autoembedding.swap.status import swap_status

        state = swap_status(name, client=client)
        raise SwapError(f"Nothing to sync: {state.message}")
    backup = get_or_none(client, journal.backup)
    if backup is None:
        retire_backup(client, name)
        return SyncResult(name=name, backup=None)
    baseline = get_or_none(client, journal.sync) if journal.sync else None
    if baseline is None:
        raise SwapError(
            f"{name!r} was swapped by a version without a sync baseline (or its "
            f"{journal.sync or 'baseline'!r} collection was deleted), so writes made to the "
            f"backup {journal.backup!r} since the switch cannot be told apart from the original "
            "records; compare the two by hand."
        )
    adapter = _adapter_for(live, model, adapter_options)
    result = reconcile(backup, live, baseline, adapter, page_size=page_size)
    record = get_record(live)
    if result.changes and record is not None and record.retrieval != "dense":
        from autoembedding.retrieval.store import build_index

        build_index(live, record.tokenizer, client=client)  # the carried records, indexed
    return result


def retire_backup(client: Any, name: str) -> None:
    """Drop the backup and the baseline of ``name``'s swap; forget them in its metadata.

    After this, handles opened before the switch fail loudly on their next write (their
    collection no longer exists) instead of writing where nobody reads.
    """
    live = get_or_none(client, name)
    journal = Journal.of(live)
    for other in (journal.backup, journal.sync):
        if other:
            drop(client, other)
    if live is not None and (journal.backup or journal.sync):
        kept = {k: v for k, v in journal.metadata.items() if k not in (K_BACKUP, K_SYNC)}
        replace_metadata(live, kept, journal.metadata)
