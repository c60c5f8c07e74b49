"""The copy phase: stream the source in pages, re-embed each, upsert it into the staging collection.

Reading, embedding and writing overlap. One reader thread fetches pages ahead of the model and
one writer thread upserts embedded pages and then advances the journal offset; each side is at
most :data:`PAGES_AHEAD` pages ahead, so memory depends on the page size, never on the
collection. The threads are :class:`~concurrent.futures.ThreadPoolExecutor` workers: the model
waits on their futures (no polling), and when anything fails no new work is handed out, the
writer skips what is still queued, and the phase ends once the one call in flight returns.

Given the swap's baseline collection (:mod:`~.baseline`), the writer also stores each written
page's content fingerprints there, off the model's thread, so the catch-up phase finds the
baseline filled instead of writing every fingerprint after the copy.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.pages import Page, iter_pages
from autoembedding.errors import SwapError
from autoembedding.progress import Progress
from autoembedding.record import ModelRecord
from autoembedding.swap.baseline import fingerprint, write_fps
from autoembedding.swap.batching import BatchTuner
from autoembedding.swap.journal import K_OFFSET, K_SYNC, Journal
from autoembedding.swap.store import (
    configuration,
    drop,
    failure_message,
    phase_errors,
    space,
)

__all__ = ["PAGES_AHEAD", "copy_records", "embed_page", "open_staging"]

#: Pages the reader may fetch ahead of the model, and embedded pages that may wait for the writer.
PAGES_AHEAD = 2


def open_staging(
    client: Any,
    name: str,
    source: Any,
    staging: str,
    found: Any | None,
    total: int,
    record: ModelRecord,
    *,
    function: Any = None,
    sync: str | None = None,
) -> tuple[Any, Journal]:
    """The staging collection to copy into, and its journal.

    An interrupted run's staging collection (``found``) is reused while it has the source's
    distance space and can carry ``function``; records the source gained, changed or lost since
    are carried over by the catch-up phase. Otherwise it is made afresh, empty, with a new
    journal. The staging collection carries ``function`` (the new model's
    :class:`~autoembedding.chroma.function.AutoEmbeddingFunction`) as its embedding
    function configuration, whatever the source had, so the swapped collection embeds queries
    with the new model when it is opened without one.

    Args:
        client: The Chroma client.
        name: The source collection's name.
        source: The source collection.
        staging: The staging collection's name (:func:`~.journal.staging_name`).
        found: The existing staging collection, or ``None``.
        total: Records in the source now.
        record: The new model's :class:`~autoembedding.record.ModelRecord`.
        function: The embedding function the new collection carries (``None``: none).
        sync: Name of the sync baseline collection, written into the journal.

    Returns:
        ``(staging collection, journal)``.

    Raises:
        SwapError: If the staging collection cannot be made (the original is untouched).
    """
    if found is not None:
        journal = Journal.of(found)
        if space(found) == space(source) and _carries(found, function):
            if sync and journal.sync != sync:
                journal = journal.write(found, {K_SYNC: sync})
            return found, journal
        drop(client, staging)
    journal = Journal.start(name, getattr(source, "metadata", None), record, total)
    if sync:
        journal = Journal({**journal.metadata, K_SYNC: sync})
    with phase_errors(
        f"creating the staging collection {staging!r}",
        state="The original is untouched; rerun the same command.",
    ):
        with chroma_errors("create", collection=staging):
            created = client.get_or_create_collection(
                staging,
                metadata=journal.metadata,
                configuration=configuration(source),
                embedding_function=function,
            )
        if dict(created.metadata or {}) != journal.metadata:  # created by a run killed just now
            journal = journal.write(created)
    return created, journal


def _function_config(collection: Any) -> Any:
    conf = getattr(collection, "configuration", None) or {}
    return conf.get("embedding_function") if isinstance(conf, dict) else None


def _carries(staging: Any, function: Any) -> bool:
    """Whether ``staging`` carries ``function``'s configuration, setting it where it has none."""
    have = _function_config(staging)
    if function is None:
        return True
    if have is not None and getattr(have, "name", lambda: None)() == function.name():
        return bool(have.get_config() == function.get_config())
    if have is not None:
        return False
    try:  # a staging copy made by an older version, with no function: give it one
        with chroma_errors("configure", collection=str(staging.name)):
            staging.modify(configuration={"embedding_function": function})
    except Exception:  # noqa: BLE001 - made afresh instead
        return False
    return True


def _documents(page: Page) -> list[str]:
    """The page's documents, refusing duplicate ids and records without a document."""
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


def embed_page(adapter: Any, page: Page) -> np.ndarray:
    """Embed a page's documents with ``adapter``, as a float32 ``(len(page.ids), dim)`` array.

    Raises:
        SwapError: If the page has duplicate ids or records without a document, or the model
            returns vectors of the wrong shape.
    """
    docs = _documents(page)
    vectors = np.asarray(adapter.embed_documents(docs), dtype=np.float32)
    if vectors.shape != (len(docs), int(adapter.dim)):
        raise SwapError(
            f"The model returned vectors of shape {vectors.shape} for {len(docs)} "
            f"documents; expected ({len(docs)}, {adapter.dim})."
        )
    return vectors


def _metadatas(metas: list[Any]) -> list[Any] | None:
    if all(m is None for m in metas):
        return None
    return [m if m else None for m in metas]


class _Writer:
    """Upserts embedded pages in order and advances the journal after each (writer thread).

    After the first failure it records the error and skips every later page, so the journal
    offset never passes a page that was not written. With a ``baseline``, each page's
    fingerprints are stored there after the page, before the journal moves on.
    """

    def __init__(
        self, staging: Any, journal: Journal, progress: Progress, baseline: Any = None
    ) -> None:
        self.staging = staging
        self.journal = journal
        self.progress = progress
        self.baseline = baseline
        self.failed = threading.Event()
        self.error: BaseException | None = None

    def write(self, page: Page, vectors: np.ndarray) -> None:
        if self.failed.is_set():
            return
        try:
            with chroma_errors("write to", collection=str(self.staging.name)):
                self.staging.upsert(
                    ids=page.ids,
                    embeddings=vectors,
                    documents=page.documents,
                    metadatas=_metadatas(page.metadatas),
                )
            if self.baseline is not None:
                fps = zip(page.ids, page.documents, page.metadatas, strict=True)
                write_fps(self.baseline, {i: fingerprint(d, m) for i, d, m in fps})
            offset = page.offset + len(page.ids)
            self.journal = self.journal.write(self.staging, {K_OFFSET: offset})
        except BaseException as exc:  # noqa: BLE001 - reported by copy_records
            self.error = exc
            self.failed.set()
            return
        self.progress.update(len(page.ids))


def copy_records(
    source: Any,
    staging: Any,
    adapter: Any,
    journal: Journal,
    *,
    page_size: int = 256,
    progress: Progress | None = None,
    baseline: Any = None,
    tuner: BatchTuner | None = None,
) -> tuple[int, Journal]:
    """Embed and upsert every record of ``source`` from the journal's offset on.

    Args:
        source: The collection being moved.
        staging: The staging collection (its metadata holds ``journal``).
        adapter: The new model (``embed_documents`` and ``dim``).
        journal: The journal; its offset is where the copy resumes, its source count the end.
        page_size: Records read, embedded and written at a time.
        progress: Counts written records.
        baseline: The swap's baseline collection, to store each written page's fingerprints
            in (``None``: the catch-up phase fills it).
        tuner: Embeds the pages and chooses the batch size by measured throughput
            (:class:`~.batching.BatchTuner`; ``None``: the adapter's batch size throughout).

    Returns:
        ``(records embedded by this call, the journal after the last page written)``.

    Raises:
        SwapError: If reading, embedding or writing fails, or the source returns fewer records
            than it counts; the message says up to which offset the copy is saved. Pages embedded
            before the failure are written (and journalled) first.
    """
    total = journal.source_count or 0
    bar = progress or Progress(False, total=total, desc="swap")
    writer = _Writer(staging, journal, bar, baseline)
    pages: Iterator[Page] = iter_pages(source, page_size, start=journal.offset)
    source_name = str(source.name)

    def read_next() -> Page | None:
        with chroma_errors("read", collection=source_name):
            return next(pages, None)

    embedded = 0
    failure: tuple[str, BaseException] | None = None
    with (
        ThreadPoolExecutor(1, thread_name_prefix="swap-read") as read_pool,
        ThreadPoolExecutor(1, thread_name_prefix="swap-write") as write_pool,
    ):
        reads: deque[Future[Page | None]] = deque(
            read_pool.submit(read_next) for _ in range(PAGES_AHEAD)
        )
        writes: deque[Future[None]] = deque()
        step = "reading the source"
        try:
            while not writer.failed.is_set():
                step = "reading the source"
                page = reads.popleft().result()
                if page is None:
                    break
                reads.append(read_pool.submit(read_next))
                step = f"embedding the page at offset {page.offset}"
                vectors = tuner.embed(page) if tuner else embed_page(adapter, page)
                while len(writes) >= PAGES_AHEAD:
                    writes.popleft().result()  # the writer records its own errors
                writes.append(write_pool.submit(writer.write, page, vectors))
                embedded += len(page.ids)
        except BaseException as exc:  # noqa: BLE001 - re-raised below with the saved state
            failure = (step, exc)
        finally:
            for pending in reads:
                pending.cancel()
        # Leaving the block waits for the read in flight and lets the writer finish (and
        # journal) every page already embedded.
    saved = (
        f"Records up to offset {writer.journal.offset} of {total} are saved in the staging "
        f"collection {staging.name!r}; the original is untouched. Fix the cause and rerun the "
        "same command to resume."
    )
    if failure is not None:
        step, error = failure
        if not isinstance(error, Exception):
            raise error
        if isinstance(error, SwapError):
            raise SwapError(f"{error} {saved}") from error
        raise SwapError(failure_message(step, error, saved)) from error
    if writer.error is not None:
        cause = writer.error
        raise SwapError(failure_message("writing the staging collection", cause, saved)) from cause
    if writer.journal.offset < total and _count(source) > writer.journal.offset:
        raise SwapError(
            f"Copied {writer.journal.offset} of {total} records; the source returned fewer than "
            "it counts. Rerun the same command to resume."
        )
    return embedded, writer.journal


def _count(source: Any) -> int:
    """Records in ``source`` now (it may have lost some during the copy: catch-up fixes that)."""
    with chroma_errors("count the records of", collection=str(source.name)):
        return int(source.count())
