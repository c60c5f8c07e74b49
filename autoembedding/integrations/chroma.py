"""Chroma integration: an embedding function whose model persists with the collection.

:class:`AutoEmbeddingFunction` is a Chroma 1.x ``EmbeddingFunction``: its ``get_config()`` (model,
prompts, truncation, precision) is stored with the collection, and Chroma rebuilds it with
``build_from_config()`` when the collection is reopened without an embedding function. Chroma
looks the function up by ``name()`` in its registry, so **this module must be imported before a
collection made with it is reopened** (``import autoembedding.integrations.chroma``); importing
it registers the function. ``import autoembedding`` alone does not, to stay cheap. (The function
itself is defined in :mod:`autoembedding.chroma.function`; import it from here.)

Chroma compares only the function's *name* when a collection is reopened, never its config, so it
cannot tell two models apart. The helpers :func:`get_or_create_collection` and
:func:`get_collection` close that gap: they write a :class:`~autoembedding.record.ModelRecord` into
the collection metadata and return a :class:`GuardedCollection` that refuses, before writing
anything, to add or query with another model, and to write through a handle opened before
``autoembed swap`` moved the collection (:class:`HandleCheck`: reopen it instead).

Example:
    >>> import chromadb
    >>> from autoembedding.integrations.chroma import get_or_create_collection
    >>> client = chromadb.EphemeralClient()
    >>> docs = get_or_create_collection(client, "docs", model="fake/demo")
    >>> docs.add(ids=["a", "b"], documents=["red apple", "blue car"])
    >>> docs.query(query_texts=["apple"], n_results=1)["ids"]
    [['a']]

"""

from __future__ import annotations

from typing import Any

from autoembedding.adapters import validate_texts
from autoembedding.chroma.client import connect, describe_client, open_collection
from autoembedding.chroma.errors import chroma_errors, is_connection_error
from autoembedding.chroma.function import (
    FUNCTION_NAME,
    AutoEmbeddingFunction,
    model_argument,
)
from autoembedding.chroma.handles import HandleCheck
from autoembedding.chroma.records import (
    check_dimension,
    check_record,
    function_record,
    merged_metadata,
    metadata_record,
    read_record,
    write_record,
)
from autoembedding.errors import (
    AutoEmbeddingError,
    AutoEmbeddingWarning,
    ChromaUnavailableError,
    CollectionError,
    CollectionNotFoundError,
    ModelMismatchError,
)
from autoembedding.record import ModelRecord
from autoembedding.warn import warn_user

__all__ = [
    "FUNCTION_NAME",
    "AutoEmbeddingFunction",
    "GuardedCollection",
    "HandleCheck",
    "get_collection",
    "get_or_create_collection",
    "http_client",
]


# ---------------------------------------------------------------------------- stale handles
# ---------------------------------------------------------------------------- guarded collection
class GuardedCollection:
    """A Chroma collection that refuses to be written or queried with another model.

    Every ``add``/``upsert``/``update``/``query`` first checks the collection's model record
    against the function's record (raising :class:`~autoembedding.errors.ModelMismatchError`
    before anything is sent), validates documents (``TypeError`` naming the index of a
    ``None``/non-string), and turns a lost server into a
    :class:`~autoembedding.errors.ChromaUnavailableError` (a ``CollectionError``) instead of a
    half-written success. ``add``/``upsert``/``update``/``delete`` also refuse, with a
    ``CollectionError`` that says to reopen it, a handle whose name another collection now holds
    (opened before ``autoembed swap``; see :class:`HandleCheck`, re-read at most once a
    second). Anything else is passed through to the wrapped collection.

    Args:
        collection: The Chroma collection.
        function: The embedding function it uses.
        client: The chromadb client it came from (for the stale-handle check; without one the
            handle's own connection is used).
        recheck_s: Re-check that the handle still holds its name at most this often (seconds).

    """

    def __init__(
        self,
        collection: Any,
        function: AutoEmbeddingFunction,
        *,
        client: Any = None,
        recheck_s: float = 1.0,
    ) -> None:
        self._collection = collection
        self.function = function
        self.handle = HandleCheck(collection, client, recheck_s=recheck_s)

    @property
    def collection(self) -> Any:
        """The wrapped Chroma collection."""
        return self._collection

    @property
    def name(self) -> str:
        """The collection's name."""
        return str(self._collection.name)

    @property
    def metadata(self) -> Any:
        """The collection's metadata (including the model record)."""
        return self._collection.metadata

    def record(self) -> ModelRecord | None:
        """Return the model record kept in the collection (metadata or function config)."""
        return read_record(self._collection)

    def __getattr__(self, item: str) -> Any:
        return getattr(self._collection, item)

    def __repr__(self) -> str:
        return f"GuardedCollection({self.name!r}, {self.function.adapter.name!r})"

    def _check(self, action: str, documents: Any = None, *, write: bool = True) -> None:
        if write:  # first: a stale handle's cached record is the old collection's
            self._check_handle(action)
        check_record(self._collection, self.function.record(), action=action)
        if documents is not None:
            validate_texts(documents)

    def _check_handle(self, action: str) -> None:
        try:
            self.handle.check(action)
        except ChromaUnavailableError as exc:
            raise ChromaUnavailableError(
                f"Lost the Chroma server while trying to {action} collection {self.name!r} "
                f"({exc}). The call did not succeed; nothing was written. Check that the server "
                "is running."
            ) from exc

    def _call(self, method: str, action: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._collection, method)(**kwargs)
        except Exception as exc:
            if isinstance(exc, AutoEmbeddingError) or not is_connection_error(exc):
                raise
            n = len(kwargs.get("ids") or []) if method in ("add", "upsert", "update") else 0
            detail = (
                f" None, some or all of the {n} records may have been written; re-run it "
                "with upsert() (same ids) to make sure."
                if n
                else ""
            )
            raise ChromaUnavailableError(
                f"Lost the Chroma server while trying to {action} collection {self.name!r} "
                f"({type(exc).__name__}: {exc}). The call did not succeed.{detail} Check "
                "that the server is running."
            ) from exc

    def add(self, ids: Any, documents: Any = None, **kwargs: Any) -> None:
        """Add records (guarded); see ``chromadb.Collection.add``."""
        self._check("add to", documents)
        self._call("add", "add to", ids=ids, documents=documents, **kwargs)
        self._index(ids, documents)

    def upsert(self, ids: Any, documents: Any = None, **kwargs: Any) -> None:
        """Upsert records (guarded); see ``chromadb.Collection.upsert``."""
        self._check("add to", documents)
        self._call("upsert", "add to", ids=ids, documents=documents, **kwargs)
        self._index(ids, documents)

    def update(self, ids: Any, documents: Any = None, **kwargs: Any) -> None:
        """Update records (guarded); see ``chromadb.Collection.update``."""
        self._check("add to", documents)
        self._call("update", "update", ids=ids, documents=documents, **kwargs)
        self._index(ids, documents)

    def _index(self, ids: Any, documents: Any) -> None:
        """Bring the saved BM25 index up to date when the record serves BM25 or a hybrid."""
        from autoembedding.retrieval.store import index_written

        index_written(self._collection, self.record(), ids, documents, client=self.handle.client)

    def delete(self, ids: Any = None, **kwargs: Any) -> None:
        """Delete records (refused through a stale handle); see ``chromadb.Collection.delete``."""
        self._check_handle("delete from")
        self._call("delete", "delete from", ids=ids, **kwargs)

    def query(self, query_texts: Any = None, **kwargs: Any) -> Any:
        """Query (guarded); see ``chromadb.Collection.query``."""
        if isinstance(query_texts, str):
            query_texts = [query_texts]
        self._check("query", query_texts, write=False)
        return self._call("query", "query", query_texts=query_texts, **kwargs)


def get_or_create_collection(
    client: Any,
    name: str,
    model: str | None = None,
    *,
    function: AutoEmbeddingFunction | None = None,
    metadata: dict[str, Any] | None = None,
    recheck_s: float = 1.0,
    **function_options: Any,
) -> GuardedCollection:
    """Open or create a collection whose vectors are recorded and guarded.

    A new collection is created with an :class:`AutoEmbeddingFunction` and the model record in
    its metadata. An existing one is reopened from its persisted function; if ``model`` (or
    ``function``) is given and the collection records another model, this raises before
    anything is written.

    Args:
        client: A Chroma client (``PersistentClient``, ``HttpClient``, ...).
        name: Collection name.
        model: Catalog id (``model_name=`` also works, as in Chroma's own functions); ``None``
            reuses the collection's model, or for a new collection ``$AUTOEMBEDDING_MODEL``,
            else the offline default.
        function: A ready :class:`AutoEmbeddingFunction` (instead of ``model``).
        metadata: Extra collection metadata for a new collection.
        recheck_s: Writes re-check, at most this often (seconds), that the handle still holds
            the name (see :class:`GuardedCollection`).
        **function_options: Options for :class:`AutoEmbeddingFunction` (``truncate_dim``,
            ``precision``, prompts, ...).

    Returns:
        A :class:`GuardedCollection`.

    Raises:
        ModelMismatchError: If the collection records another model.
        ChromaUnavailableError: If the server cannot be reached.

    """
    model = model_argument(model, function_options.pop("model_name", None))
    try:
        return _open_existing(client, name, model, function, function_options, recheck_s)
    except CollectionNotFoundError:
        pass
    if function is None:
        function = AutoEmbeddingFunction(model, **function_options)
    record = function.record()
    with chroma_errors("create", collection=name, where=describe_client(client)):
        collection = client.create_collection(
            name=name,
            embedding_function=function,
            metadata=merged_metadata(metadata, record),
        )
    return GuardedCollection(collection, function, client=client, recheck_s=recheck_s)


def get_collection(client: Any, name: str, *, recheck_s: float = 1.0) -> GuardedCollection:
    """Reopen a collection made by :func:`get_or_create_collection` (no function needed).

    Args:
        client: A Chroma client.
        name: Collection name.
        recheck_s: See :func:`get_or_create_collection`.

    Raises:
        CollectionNotFoundError: If it does not exist.
        CollectionError: If it was not made with an autoembedding function and records no
            model.
        ChromaUnavailableError: If the server cannot be reached.

    """
    try:
        return _open_existing(client, name, None, None, {}, recheck_s)
    except CollectionNotFoundError as exc:
        raise CollectionNotFoundError(
            f"{exc} To create it with a recorded model: "
            "get_or_create_collection(client, name, model=...)."
        ) from exc


def _open_existing(
    client: Any,
    name: str,
    model: str | None,
    function: AutoEmbeddingFunction | None,
    options: dict[str, Any],
    recheck_s: float = 1.0,
) -> GuardedCollection:
    where = describe_client(client)
    # Opened without a function first: reading the record must not build (load) a model.
    collection = open_collection(client, name, where=where, embedding_function=None)
    stored = read_record(collection)
    if function is None and model is not None:
        function = AutoEmbeddingFunction(model, **options)
    if function is None:
        function = _recorded_function(collection, stored)
    record = function.record()
    check_record(collection, record, action="use")
    try:
        # Query/add through *this* function (Chroma would use the persisted or default one).
        collection = open_collection(client, name, where=where, embedding_function=function)
    except ModelMismatchError as exc:  # Chroma persisted another embedding function
        raise ModelMismatchError(
            f"Collection {name!r} was made with another Chroma embedding function "
            f"({exc.__cause__}); "
            f"its vectors did not come from {record.describe()}. Migrate it: autoembed swap "
            f"--collection {name} --model {record.model_id}."
        ) from exc
    if metadata_record(collection) is None:
        with chroma_errors("count", collection=name, where=where):
            count = int(collection.count())
        if count == 0 or stored is not None:
            write_record(collection, record)
        else:
            dim = check_dimension(collection, record)
            warn_user(
                f"Collection {name!r} has {count} vectors and no model record; only their "
                f"dimension ({dim}) could be checked against {record.describe()}.",
                AutoEmbeddingWarning,
            )
    return GuardedCollection(collection, function, client=client, recheck_s=recheck_s)


def _recorded_function(collection: Any, stored: ModelRecord | None) -> AutoEmbeddingFunction:
    """The function that made the collection's vectors, from its persisted config or record."""
    name = getattr(collection, "name", "?")
    if function_record(collection) is not None:
        config = collection.configuration_json["embedding_function"]["config"]
        return AutoEmbeddingFunction.build_from_config(dict(config))
    if stored is not None:
        return AutoEmbeddingFunction(stored.model_id, **stored.to_options())
    raise CollectionError(
        f"Collection {name!r} was not made with an autoembedding function and records no "
        "model, so which model made its vectors is unknown. Pass model='<that id>' (it "
        "is checked against the vectors' dimension)."
    )


def http_client(host: str = "localhost", port: int = 8000, **kwargs: Any) -> Any:
    """``chromadb.HttpClient`` that fails with a clear error when the server is not there.

    Same as :func:`autoembedding.chroma.client.connect` with ``host=`` and ``port=``.

    Args:
        host: Server host.
        port: Server port.
        **kwargs: Passed to ``chromadb.HttpClient`` (``ssl``, ``headers``, ``settings``, ...).

    Raises:
        ChromaUnavailableError: If no Chroma server answers at ``host:port`` (a
            :class:`~autoembedding.errors.CollectionError`).

    """
    return connect(host=host, port=port, **kwargs)
