"""Move a Chroma collection to another embedding model safely, resumably and in place.

:func:`swap` streams the collection in pages, embeds each page with the new model and writes it
to a *staging* collection; it then verifies the copy and switches names so that the new
collection takes the original name and the original is kept as ``NAME__backup_<UTC time>``.
:func:`undo_swap` switches back.

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

The original collection is never written before the switch; during the switch it is only
renamed. Readers that open the collection by name through
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

import hashlib
import json
import math
import queue
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from autoembedding.chroma.errors import is_not_found
from autoembedding.chroma.pages import Page, iter_pages
from autoembedding.chroma.records import get_record
from autoembedding.errors import AutoEmbeddingError, CollectionError, SwapError
from autoembedding.record import METADATA_PREFIX, ModelRecord

__all__ = ["SwapError", "SwapResult", "backup_name", "staging_name", "swap", "undo_swap"]

_J = METADATA_PREFIX + "swap_"
#: Journal keys (collection metadata) written by swap.
K_SOURCE = _J + "source"
K_PHASE = _J + "phase"
K_OFFSET = _J + "offset"
K_COUNT = _J + "source_count"
K_BACKUP = _J + "backup"
K_UNDO_OF = _J + "undo_of"
_JOURNAL_KEYS = (K_SOURCE, K_PHASE, K_OFFSET, K_COUNT)

_MAX_NAME = 512
_QUEUE_PAGES = 2
#: Seconds to sleep between the steps of the switch. Only the crash tests set it, to widen the
#: window in which they kill the process; never needed otherwise.
_STEP_PAUSE_S = 0.0


@dataclass(frozen=True)
class SwapResult:
    """What :func:`swap` did.

    Attributes:
        name: The collection name, now holding the new model's vectors.
        record: The model record written into the new collection's metadata.
        backup: Name of the kept original, or ``None`` if it was dropped.
        docs: Records in the collection.
        embedded: Records embedded by this run (less than ``docs`` when resumed).
        resumed_from: Offset this run resumed copying from (0 for a fresh run).
        seconds: Wall time of this run.
        docs_per_s: ``embedded / seconds`` for the copy phase.
        verified_vectors: Vectors re-embedded and compared during verification.
        already_done: True when the collection was already on this model and nothing was done.
    """

    name: str
    record: ModelRecord
    backup: str | None
    docs: int
    embedded: int
    resumed_from: int
    seconds: float
    docs_per_s: float
    verified_vectors: int
    already_done: bool = False

    def summary(self) -> str:
        """One human-readable line, as the CLI prints it."""
        if self.already_done:
            return f"{self.name!r} already holds {self.record.describe()}; nothing to do."
        kept = f"original kept as {self.backup!r}" if self.backup else "original dropped"
        resumed = f", resumed at {self.resumed_from}" if self.resumed_from else ""
        return (
            f"Swapped {self.name!r} to {self.record.describe()}: {self.docs} docs, "
            f"{self.embedded} embedded in {self.seconds:.1f} s ({self.docs_per_s:.1f} docs/s"
            f"{resumed}); {self.verified_vectors} vectors re-checked; {kept}. "
            f"Undo with: autoembed swap --undo --collection {self.name}"
        )


# ---------------------------------------------------------------------------- names
def _trim(base: str, suffix: str) -> str:
    return base[: _MAX_NAME - len(suffix)] + suffix


def staging_name(name: str, record: ModelRecord) -> str:
    """Return the deterministic staging name for moving ``name`` to ``record``'s model."""
    key = json.dumps({"name": name, **record.to_metadata()}, sort_keys=True)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return _trim(name, f"__swap_{digest}")


def backup_name(name: str, when: datetime | None = None) -> str:
    """``NAME__backup_<UTC timestamp>``, trimmed to Chroma's 512-character limit."""
    when = when or datetime.now(timezone.utc)
    return _trim(name, "__backup_" + when.strftime("%Y%m%dT%H%M%SZ"))


def _undone_name(name: str, when: datetime | None = None) -> str:
    when = when or datetime.now(timezone.utc)
    return _trim(name, "__undone_" + when.strftime("%Y%m%dT%H%M%SZ"))


# ---------------------------------------------------------------------------- client helpers
def _get(client: Any, name: str) -> Any | None:
    """Return the collection called ``name``, or ``None``; other errors propagate."""
    try:
        return client.get_collection(name)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def _free_name(client: Any, name: str) -> str:
    candidate, n = name, 1
    while _get(client, candidate) is not None:
        n += 1
        candidate = _trim(name, f"_{n}")
    return candidate


def _user_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        k: v
        for k, v in (metadata or {}).items()
        if not k.startswith(METADATA_PREFIX) and not k.startswith("hnsw:")
    }


def _configuration(source: Any) -> dict[str, Any]:
    """Return the distance space (and HNSW options) of ``source``, for a new collection."""
    conf = getattr(source, "configuration", None) or {}
    hnsw = conf.get("hnsw") if isinstance(conf, Mapping) else None
    space = None
    if isinstance(hnsw, Mapping):
        space = hnsw.get("space")
    spann = conf.get("spann") if isinstance(conf, Mapping) else None
    if space is None and isinstance(spann, Mapping):
        space = spann.get("space")
    if space is None:
        space = (getattr(source, "metadata", None) or {}).get("hnsw:space", "l2")
    out: dict[str, Any] = {"space": space}
    if isinstance(hnsw, Mapping):
        for key in ("ef_construction", "ef_search", "max_neighbors"):
            if hnsw.get(key) is not None:
                out[key] = hnsw[key]
    return {"hnsw": out}


def _space(collection: Any) -> str:
    return str(_configuration(collection)["hnsw"]["space"])


def _wrap(step: str, exc: BaseException, state: str) -> SwapError:
    return SwapError(f"Swap failed while {step}: {type(exc).__name__}: {exc}. {state}")


# ---------------------------------------------------------------------------- model
def _resolve_model(model: Any, options: Mapping[str, Any]) -> tuple[Any, ModelRecord]:
    """Build an adapter and its record from a model id/label, a Candidate or an adapter."""
    from autoembedding.selector.types import Candidate

    if isinstance(model, str):
        cand = Candidate.parse(model)
        opts = dict(options)
        if cand.truncate_dim is not None:
            opts.setdefault("truncate_dim", cand.truncate_dim)
        if cand.precision != "float32":
            opts.setdefault("precision", cand.precision)
        from autoembedding.adapters import get_adapter

        adapter = get_adapter(cand.model_id, **opts)
    elif isinstance(model, Candidate):
        adapter = model.build()
    else:
        adapter = model
    if not hasattr(adapter, "embed_documents"):
        raise TypeError(
            f"model must be a model id, a Candidate or an embedding adapter, got {type(model)}."
        )
    record_fn = getattr(adapter, "record", None)
    if callable(record_fn):
        record = record_fn()
    else:
        record = ModelRecord(
            model_id=str(getattr(adapter, "name", type(adapter).__name__)),
            backend="custom",
            dim=int(adapter.dim),
        )
    return adapter, record


# ---------------------------------------------------------------------------- progress
class _Progress:
    def __init__(self, enabled: bool, total: int, initial: int, desc: str) -> None:
        self._bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # pragma: no cover - tqdm ships with our extras
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(
                    total=total,
                    initial=initial,
                    desc=desc,
                    unit="doc",
                    file=sys.stderr,
                    dynamic_ncols=True,
                )

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# ---------------------------------------------------------------------------- journal
def _journal(staging: Any, base_meta: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    meta = {**base_meta, **values}
    staging.modify(metadata=meta)
    return meta


# ---------------------------------------------------------------------------- copy
def _check_page(page: Page) -> list[str]:
    if len(set(page.ids)) != len(page.ids):
        dup = sorted({i for i in page.ids if page.ids.count(i) > 1})[:5]
        raise SwapError(
            f"Duplicate ids {dup} in the page at offset {page.offset}; ids must be unique."
        )
    missing = [i for i, d in zip(page.ids, page.documents, strict=True) if d is None]
    if missing:
        raise SwapError(
            f"{len(missing)} record(s) near offset {page.offset} have no document (e.g. ids "
            f"{missing[:5]}); swap re-embeds documents, so it cannot move records stored with "
            "embeddings only. Add their documents (collection.update(ids=..., documents=...)) "
            "or delete them."
        )
    return [d for d in page.documents if d is not None]


def _clean_metadatas(metas: list[Any]) -> list[Any] | None:
    if all(m is None for m in metas):
        return None
    return [m if m else None for m in metas]


def _copy(
    source: Any,
    staging: Any,
    adapter: Any,
    meta: dict[str, Any],
    start: int,
    total: int,
    page_size: int,
    progress: _Progress,
) -> tuple[int, dict[str, Any]]:
    """Embed and upsert every page from ``start``; returns (docs embedded, last journal).

    Three stages overlap: a reader thread fetches pages, this thread embeds them, a writer thread
    upserts them and then advances the journal offset. Queues hold at most two pages each.
    """
    read_q: queue.Queue[Any] = queue.Queue(maxsize=_QUEUE_PAGES)
    write_q: queue.Queue[Any] = queue.Queue(maxsize=_QUEUE_PAGES)
    abort = threading.Event()
    errors: list[tuple[str, BaseException]] = []
    state: dict[str, Any] = {"meta": meta, "offset": start}
    done = object()

    def hand_over(item: Any) -> bool:
        while not abort.is_set():
            try:
                read_q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        try:
            for page in iter_pages(source, page_size, start=start):
                if not hand_over(page):
                    return
            hand_over(done)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(("reading the source", exc))
            abort.set()

    def writer() -> None:
        try:
            while True:
                item = write_q.get()
                if item is done:
                    return
                page, vectors = item
                staging.upsert(
                    ids=page.ids,
                    embeddings=vectors,
                    documents=page.documents,
                    metadatas=_clean_metadatas(page.metadatas),
                )
                nxt = page.offset + len(page.ids)
                state["meta"] = _journal(staging, state["meta"], **{K_OFFSET: nxt})
                state["offset"] = nxt
                progress.update(len(page.ids))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(("writing the staging collection", exc))
            abort.set()

    read_t = threading.Thread(target=reader, name="swap-reader", daemon=True)
    write_t = threading.Thread(target=writer, name="swap-writer", daemon=True)
    read_t.start()
    write_t.start()

    def to_writer(item: Any) -> bool:
        while write_t.is_alive():
            try:
                write_q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    embedded = 0
    failure: BaseException | None = None
    step = ""
    try:
        while not abort.is_set():
            try:
                page = read_q.get(timeout=0.1)
            except queue.Empty:
                continue
            if page is done:
                break
            docs = _check_page(page)
            step = f"embedding the page at offset {page.offset}"
            vectors = np.asarray(adapter.embed_documents(docs), dtype=np.float32)
            if vectors.shape != (len(docs), int(adapter.dim)):
                raise SwapError(
                    f"The model returned vectors of shape {vectors.shape} for {len(docs)} "
                    f"documents; expected ({len(docs)}, {adapter.dim})."
                )
            if not to_writer((page, vectors)):
                break
            embedded += len(docs)
    except BaseException as exc:  # noqa: BLE001 - re-raised below with the saved state
        failure = exc
        abort.set()
    # Let the writer finish (and journal) every page already embedded, then stop.
    to_writer(done)
    write_t.join()
    abort.set()
    read_t.join()
    saved = (
        f"Records up to offset {state['offset']} of {total} are saved in the staging collection "
        f"{staging.name!r}; the original is untouched. Fix the cause and rerun the same command "
        "to resume."
    )
    if failure is not None:
        if isinstance(failure, SwapError) or not isinstance(failure, Exception):
            if isinstance(failure, SwapError):
                raise SwapError(f"{failure} {saved}") from failure
            raise failure
        raise _wrap(step or "embedding", failure, saved) from failure
    if errors:
        where, cause = errors[0]
        raise _wrap(where, cause, saved) from cause
    if state["offset"] < total:
        raise SwapError(
            f"Copied {state['offset']} of {total} records; the source returned fewer than it "
            "counts. Rerun the same command to resume."
        )
    return embedded, state["meta"]


# ---------------------------------------------------------------------------- verify
def _verify(
    source: Any, staging: Any, adapter: Any, page_size: int, sample: int, total: int
) -> int:
    """Compare the staging copy with the source page by page; returns vectors re-embedded."""
    got = staging.count()
    if got != total:
        raise SwapError(
            f"Verification failed: the staging collection {staging.name!r} holds {got} records, "
            f"the source {source.name!r} {total}. The source probably changed during the swap."
        )
    dim = int(adapter.dim)
    n_pages = max(1, math.ceil(total / page_size))
    per_page = math.ceil(sample / n_pages) if sample > 0 else 0
    checked = 0
    for page in iter_pages(source, page_size):
        new = staging.get(ids=page.ids, include=["documents", "metadatas", "embeddings"])
        by_id = {
            i: (d, m, e)
            for i, d, m, e in zip(
                new["ids"], new["documents"], new["metadatas"], new["embeddings"], strict=True
            )
        }
        for i, doc, meta in zip(page.ids, page.documents, page.metadatas, strict=True):
            if i not in by_id:
                raise SwapError(f"Verification failed: id {i!r} is missing from the copy.")
            d2, m2, e2 = by_id[i]
            if d2 != doc or (m2 or None) != (meta or None):
                raise SwapError(
                    f"Verification failed: record {i!r} differs between source and copy. "
                    "The source probably changed during the swap."
                )
            if len(e2) != dim:
                raise SwapError(
                    f"Verification failed: record {i!r} has a {len(e2)}-d vector, expected {dim}."
                )
        if per_page:
            rng = np.random.default_rng(page.offset)
            picks = rng.choice(len(page.ids), size=min(per_page, len(page.ids)), replace=False)
            ids = [page.ids[p] for p in picks]
            fresh = np.asarray(
                adapter.embed_documents([page.documents[p] for p in picks]), dtype=np.float32
            )
            stored = np.asarray([by_id[i][2] for i in ids], dtype=np.float32)
            num = (fresh * stored).sum(axis=1)
            den = np.linalg.norm(fresh, axis=1) * np.linalg.norm(stored, axis=1)
            cos = num / np.where(den == 0, 1.0, den)
            if (cos <= 0.999).any():
                bad = ids[int(np.argmin(cos))]
                raise SwapError(
                    f"Verification failed: the stored vector of {bad!r} does not match a fresh "
                    f"embedding (cosine {float(cos.min()):.4f} <= 0.999); the model is not "
                    "deterministic or the copy is corrupt."
                )
            checked += len(ids)
    return checked


# ---------------------------------------------------------------------------- switch
def _finish_switch(
    client: Any, name: str, stage: str, meta: dict[str, Any], drop_old: bool
) -> str | None:
    """Complete the switch from whatever step a previous run reached; returns the backup."""
    backup = str(meta[K_BACKUP])
    original = _get(client, name)
    staged = _get(client, stage)
    if staged is not None and original is not None:
        if original.metadata and original.metadata.get(K_SOURCE) == name:
            raise SwapError(f"Both {name!r} and {stage!r} are swap copies; inspect them by hand.")
        if _get(client, backup) is not None:
            raise SwapError(
                f"Cannot keep the original as {backup!r}: a collection with that name exists."
            )
        original.modify(name=backup)  # step 2: the original becomes the backup
        original = None
        time.sleep(_STEP_PAUSE_S)
    if staged is not None and original is None:
        if _get(client, backup) is None:
            raise SwapError(
                f"Staging collection {stage!r} is ready but neither {name!r} nor its backup "
                f"{backup!r} exists; rename {stage!r} by hand if that is what you want."
            )
        staged.modify(name=name)  # step 3: the copy takes the original name
        time.sleep(_STEP_PAUSE_S)
    new = _get(client, name)
    if new is None:
        raise SwapError(f"Switch of {name!r} lost track of the collections; nothing was deleted.")
    final = {k: v for k, v in (new.metadata or {}).items() if k not in _JOURNAL_KEYS}
    final[K_BACKUP] = backup
    new.modify(metadata=final)  # step 4: the journal is cleared
    if drop_old:
        _drop(client, backup)
        return None
    return backup


def _drop(client: Any, name: str) -> None:
    try:
        client.delete_collection(name)
    except Exception as exc:
        if not is_not_found(exc):
            raise


# ---------------------------------------------------------------------------- public
def swap(
    collection: Any,
    model: Any,
    *,
    client: Any = None,
    page_size: int = 256,
    drop_old: bool = False,
    verify_sample: int = 64,
    progress: bool = True,
    **adapter_options: Any,
) -> SwapResult:
    """Move a Chroma collection to another embedding model, keeping its name.

    Rerunning the same call after a crash resumes where it stopped (finished pages are not
    re-embedded) or completes an interrupted switch.

    Args:
        collection: The collection or its name.
        model: A model id or label (``"id@256:int8"``), a
            :class:`~autoembedding.selector.types.Candidate` or an embedding adapter.
        client: The Chroma client (``PersistentClient`` or ``HttpClient``) holding the collection;
            needed to create and rename collections.
        page_size: Records read, embedded and written at a time; memory grows with it, not with
            the collection.
        drop_old: Delete the original after the switch instead of keeping it as a backup.
        verify_sample: How many stored vectors to re-embed and compare (cosine > 0.999).
        progress: Show a progress bar on stderr.
        **adapter_options: Options for ``get_adapter`` when ``model`` is an id.

    Returns:
        A :class:`SwapResult`; ``result.summary()`` is a one-line report.

    Raises:
        SwapError: If a step fails; the message says what was kept and how to resume.
        CollectionError: If the collection does not exist or ``client`` is missing.
    """
    start_time = time.perf_counter()
    if client is None:
        raise CollectionError(
            "swap() needs the Chroma client to create and rename collections: "
            "swap(collection, model, client=chromadb.PersistentClient(path)) or HttpClient(...)."
        )
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}.")
    name = collection if isinstance(collection, str) else str(collection.name)
    adapter, record = _resolve_model(model, adapter_options)
    stage = staging_name(name, record)

    try:
        source = _get(client, name)
        staged = _get(client, stage)
    except Exception as exc:
        raise CollectionError(
            f"Cannot read collection {name!r} from Chroma ({type(exc).__name__}: {exc}); check "
            "that the server is up or the path is right, then rerun."
        ) from exc
    meta: dict[str, Any] = dict(staged.metadata or {}) if staged is not None else {}

    # An interrupted switch: complete it.
    if staged is not None and meta.get(K_PHASE) == "switching":
        total = int(meta.get(K_COUNT, 0))
        backup = _finish_switch(client, name, stage, meta, drop_old)
        return _result(name, record, backup, total, 0, 0, start_time, 0)
    if source is None:
        raise CollectionError(
            f"Collection {name!r} does not exist on this client; list them with "
            "client.list_collections()."
        )
    src_meta = dict(source.metadata or {})
    if src_meta.get(K_PHASE) == "switching" and src_meta.get(K_SOURCE) == name:
        # Crashed after the rename, before the journal was cleared.
        total = int(src_meta.get(K_COUNT, 0))
        backup = _finish_switch(client, name, stage, src_meta, drop_old)
        done_record = get_record(source) or record
        return _result(name, done_record, backup, total, 0, 0, start_time, 0)
    current = get_record(source)
    if staged is None and current is not None and current.same_vectors_as(record):
        backup = src_meta.get(K_BACKUP)
        if drop_old and backup:
            _drop(client, str(backup))
            backup = None
        return SwapResult(
            name=name,
            record=record,
            backup=backup if backup else None,
            docs=source.count(),
            embedded=0,
            resumed_from=0,
            seconds=time.perf_counter() - start_time,
            docs_per_s=0.0,
            verified_vectors=0,
            already_done=True,
        )

    total = source.count()
    if staged is not None and (
        int(meta.get(K_COUNT, -1)) != total or _space(staged) != _space(source)
    ):
        # The source changed since the interrupted run: its offsets mean nothing now.
        _drop(client, stage)
        staged, meta = None, {}
    try:
        if staged is None:
            meta = {
                **_user_metadata(src_meta),
                **record.to_metadata(),
                K_SOURCE: name,
                K_PHASE: "copy",
                K_OFFSET: 0,
                K_COUNT: total,
            }
            staged = client.get_or_create_collection(
                stage,
                metadata=meta,
                configuration=_configuration(source),
                embedding_function=None,
            )
            if dict(staged.metadata or {}) != meta:  # created by a run killed just now
                meta = _journal(staged, meta)
    except AutoEmbeddingError:
        raise
    except Exception as exc:
        raise _wrap(
            f"creating the staging collection {stage!r}",
            exc,
            "The original is untouched; rerun the same command.",
        ) from exc
    resumed = int(meta.get(K_OFFSET, 0))

    copy_start = time.perf_counter()
    embedded = 0
    if meta.get(K_PHASE) == "copy":
        bar = _Progress(progress, total, resumed, f"swap {name}")
        try:
            embedded, meta = _copy(source, staged, adapter, meta, resumed, total, page_size, bar)
        finally:
            bar.close()
        meta = _journal(staged, meta, **{K_PHASE: "verify"})
    copy_seconds = time.perf_counter() - copy_start

    try:
        checked = _verify(source, staged, adapter, page_size, verify_sample, total)
    except SwapError as exc:
        _drop(client, stage)
        raise SwapError(
            f"{exc} The staging copy {stage!r} was removed and the original is untouched; "
            "rerun to copy afresh."
        ) from exc
    except AutoEmbeddingError:
        raise
    except Exception as exc:
        raise _wrap("verifying the copy", exc, "Rerun the same command to resume.") from exc

    try:
        backup = _free_name(client, backup_name(name))
        meta = _journal(staged, meta, **{K_PHASE: "switching", K_BACKUP: backup})
        time.sleep(_STEP_PAUSE_S)
        backup_kept = _finish_switch(client, name, stage, meta, drop_old)
    except AutoEmbeddingError:
        raise
    except Exception as exc:
        raise _wrap(
            "switching names",
            exc,
            "Rerun the same command to complete the switch (no data was deleted).",
        ) from exc
    return _result(
        name, record, backup_kept, total, embedded, resumed, start_time, checked, copy_seconds
    )


def _result(
    name: str,
    record: ModelRecord,
    backup: str | None,
    total: int,
    embedded: int,
    resumed: int,
    start_time: float,
    checked: int,
    copy_seconds: float | None = None,
) -> SwapResult:
    seconds = time.perf_counter() - start_time
    rate_s = copy_seconds if copy_seconds else seconds
    return SwapResult(
        name=name,
        record=record,
        backup=backup,
        docs=total,
        embedded=embedded,
        resumed_from=resumed,
        seconds=seconds,
        docs_per_s=embedded / rate_s if rate_s > 0 else 0.0,
        verified_vectors=checked,
    )


def _iter_collections(client: Any) -> Iterator[Any]:
    for item in client.list_collections():
        yield client.get_collection(item) if isinstance(item, str) else item


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
    """
    if client is None:
        raise CollectionError("undo_swap() needs the Chroma client: undo_swap(name, client=...).")
    name = collection if isinstance(collection, str) else str(collection.name)
    current = _get(client, name)
    if current is None:
        # Crashed between the two renames: find the swapped copy by its journal.
        for col in _iter_collections(client):
            if (col.metadata or {}).get(K_UNDO_OF) == name:
                current_moved = col
                break
        else:
            raise SwapError(f"Collection {name!r} does not exist and no undo of it is pending.")
        backup = (current_moved.metadata or {}).get(K_BACKUP)
        original = _get(client, str(backup)) if backup else None
        if original is None:
            raise SwapError(f"The backup {backup!r} of {name!r} is gone; cannot undo.")
        original.modify(name=name)
        return _finish_undo(client, current_moved, drop_new)
    meta = dict(current.metadata or {})
    backup = meta.get(K_BACKUP)
    if not backup:
        for col in _iter_collections(client):
            if (col.metadata or {}).get(K_UNDO_OF) == name:  # crashed before the last step
                return _finish_undo(client, col, drop_new)
        raise SwapError(
            f"Collection {name!r} has no swap backup recorded; there is nothing to undo "
            "(was it swapped with --drop-old, or already undone?)."
        )
    original = _get(client, str(backup))
    if original is None:
        raise SwapError(
            f"The backup {backup!r} of {name!r} no longer exists (dropped?); cannot undo."
        )
    moved = _free_name(client, _undone_name(name))
    current.modify(metadata={**meta, K_UNDO_OF: name})
    current.modify(name=moved)
    original.modify(name=name)
    return _finish_undo(client, _get(client, moved), drop_new)


def _finish_undo(client: Any, moved: Any, drop_new: bool) -> str:
    meta = {k: v for k, v in (moved.metadata or {}).items() if k not in (K_UNDO_OF, K_BACKUP)}
    moved.modify(metadata=meta)
    if drop_new:
        _drop(client, moved.name)
        return ""
    return str(moved.name)
