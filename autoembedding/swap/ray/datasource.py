"""Ray Data over Chroma: where the collection is, pages as Arrow blocks, a reader and a writer.

* :class:`ChromaTarget`: how to reach the database (a server URL, or an embedded folder), as
  plain picklable values. A Ray task never receives a client object; each opens its own with
  :func:`autoembedding.chroma.client.connect`.
* :func:`page_table`: a page of records as an Arrow table (``id``, ``document``, ``metadata`` as
  JSON text, ``page``: the page's offset in the source), the block format every stage shares.
* :class:`ChromaPagesDatasource`: a Ray Data datasource that reads a list of pages of a
  collection; each read task opens its own client and yields one block per page, so no process
  ever holds the collection.
* :func:`write_table` / :class:`StagingWriter`: upsert embedded blocks into the staging
  collection by id (idempotent: writing a page twice cannot duplicate a record). The writer runs
  in Ray actors against a Chroma server; with an embedded database the driver calls
  :func:`write_table` itself.

Every Chroma call is wrapped in :func:`~autoembedding.chroma.errors.chroma_errors`, so a server
that goes away surfaces as :class:`~autoembedding.errors.ChromaUnavailableError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoembedding.chroma.client import connect
from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.pages import Page, iter_pages
from autoembedding.errors import CollectionError, MissingExtraError

try:
    import pyarrow as pa
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask
except ImportError as exc:  # pragma: no cover - ray is an extra
    raise MissingExtraError(
        f"engine='ray' needs Ray Data; install it with: pip install 'autoembedding[ray]' ({exc})"
    ) from exc

__all__ = [
    "PAGES_PER_READ_TASK",
    "ChromaPagesDatasource",
    "ChromaTarget",
    "StagingWriter",
    "page_counts",
    "page_table",
    "table_page",
    "write_table",
]

#: A read task reads at most this many pages (smaller tasks: finer retries and balancing).
PAGES_PER_READ_TASK = 8


@dataclass(frozen=True)
class ChromaTarget:
    """Where a Chroma database is, as values a Ray task can receive.

    Attributes:
        path: Folder of an embedded database (then ``url`` is ``None``).
        url: ``http(s)://host:port`` of a server (then ``path`` is ``None``).
        tenant: Chroma tenant.
        database: Chroma database.
        headers: HTTP headers for the server (e.g. an auth token).
    """

    path: str | None = None
    url: str | None = None
    tenant: str = "default_tenant"
    database: str = "default_database"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, client: Any) -> ChromaTarget:
        """Read where ``client`` points from its settings.

        Raises:
            CollectionError: If the client does not say (a stand-in client).
        """
        get_settings = getattr(client, "get_settings", None)
        if get_settings is None:
            raise CollectionError(
                "engine='ray' needs a chromadb PersistentClient or HttpClient: the Ray tasks "
                "open their own clients from its settings."
            )
        settings = get_settings()
        tenant = str(getattr(client, "tenant", None) or "default_tenant")
        database = str(getattr(client, "database", None) or "default_database")
        if getattr(settings, "is_persistent", False):
            path = str(settings.persist_directory)
            return cls(path=path, tenant=tenant, database=database)
        host = settings.chroma_server_host
        if not host:
            raise CollectionError("engine='ray' cannot tell where this Chroma client points.")
        scheme = "https" if settings.chroma_server_ssl_enabled else "http"
        url = f"{scheme}://{host}:{settings.chroma_server_http_port or 8000}"
        headers = dict(settings.chroma_server_headers or {})
        return cls(url=url, tenant=tenant, database=database, headers=headers)

    @property
    def is_server(self) -> bool:
        """Whether this is a Chroma server (else an embedded folder, owned by the driver)."""
        return self.url is not None

    def connect(self) -> Any:
        """A new client for this database (a server is asked for a heartbeat first).

        Raises:
            ChromaUnavailableError: If the server does not answer.
            CollectionError: If the database cannot be opened.
        """
        options: dict[str, Any] = {"tenant": self.tenant, "database": self.database}
        if self.path is not None:
            return connect(self.path, must_exist=True, **options)
        if self.headers:
            options["headers"] = dict(self.headers)
        return connect(url=self.url, **options)

    def collection(self, name: str) -> Any:
        """Open collection ``name`` with a new client (errors translated, naming it)."""
        client = self.connect()
        with chroma_errors("open", collection=name, where=self.url or self.path):
            return client.get_collection(name)


# ---------------------------------------------------------------------------- blocks
def page_table(page: Page) -> pa.Table:
    """A page as an Arrow table: ``id``, ``document``, ``metadata`` (JSON text), ``page``."""
    metas = [None if not m else json.dumps(m, sort_keys=True) for m in page.metadatas]
    return pa.table(
        {
            "id": pa.array(page.ids, type=pa.string()),
            "document": pa.array(page.documents, type=pa.string()),
            "metadata": pa.array(metas, type=pa.string()),
            "page": pa.array([page.offset] * len(page.ids), type=pa.int64()),
        }
    )


def table_page(table: pa.Table) -> Page:
    """The records of a block as a :class:`~autoembedding.chroma.pages.Page`.

    The page's offset is the smallest ``page`` value in the block (blocks are pages, but Ray may
    merge them; only messages use this offset).
    """
    pages = table.column("page").to_pylist()
    metas = [None if m is None else json.loads(m) for m in table.column("metadata").to_pylist()]
    return Page(
        offset=int(min(pages)) if pages else 0,
        ids=[str(i) for i in table.column("id").to_pylist()],
        documents=table.column("document").to_pylist(),
        metadatas=metas,
    )


def page_counts(table: pa.Table) -> pa.Table:
    """``page`` -> rows of that page in the block: what a written block reports to the driver."""
    pages, counts = np.unique(np.asarray(table.column("page")), return_counts=True)
    return pa.table({"page": pa.array(pages, pa.int64()), "rows": pa.array(counts, pa.int64())})


# ---------------------------------------------------------------------------- read
class ChromaPagesDatasource(Datasource):  # type: ignore[misc]
    """A Ray Data datasource reading the given pages of a Chroma collection, one block per page.

    Args:
        target: Where the database is.
        name: The collection to read.
        pages: ``(offset, count)`` pages to read, in order.
    """

    def __init__(self, target: ChromaTarget, name: str, pages: Sequence[tuple[int, int]]) -> None:
        super().__init__()
        self.target = target
        self.name = name
        self.pages = list(pages)

    def get_name(self) -> str:
        """Name of the read stage in Ray's progress and stats."""
        return "ChromaPages"

    def estimate_inmemory_data_size(self) -> int | None:
        """Unknown before reading (documents vary in length)."""
        return None

    @property
    def num_tasks(self) -> int:
        """Read tasks to ask Ray for (``override_num_blocks``).

        Runs of at most :data:`PAGES_PER_READ_TASK` pages. Ray splits the blocks of a read that
        has fewer tasks than it wants blocks; asking for exactly this many keeps one block per
        page.
        """
        return max(1, math.ceil(len(self.pages) / PAGES_PER_READ_TASK))

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
    ) -> list[ReadTask]:
        """``parallelism`` read tasks (at most one per page), each a run of consecutive pages."""
        n_tasks = max(1, min(parallelism, len(self.pages)))
        per_task = math.ceil(len(self.pages) / n_tasks) if self.pages else 1
        tasks = []
        for k in range(0, len(self.pages), per_task):
            chunk = self.pages[k : k + per_task]
            rows = sum(count for _, count in chunk)
            meta = BlockMetadata(num_rows=rows, size_bytes=None, exec_stats=None, input_files=None)
            tasks.append(ReadTask(_Reader(self.target, self.name, chunk), meta))
        return tasks


@dataclass(frozen=True)
class _Reader:
    """One read task: open a client, read each page, yield it as a block."""

    target: ChromaTarget
    name: str
    pages: list[tuple[int, int]]

    def __call__(self) -> Iterator[pa.Table]:
        source = self.target.collection(self.name)
        for offset, count in self.pages:
            with chroma_errors("read", collection=self.name):
                page = next(iter_pages(source, count, start=offset, limit=count), None)
            if page is not None:
                yield page_table(page)


# ---------------------------------------------------------------------------- write
def write_table(staging: Any, table: pa.Table) -> pa.Table:
    """Upsert an embedded block into ``staging``; return its :func:`page_counts`.

    Raises:
        CollectionError: If Chroma refuses the write (``ChromaUnavailableError`` if the server
            is gone), naming the collection.
    """
    page = table_page(table)
    vectors = np.asarray(table.column("embedding").to_pylist(), dtype=np.float32)
    metas = None if all(m is None for m in page.metadatas) else page.metadatas
    with chroma_errors("write to", collection=str(staging.name)):
        staging.upsert(ids=page.ids, embeddings=vectors, documents=page.documents, metadatas=metas)
    return page_counts(table)


class StagingWriter:
    """The write stage on a Chroma server: a Ray actor that upserts blocks into ``staging``.

    Each actor opens its own client once; Ray restarts a dead one and retries its block.

    Args:
        target: The server.
        staging: The staging collection's name.

    Raises:
        ChromaUnavailableError: If the server does not answer.
    """

    def __init__(self, target: ChromaTarget, staging: str) -> None:
        self.collection = target.collection(staging)

    def __call__(self, table: pa.Table) -> pa.Table:
        """Write one block; return ``page``/``rows`` for the driver's journal."""
        return write_table(self.collection, table)
