"""A collection bound by its name: re-read cheaply, follows a swap in a running process.

``autoembed swap`` moves a collection by renaming: afterwards the *name* holds the re-embedded
collection and the old one is ``NAME__backup_<time>``. A handle opened before the swap still
points at the backup. :class:`CollectionBinding` keeps the name and the client instead, re-reads
the collection by name at most once per ``recheck_s`` (one metadata read, no model loaded) and
says when another collection, or another model record, now holds the name.

The LangChain and LlamaIndex store helpers
(:func:`autoembedding.integrations.langchain.chroma_store`,
:func:`autoembedding.integrations.llama_index.chroma_vector_store`) build one binding and share it
between the store (through a :class:`FollowingCollection`) and the ``AutoEmbedding`` (through its
``collection=``), so the model that embeds and the collection written to always move together.

Example:
    >>> import chromadb
    >>> from autoembedding.retrieval.binding import bind_collection
    >>> binding = bind_collection(chromadb.EphemeralClient(), "docs-binding-example")
    >>> binding.name, binding.record() is None
    ('docs-binding-example', True)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from autoembedding.chroma.client import connect, describe_client, import_chromadb
from autoembedding.chroma.errors import chroma_errors, is_not_found
from autoembedding.chroma.records import read_record
from autoembedding.errors import AutoEmbeddingError, CollectionError
from autoembedding.record import ModelRecord

__all__ = [
    "CollectionBinding",
    "FollowingCollection",
    "bind_collection",
    "client_for",
]

logger = logging.getLogger("autoembedding")

#: The methods that carry vectors the ``AutoEmbedding`` just made: they use the handle as it was
#: when those vectors were made (the embedding re-checked the binding), never a newer one.
_VECTOR_METHODS = frozenset({"add", "upsert", "update", "query", "search"})


def client_for(
    client: Any = None,
    *,
    persist_directory: str | os.PathLike[str] | None = None,
    host: str | None = None,
    port: int | None = None,
    **settings: Any,
) -> Any:
    """The Chroma client a store helper uses: ``client``, a folder, a server, or in memory.

    Args:
        client: A ready chromadb client (then give nothing else).
        persist_directory: Folder of an embedded database (created if missing).
        host: Host of a Chroma server.
        port: Its port (default 8000).
        **settings: Passed to :func:`autoembedding.chroma.client.connect`.

    Returns:
        A chromadb client (an in-memory ``EphemeralClient`` when nothing is given).

    Raises:
        CollectionError: If more than one of ``client``/``persist_directory``/``host`` is given.
        ChromaUnavailableError: If no server answers at ``host``.
    """
    given = [
        n
        for n, v in (("client", client), ("persist_directory", persist_directory), ("host", host))
        if v is not None
    ]
    if len(given) > 1:
        raise CollectionError(f"Give one of client, persist_directory or host; got {given}.")
    if client is not None:
        return client
    if persist_directory is not None or host is not None:
        return connect(persist_directory, host=host, port=port, **settings)
    return import_chromadb().EphemeralClient()


class CollectionBinding:
    """A Chroma collection known by its name: the handle that holds the name now, and its record.

    Args:
        client: The chromadb client the collection lives in.
        name: Collection name.
        collection: A handle already opened (else it is opened now; it must exist).
        recheck_s: Re-read the collection by name at most this often (seconds).
        wait_s: While the name is missing (the instant of a swap's rename), wait this long
            before giving up.

    Raises:
        CollectionNotFoundError: If ``collection`` is not given and the name does not exist.
    """

    def __init__(
        self,
        client: Any,
        name: str,
        *,
        collection: Any = None,
        recheck_s: float = 1.0,
        wait_s: float = 10.0,
    ) -> None:
        self.client = client
        self.name = str(name)
        self.recheck_s = float(recheck_s)
        self.wait_s = float(wait_s)
        self._lock = threading.RLock()
        self._collection = collection if collection is not None else self._fetch()
        self._checked_at = time.monotonic()
        self._generation = 0
        self._proxy = FollowingCollection(self)

    # ------------------------------------------------------------------ what it holds
    @property
    def collection(self) -> Any:
        """The handle as of the last check (no request to Chroma)."""
        return self._collection

    @property
    def generation(self) -> int:
        """Grows by one each time another collection or another record is seen under the name."""
        return self._generation

    @property
    def proxy(self) -> FollowingCollection:
        """A collection-like object that always acts on the collection holding the name."""
        return self._proxy

    def record(self) -> ModelRecord | None:
        """The model record of the collection as of the last check (see ``read_record``)."""
        return read_record(self._collection)

    def __repr__(self) -> str:
        return f"CollectionBinding({self.name!r}, generation={self._generation})"

    # ------------------------------------------------------------------ checks
    def refresh(self, *, force: bool = False) -> bool:
        """Re-read the collection by name if ``recheck_s`` has passed (or ``force``).

        Returns:
            Whether another collection (a swap, a re-creation) or another model record now
            holds the name; :attr:`generation` has then grown.

        Raises:
            CollectionNotFoundError: If the name stays missing for ``wait_s``.
            ChromaUnavailableError: If the server cannot be reached.
        """
        with self._lock:
            now = time.monotonic()
            if not force and now - self._checked_at < self.recheck_s:
                return False
            fresh = self._fetch()
            self._checked_at = time.monotonic()
            old = self._collection
            changed = _id(fresh) != _id(old) or _record_key(fresh) != _record_key(old)
            self._collection = fresh
            if changed:
                self._generation += 1
                logger.info(
                    "Collection %r changed under its name (now %s); following it.",
                    self.name,
                    _describe(fresh),
                )
            return changed

    def _fetch(self) -> Any:
        """Open the collection by name without building its function (waits out a rename)."""
        deadline = time.monotonic() + self.wait_s
        where = describe_client(self.client)
        while True:
            try:
                with chroma_errors("open", collection=self.name, where=where):
                    return self.client.get_collection(name=self.name, embedding_function=None)
            except CollectionError as exc:
                if not is_not_found(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(0.05)


class FollowingCollection:
    """Stands in for a chromadb ``Collection`` and acts on the collection holding the name now.

    ``add``/``upsert``/``update``/``query``/``search`` carry vectors the bound ``AutoEmbedding``
    made after re-checking the binding, so they use the handle as of that check; every other
    method (``get``, ``delete``, ``count``, ``modify``, ...) re-checks first (at most once per
    ``recheck_s``).

    Args:
        binding: The :class:`CollectionBinding` to follow.
    """

    def __init__(self, binding: CollectionBinding) -> None:
        self._binding = binding

    @property
    def binding(self) -> CollectionBinding:
        """The binding this object follows."""
        return self._binding

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__"):
            raise AttributeError(item)
        binding = self._binding
        if item not in _VECTOR_METHODS:
            binding.refresh()
        return getattr(binding.collection, item)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        """``Collection.add``, then the collection's saved BM25 index is brought up to date."""
        return self._write("add", args, kwargs)

    def upsert(self, *args: Any, **kwargs: Any) -> Any:
        """``Collection.upsert``, then the collection's saved BM25 index is brought up to date."""
        return self._write("upsert", args, kwargs)

    def _write(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        binding = self._binding
        collection = binding.collection
        result = getattr(collection, method)(*args, **kwargs)
        from autoembedding.retrieval.store import index_written

        ids = kwargs.get("ids", args[0] if args else None)
        index_written(
            collection, binding.record(), ids, kwargs.get("documents"), client=binding.client
        )
        return result

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"FollowingCollection({self._binding.name!r})"


def bind_collection(
    client: Any,
    name: str,
    *,
    create: bool = True,
    metadata: dict[str, Any] | None = None,
    configuration: dict[str, Any] | None = None,
    recheck_s: float = 1.0,
) -> CollectionBinding:
    """Open (or create) collection ``name`` and bind it by name.

    The collection is opened without an embedding function (vectors come from the bound
    ``AutoEmbedding``), so one made by ``AutoEmbeddingFunction`` opens too.

    Args:
        client: A chromadb client.
        name: Collection name.
        create: Create the collection if it does not exist.
        metadata: Metadata of a new collection.
        configuration: Chroma configuration of a new collection (e.g. ``{"hnsw": {...}}``).
        recheck_s: See :class:`CollectionBinding`.

    Returns:
        The :class:`CollectionBinding`.

    Raises:
        CollectionNotFoundError: If ``create`` is false and there is no such collection.
        ChromaUnavailableError: If the server cannot be reached.
    """
    # A collection made by AutoEmbeddingFunction rebuilds it on .configuration: register it.
    import autoembedding.chroma.function  # noqa: F401

    where = describe_client(client)
    if create:
        with chroma_errors("open or create", collection=name, where=where):
            collection = client.get_or_create_collection(
                name=name,
                embedding_function=None,
                metadata=metadata or None,
                configuration=configuration,
            )
        return CollectionBinding(client, name, collection=collection, recheck_s=recheck_s)
    return CollectionBinding(client, name, recheck_s=recheck_s)


def _id(collection: Any) -> Any:
    return getattr(collection, "id", None)


def _record_key(collection: Any) -> Any:
    """What identifies the record of a handle, without raising on a conflicting one."""
    try:
        record = read_record(collection)
    except AutoEmbeddingError as exc:  # a conflicting or unreadable record is a state too
        return type(exc).__name__
    return None if record is None else record.to_config()


def _describe(collection: Any) -> str:
    try:
        record = read_record(collection)
    except AutoEmbeddingError:
        return "a conflicting model record"
    return record.describe() if record is not None else "no model record"
