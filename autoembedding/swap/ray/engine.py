"""The copy phase on Ray: read in Ray tasks, embed in an actor pool, write in parallel.

``swap(..., engine="ray")`` runs the single-machine swap's phases unchanged (staging collection,
verify, catch-up, switch, backup, undo, model record) except the copy, which
:func:`copy_records_ray` runs on Ray (:mod:`~.ray_pipeline`, :mod:`~.ray_datasource`):

* **read**: a Ray Data datasource splits the pages still to copy into read tasks; each opens its
  own client from the connection settings and yields one Arrow block per page;
* **encode**: ``map_batches`` over an actor pool of ``workers`` encoders, each loading the model
  once (``gpus_per_worker`` GPUs when asked), resolved exactly as the single-machine swap does;
* **write**: against a Chroma **server**, writer actors upsert each block into the staging
  collection and send the driver only ``(page, rows)``. An **embedded** (path) database can be
  opened by one process only: there the driver reads the pages and writes what the encoder
  actors return.

The driver alone writes the journal (:mod:`~.ray_journal`): the finished record ranges, about
once a second, so a rerun skips them. A dead actor is restarted and its block retried; every
write is an upsert by id, so nothing is duplicated. A driver killed outright resumes from the
journal on rerun. A Chroma server that goes away stops the run with a
:class:`~autoembedding.errors.SwapError` naming it (caused by
:class:`~autoembedding.errors.ChromaUnavailableError`), and the original is untouched.
"""

from __future__ import annotations

import time
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.errors import AutoEmbeddingError, SwapError
from autoembedding.progress import Progress
from autoembedding.record import ModelRecord
from autoembedding.swap.journal import K_OFFSET, Journal
from autoembedding.swap.ray.journal import FLUSH_S, K_DONE, DoneRanges, split_pages
from autoembedding.swap.ray.pipeline import (
    Encoder,
    check_options,
    import_ray,
    run_embedded,
    run_on_server,
    worker_count,
)
from autoembedding.swap.store import failure_message

__all__ = ["Encoder", "check_options", "copy_records_ray", "import_ray"]


class _Ledger:
    """The driver's account of finished pages, and the journal it flushes (the only writer)."""

    def __init__(
        self,
        staging: Any,
        journal: Journal,
        done: DoneRanges,
        pages: list[tuple[int, int]],
        progress: Progress,
    ) -> None:
        self.staging = staging
        self.journal = journal
        self.done = done
        self.expected = dict(pages)
        self.seen: dict[int, int] = {}
        self.progress = progress
        self.embedded = 0
        self.flushed_at = time.monotonic()

    def record(self, counts: Any) -> None:
        """Count the rows a written block reports (``page``, ``rows``); flush now and then."""
        pages = counts.column("page").to_pylist()
        rows = counts.column("rows").to_pylist()
        for page, n in zip(pages, rows, strict=True):
            if page not in self.expected:
                continue
            seen = self.seen.get(page, 0) + int(n)
            if seen >= self.expected[page]:
                self.seen.pop(page, None)
                self.done.add(page, page + self.expected[page])
            else:
                self.seen[page] = seen
            self.embedded += int(n)
            self.progress.update(int(n))
        if time.monotonic() - self.flushed_at >= FLUSH_S:
            self.flush()

    def flush(self) -> None:
        """Write the finished ranges into the journal."""
        self.journal = self.journal.write(self.staging, self.done.journal_changes())
        self.flushed_at = time.monotonic()


def copy_records_ray(
    client: Any,
    source: Any,
    staging: Any,
    model: Any,
    options: dict[str, Any],
    record: ModelRecord,
    journal: Journal,
    *,
    page_size: int = 256,
    progress: Progress | None = None,
    ray_address: str | None = None,
    workers: int | None = None,
    gpus_per_worker: float = 0.0,
) -> tuple[int, Journal]:
    """Embed and upsert every record of ``source`` the journal does not mark done, on Ray.

    Uses the running Ray session if there is one; otherwise ``ray.init(address=ray_address)``
    (``None``: ``RAY_ADDRESS`` or a new local cluster) and shuts it down at the end.

    Args:
        client: The driver's Chroma client (its settings say where the tasks connect).
        source: The collection being moved.
        staging: The staging collection (its metadata holds ``journal``).
        model: The model as ``swap`` was given it (id/label, Candidate or adapter).
        options: The adapter options ``swap`` was given.
        record: The model's record (what the actors must resolve to).
        journal: The staging journal; its done ranges are skipped.
        page_size: Records per page (per Ray block).
        progress: Counts written records.
        ray_address: Ray cluster to connect to when none is connected yet.
        workers: Encoder actors (default: one per CPU of the cluster, or per
            ``gpus_per_worker`` GPUs).
        gpus_per_worker: GPUs per encoder actor (0: CPU actors).

    Returns:
        ``(records embedded by this call, the journal, now at offset = source count)``.

    Raises:
        SwapError: If reading, embedding or writing fails; the message says how much is saved.
        MissingExtraError: If Ray Data is not installed.
    """
    ray = import_ray()
    from autoembedding.swap.ray.datasource import ChromaTarget

    target = ChromaTarget.of(client)
    total = journal.source_count or 0
    bar = progress or Progress(False, total=total, desc="swap")
    done = DoneRanges.of(journal)
    pages = split_pages(done.missing(total), page_size)
    bar.update(done.count - journal.offset)  # ranges past the prefix: done by an earlier run
    ledger = _Ledger(staging, journal, done, pages, bar)
    started = False
    step = "starting Ray"
    try:
        if pages:
            started = _init_ray(ray, ray_address)
            step = "copying on Ray"
            spec = (model, dict(options), record)
            n = worker_count(ray, workers, gpus_per_worker)
            if target.is_server:
                run_on_server(
                    ray, target, str(source.name), str(staging.name), pages, spec,
                    workers=n, gpus_per_worker=gpus_per_worker, on_written=ledger.record,
                )  # fmt: skip
            else:
                run_embedded(
                    ray, source, staging, pages, spec,
                    workers=n, gpus_per_worker=gpus_per_worker, on_written=ledger.record,
                )  # fmt: skip
        step = "journalling the copy"
        ledger.flush()
    except BaseException as exc:
        _flush_quietly(ledger)
        if not isinstance(exc, Exception):
            raise
        raise _swap_error(exc, step, ledger, total, str(staging.name)) from exc
    finally:
        if started:
            ray.shutdown()
    if ledger.done.prefix < total and _count(source) >= total:
        raise SwapError(
            f"Copied {ledger.done.count} of {total} records; the source returned fewer than it "
            "counts. Rerun the same command to resume."
        )
    metadata = {k: v for k, v in ledger.journal.metadata.items() if k != K_DONE}
    return ledger.embedded, Journal(metadata).write(staging, {K_OFFSET: total})


# ---------------------------------------------------------------------------- helpers
def _init_ray(ray: Any, address: str | None) -> bool:
    """Connect to Ray unless connected; return whether this call did (and must shut down)."""
    if ray.is_initialized():
        return False
    ray.init(address=address)
    return True


def _count(source: Any) -> int:
    """Records in ``source`` now (fewer than at the start: the catch-up phase fixes that)."""
    with chroma_errors("count the records of", collection=str(source.name)):
        return int(source.count())


def _flush_quietly(ledger: _Ledger) -> None:
    """Save the finished ranges after a failure; a second failure (server gone) is ignored."""
    try:
        ledger.flush()
    except Exception:  # noqa: BLE001, S110 - the journal of the last flush stays valid
        pass


def _root_cause(exc: BaseException) -> BaseException:
    """This package's error inside Ray's wrappers (RayTaskError, UserCodeException), if any."""
    seen: set[int] = set()
    queue: list[BaseException] = [exc]
    found: BaseException | None = None
    while queue:
        err = queue.pop(0)
        if id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, AutoEmbeddingError) and type(err).__module__.startswith("autoembedding"):
            found = err
        for nxt in (getattr(err, "cause", None), err.__cause__, err.__context__):
            if isinstance(nxt, BaseException):
                queue.append(nxt)
    return found if found is not None else exc


def _swap_error(exc: Exception, step: str, ledger: _Ledger, total: int, staging: str) -> SwapError:
    saved = (
        f"{ledger.done.count} of {total} records are saved in the staging collection "
        f"{staging!r}; the original is untouched. Fix the cause and rerun the same command to "
        "resume."
    )
    cause = _root_cause(exc)
    if isinstance(cause, SwapError):
        return SwapError(f"{cause} {saved}")
    return SwapError(failure_message(step, cause, saved))
