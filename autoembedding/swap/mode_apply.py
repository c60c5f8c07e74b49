"""Apply a retrieval mode to a collection that holds the right vectors (the mode swap's core).

:func:`~.mode.swap_mode` re-embeds first when a hybrid's model is not the recorded one, then calls
:func:`apply_mode`; a dense swap of a collection that already holds its vectors but serves BM25 or
a hybrid calls it directly to switch back to dense. Here: the mode journal's marks, the BM25
index built (or dropped) and the record rewritten, and what the result says.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.records import read_record, user_metadata
from autoembedding.errors import CollectionError
from autoembedding.progress import ProgressFn
from autoembedding.record import METADATA_PREFIX, ModelRecord
from autoembedding.swap.journal import (
    K_MODE_PHASE,
    K_MODE_PREV,
    K_MODE_TARGET,
    Journal,
)
from autoembedding.swap.mode_target import (
    DEFAULT_WEIGHT,
    PHASE_INDEX,
    PHASE_REEMBED,
    ModeTarget,
    Previous,
    dump_previous,
    previous_records,
)
from autoembedding.swap.result import SwapResult
from autoembedding.swap.status import connection_flags
from autoembedding.swap.store import get_or_none, phase_errors, replace_metadata

__all__ = ["apply_mode", "clear_reembed_mark", "write_metadata"]

_SWAP_PREFIX = METADATA_PREFIX + "swap_"


def apply_mode(
    client: Any,
    name: str,
    target: ModeTarget,
    *,
    start: float,
    dense: SwapResult | None = None,
    reembedded: bool = False,
    page_size: int = 256,
    progress: bool | ProgressFn = True,
) -> SwapResult:
    """Serve ``target`` from ``name``'s vectors: build (or drop) the index, rewrite the record.

    Args:
        client: The Chroma client.
        name: The collection.
        target: The mode to serve.
        start: When the swap started (``time.perf_counter()``), for the result's seconds.
        dense: The result of the dense swap that came first, if any.
        reembedded: Whether this mode swap re-embedded the collection.
        page_size: Records read at a time to build the index.
        progress: As for :func:`~autoembedding.swap.swap`.

    Raises:
        CollectionError: If the collection records no model, or Chroma fails.
        SwapError: If building the index fails; rerun the same call to finish.
    """
    flags = connection_flags(client)
    live = get_or_none(client, name)
    if live is None:
        from autoembedding.swap.complete import missing_collection_error

        raise missing_collection_error(client, name)
    current = read_record(live)
    if current is None:
        again = f"autoembed swap {flags} --collection {shlex.quote(name)} --model"
        raise CollectionError(
            f"Collection {name!r} records no model, so which model must embed its new "
            f"documents is unknown (a {target.retrieval} swap keeps the vectors and embeds new "
            f"documents with it). Record it first by swapping to the model that made its "
            f"vectors (it re-embeds them): {again} <id> ; or swap straight to a hybrid of a "
            f"model: {again} hybrid:<id>+bm25"
        )
    meta = Journal.of(live).metadata
    history = previous_records(meta)
    resuming = meta.get(K_MODE_PHASE) == PHASE_INDEX and bool(history)
    if not resuming and _serves(current, target):
        return _done_already(client, live, current, target, start, flags, dense)
    if resuming:  # the interrupted swap's entry (the record before it) is the latest
        last = history.pop()
        entry = Previous(last.record, last.reembedded or reembedded)
    else:
        entry = Previous(current, reembedded)
    reembedded = entry.reembedded
    changes = {
        K_MODE_PHASE: PHASE_INDEX,
        K_MODE_TARGET: target.to_json(),
        K_MODE_PREV: dump_previous([*history, entry]),
    }
    meta = write_metadata(live, meta, current, changes)
    index_s = index_bytes = index_docs = None
    again = (
        f"The record was not changed. Rerun the same command to finish: autoembed swap {flags} "
        f"--collection {name} --model {target.command_label} ; or undo it: autoembed swap "
        f"{flags} --collection {name} --undo"
    )
    with phase_errors("building the BM25 index", state=again):
        from autoembedding.retrieval.store import build_index, drop_index, index_folder

        if target.retrieval == "dense":
            drop_index(live, client=client)
            record = current.with_retrieval("dense")
        else:
            began = time.perf_counter()
            index = build_index(
                live, target.tokenizer, client=client, page_size=page_size, progress=progress
            )
            index_s = time.perf_counter() - began
            index_docs = index.count
            index_bytes = _folder_bytes(index_folder(live, client=client))
            record = current.with_retrieval(
                target.retrieval,
                tokenizer=index.tokenizer.spec,
                fusion=target.fusion,
                fusion_weight=target.fusion_weight,
                rrf_k=target.rrf_k,
            )
        written = write_metadata(live, meta, record, remove=(K_MODE_PHASE, K_MODE_TARGET))
    if reembedded:
        _clear_reembed_mark(client, Journal.of(get_or_none(client, name)).backup)
    notes = _notes(target, record)
    with chroma_errors("count the records of", collection=name):
        docs = int(live.count())
    return SwapResult(
        name=name,
        record=record,
        backup=dense.backup if dense is not None else Journal(written).backup,
        docs=docs,
        embedded=dense.embedded if dense is not None else 0,
        resumed_from=dense.resumed_from if dense is not None else 0,
        seconds=time.perf_counter() - start,
        docs_per_s=dense.docs_per_s if dense is not None else 0.0,
        verified_vectors=dense.verified_vectors if dense is not None else 0,
        caught_up=dense.caught_up if dense is not None else 0,
        synced=dense.synced if dense is not None else 0,
        connection=flags,
        **_mode_fields(record),
        index_s=index_s,
        index_bytes=index_bytes,
        index_docs=index_docs,
        notes=notes,
        reembedded=reembedded,
    )


def _clear_reembed_mark(client: Any, name: str | None) -> None:
    """Remove the mark of a hybrid's dense swap from ``name`` (the original, or its backup)."""
    col = get_or_none(client, name) if name else None
    meta = Journal.of(col).metadata
    if col is not None and meta.get(K_MODE_PHASE) == PHASE_REEMBED:
        write_metadata(col, meta, read_record(col), remove=(K_MODE_PHASE, K_MODE_TARGET))


def _serves(record: ModelRecord, target: ModeTarget) -> bool:
    """Whether ``record`` already serves ``target`` (same mode, tokenizer and fusion)."""
    if record.retrieval != target.retrieval:
        return False
    if target.retrieval == "dense":
        return True
    if target.tokenizer and record.tokenizer != target.tokenizer:
        return False
    if target.retrieval == "lexical":
        return True
    if target.fusion == "rrf":
        return record.fusion == "rrf" and record.rrf_k == target.rrf_k
    return record.fusion == "convex" and record.fusion_weight == target.fusion_weight


def _done_already(
    client: Any,
    live: Any,
    record: ModelRecord,
    target: ModeTarget,
    start: float,
    flags: str,
    dense: SwapResult | None,
) -> SwapResult:
    """Nothing to change; make sure the index is there and fresh (rebuilt with a warning)."""
    name = str(live.name)
    index_docs = None
    if record.retrieval != "dense":
        from autoembedding.retrieval.store import open_index

        index_docs = open_index(live, record.tokenizer, client=client).count
    with chroma_errors("count the records of", collection=name):
        docs = int(live.count())
    return SwapResult(
        name=name,
        record=record,
        backup=Journal.of(live).backup,
        docs=docs,
        embedded=0,
        resumed_from=0,
        seconds=time.perf_counter() - start,
        docs_per_s=0.0,
        verified_vectors=0,
        already_done=True,
        synced=dense.synced if dense is not None else 0,
        connection=flags,
        **_mode_fields(record),
        index_docs=index_docs,
    )


def _mode_fields(record: ModelRecord) -> dict[str, Any]:
    return {
        "retrieval": record.retrieval,
        "tokenizer": record.tokenizer,
        "fusion": record.fusion,
        "fusion_weight": record.fusion_weight,
        "mode_swap": True,
    }


def _notes(target: ModeTarget, record: ModelRecord) -> tuple[str, ...]:
    notes = []
    if record.retrieval != "dense" and not target.tokenizer:
        notes.append(
            f"The language was detected from the documents: {record.tokenizer!r} tokens "
            f"(force another with bm25:<lang>)."
        )
    if target.weight_from == "default":
        notes.append(
            f"The dense weight is the default {DEFAULT_WEIGHT:g}: pass --fusion-weight W "
            "(fusion_weight=W) with the weight the probe report shows for this hybrid, or "
            "swap with the probe's CandidateResult."
        )
    elif target.weight_from:
        notes.append(f"The dense weight {target.fusion_weight:g} is the {target.weight_from}'s.")
    return tuple(notes)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def write_metadata(
    collection: Any,
    metadata: Mapping[str, Any],
    record: ModelRecord | None,
    changes: Mapping[str, Any] | None = None,
    *,
    remove: Iterable[str] = (),
) -> dict[str, Any]:
    """Write ``record`` into a collection's metadata, keeping the user's and the swap keys.

    Unlike :func:`~autoembedding.chroma.records.write_record`, the ``autoembedding:swap_*``
    keys (the backup a swap keeps, its sync baseline, the mode journal) survive.

    Returns:
        The metadata written.
    """
    gone = set(remove)
    kept = {k: v for k, v in metadata.items() if k.startswith(_SWAP_PREFIX) and k not in gone}
    new = {**user_metadata(metadata), **kept, **(record.to_metadata() if record else {})}
    new.update(changes or {})
    replace_metadata(collection, new, metadata)
    return new


def clear_reembed_mark(client: Any, name: str | None) -> None:
    """Remove a hybrid's dense-swap mark from ``name`` (the restored original, or a backup)."""
    _clear_reembed_mark(client, name)
