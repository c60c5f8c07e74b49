"""Ray's side of the swap's copy phase: the encoder actor and the two pipelines.

* :class:`Encoder`: a Ray actor that loads the model once and adds an ``embedding`` column to
  each block. It resolves the model exactly as the single-machine swap does (``get_adapter``
  with the same options and prompts) and refuses to start if its record differs from the
  driver's, so the vectors are the same whichever engine makes them.
* :func:`run_on_server`: Ray Data end to end. Read tasks
  (:class:`~.ray_datasource.ChromaPagesDatasource`), ``map_batches`` over an actor pool of
  encoders, then a pool of writer actors (:class:`~.ray_datasource.StagingWriter`) that upsert
  into the staging collection. The driver receives only ``(page, rows)`` per block.
* :func:`run_embedded`: an embedded (path) database can be opened by one process only, so the
  driver reads the pages, encoder actors embed them, and the driver writes what they return.

Ray restarts a dead actor and retries its block (``max_restarts``/``max_task_retries``:
:data:`RETRIES`) and retries a read task whose worker died (Ray Data's default for system
failures). Every write is an upsert by id, so a block written twice leaves no duplicate. Our
own errors keep their type through Ray (``raise_original_map_exception``), so the driver can
say what failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.pages import iter_pages
from autoembedding.errors import InvalidArgumentError, MissingExtraError, SwapError
from autoembedding.record import ModelRecord
from autoembedding.swap.copy import embed_page

__all__ = [
    "IN_FLIGHT_PER_WORKER",
    "RETRIES",
    "Encoder",
    "EncoderSpec",
    "check_options",
    "import_ray",
    "run_embedded",
    "run_on_server",
    "worker_count",
]

#: Restarts of a dead actor, and retries of the block it was working on.
RETRIES = 4
#: Blocks each encoder actor may have queued on an embedded database (busy actors, bounded memory).
IN_FLIGHT_PER_WORKER = 2

#: What every encoder actor is built from: the model as ``swap`` got it, its options, its record.
EncoderSpec = tuple[Any, dict[str, Any], ModelRecord]
#: Called on the driver with each written block's ``page``/``rows`` table.
OnWritten = Callable[[Any], None]


def import_ray() -> Any:
    """Import Ray (with Ray Data) or raise an error naming the extra.

    Raises:
        MissingExtraError: If ``ray[data]`` is not installed.
    """
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data is what the engine needs
    except ImportError as exc:
        raise MissingExtraError(
            f"engine='ray' needs Ray Data; install it with: pip install 'autoembedding[ray]' "
            f"({exc})"
        ) from exc
    return ray


def check_options(*, workers: int | None, gpus_per_worker: float) -> None:
    """Refuse bad Ray options before anything is opened.

    Raises:
        InvalidArgumentError: Naming the argument and what it takes.
    """
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise InvalidArgumentError(
            f"workers must be a whole number >= 1 or None, got {workers!r}.", argument="workers"
        )
    if isinstance(gpus_per_worker, bool) or not isinstance(gpus_per_worker, (int, float)):
        raise InvalidArgumentError(
            f"gpus_per_worker must be a number >= 0, got {gpus_per_worker!r}.",
            argument="gpus_per_worker",
        )
    if gpus_per_worker < 0:
        raise InvalidArgumentError(
            f"gpus_per_worker must be >= 0, got {gpus_per_worker!r}.", argument="gpus_per_worker"
        )


class Encoder:
    """A Ray actor that loads the model once and embeds blocks (one actor per worker).

    Args:
        model: What ``swap`` was given: a model id or label, a Candidate, or an adapter (which is
            pickled to the actor).
        options: The adapter options ``swap`` was given.
        record: The driver's model record; the actor's must be the same.

    Raises:
        SwapError: If the model resolves to another record in this worker (another package
            version on this node, say).
    """

    def __init__(self, model: Any, options: dict[str, Any], record: ModelRecord) -> None:
        from autoembedding.swap.model import resolve_model

        self.adapter, found = resolve_model(model, options)
        if found != record:
            raise SwapError(
                f"A Ray worker resolved the model to {found.describe()}, the driver to "
                f"{record.describe()}; install the same autoembedding version on every node."
            )

    def encode(self, table: Any) -> Any:
        """Add an ``embedding`` column (float32, fixed size) to a block of records.

        Raises:
            SwapError: If a record has no document, ids repeat, or the model's output is wrong.
        """
        import pyarrow as pa

        from autoembedding.swap.ray.datasource import table_page

        vectors = embed_page(self.adapter, table_page(table))
        flat = pa.array(np.ascontiguousarray(vectors).reshape(-1), type=pa.float32())
        return table.append_column(
            "embedding", pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
        )

    __call__ = encode


def worker_count(ray: Any, workers: int | None, gpus_per_worker: float) -> int:
    """The number of encoder actors: as asked, else what the cluster's CPUs or GPUs allow."""
    if workers is not None:
        return workers
    resources = ray.cluster_resources()
    if gpus_per_worker > 0:
        return max(1, int(resources.get("GPU", 0) // gpus_per_worker))
    return max(1, int(resources.get("CPU", 1)))


def _actor_options(gpus_per_worker: float) -> dict[str, Any]:
    """Resources and fault tolerance of an encoder actor."""
    return {
        "num_cpus": 1,
        "num_gpus": gpus_per_worker or None,
        "max_restarts": RETRIES,
        "max_task_retries": RETRIES,
    }


def run_on_server(
    ray: Any,
    target: Any,
    source: str,
    staging: str,
    pages: list[tuple[int, int]],
    spec: EncoderSpec,
    *,
    workers: int,
    gpus_per_worker: float,
    on_written: OnWritten,
) -> None:
    """Read, encode and write with Ray Data; the driver receives only ``(page, rows)`` per block.

    Args:
        ray: The ``ray`` module, connected.
        target: The Chroma server (:class:`~.ray_datasource.ChromaTarget`).
        source: The collection being moved.
        staging: The staging collection.
        pages: ``(offset, count)`` pages to copy.
        spec: What the encoder actors are built from.
        workers: Encoder actors; writer actors scale from 1 to this many.
        gpus_per_worker: GPUs per encoder actor.
        on_written: Called with each written block's ``page``/``rows`` table.
    """
    from ray.data import ActorPoolStrategy, DataContext, TaskPoolStrategy

    from autoembedding.swap.ray.datasource import (
        ChromaPagesDatasource,
        StagingWriter,
    )

    context = DataContext.get_current()
    saved = (context.enable_progress_bars, context.raise_original_map_exception)
    context.enable_progress_bars = False  # the swap shows its own bar
    context.raise_original_map_exception = True  # keep our errors' types through Ray
    try:
        source_pages = ChromaPagesDatasource(target, source, pages)
        ds = ray.data.read_datasource(
            source_pages,
            override_num_blocks=source_pages.num_tasks,
            num_cpus=0,  # I/O: waits on Chroma; the CPUs are for the encoders
            compute=TaskPoolStrategy(size=min(workers + 1, source_pages.num_tasks)),
        )
        options = _actor_options(gpus_per_worker)
        ds = ds.map_batches(
            Encoder,
            fn_constructor_args=spec,
            batch_size=None,
            batch_format="pyarrow",
            compute=ActorPoolStrategy(size=workers),
            num_cpus=options.pop("num_cpus"),
            num_gpus=options.pop("num_gpus"),
            **options,
        )
        ds = ds.map_batches(
            StagingWriter,
            fn_constructor_args=(target, staging),
            batch_size=None,
            batch_format="pyarrow",
            compute=ActorPoolStrategy(min_size=1, max_size=workers),
            num_cpus=0,
            max_restarts=RETRIES,
            max_task_retries=RETRIES,
        )
        batches = ds.iter_batches(batch_size=None, batch_format="pyarrow")
        try:
            for counts in batches:
                on_written(counts)
        finally:
            close = getattr(batches, "close", None)
            if callable(close):
                close()
    finally:
        context.enable_progress_bars, context.raise_original_map_exception = saved


def run_embedded(
    ray: Any,
    source: Any,
    staging: Any,
    pages: list[tuple[int, int]],
    spec: EncoderSpec,
    *,
    workers: int,
    gpus_per_worker: float,
    on_written: OnWritten,
) -> None:
    """Embedded Chroma: the driver reads and writes, a pool of encoder actors embeds.

    Args:
        ray: The ``ray`` module, connected.
        source: The collection being moved (the driver's handle).
        staging: The staging collection (the driver's handle).
        pages: ``(offset, count)`` pages to copy.
        spec: What the encoder actors are built from.
        workers: Encoder actors.
        gpus_per_worker: GPUs per encoder actor.
        on_written: Called with each written block's ``page``/``rows`` table.
    """
    from autoembedding.swap.ray.datasource import write_table

    options = {k: v for k, v in _actor_options(gpus_per_worker).items() if v is not None}
    actor_cls = ray.remote(Encoder).options(**options)
    actors = [actor_cls.remote(*spec) for _ in range(workers)]
    load = [0] * workers
    in_flight: dict[Any, int] = {}
    tables = _read_tables(source, pages)
    exhausted = False
    while True:
        while not exhausted and len(in_flight) < workers * IN_FLIGHT_PER_WORKER:
            table = next(tables, None)
            if table is None:
                exhausted = True
                break
            k = int(np.argmin(load))
            in_flight[actors[k].encode.remote(table)] = k
            load[k] += 1
        if not in_flight:
            return
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        k = in_flight.pop(ready[0])
        load[k] -= 1
        on_written(write_table(staging, ray.get(ready[0])))


def _read_tables(source: Any, pages: list[tuple[int, int]]) -> Iterator[Any]:
    """The driver's reader (embedded Chroma): each page as an Arrow block."""
    from autoembedding.swap.ray.datasource import page_table

    name = str(source.name)
    for offset, count in pages:
        with chroma_errors("read", collection=name):
            page = next(iter_pages(source, count, start=offset, limit=count), None)
        if page is not None:
            yield page_table(page)
