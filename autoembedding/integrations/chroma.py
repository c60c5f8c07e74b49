"""Chroma integration: an embedding function whose model persists with the collection.

:class:`AutoEmbeddingFunction` is a Chroma 1.x ``EmbeddingFunction``: its ``get_config()`` (model,
prompts, truncation, precision) is stored with the collection, and Chroma rebuilds it with
``build_from_config()`` when the collection is reopened without an embedding function. Chroma
looks the function up by ``name()`` in its registry, so **this module must be imported before a
collection made with it is reopened** (``import autoembedding.integrations.chroma``); importing
it registers the function. ``import autoembedding`` alone does not, to stay cheap.

Chroma compares only the function's *name* when a collection is reopened, never its config, so it
cannot tell two models apart. The helpers :func:`get_or_create_collection` and
:func:`get_collection` close that gap: they write a :class:`~autoembedding.record.ModelRecord` into
the collection metadata and return a :class:`GuardedCollection` that refuses, before writing
anything, to add or query with another model.

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

import warnings
from typing import Any

import numpy as np

from autoembedding.adapters import get_adapter, missing_extra, validate_texts
from autoembedding.adapters.base import BaseAdapter, Precision
from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.chroma.records import check_record, get_record, merged_metadata, write_record
from autoembedding.errors import (
    AutoEmbeddingError,
    CollectionError,
    ModelMismatchError,
)
from autoembedding.record import ModelRecord

try:
    import chromadb
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
    from chromadb.utils.embedding_functions import register_embedding_function
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("chromadb", "chroma", exc) from exc

__all__ = [
    "FUNCTION_NAME",
    "AutoEmbeddingFunction",
    "GuardedCollection",
    "get_collection",
    "get_or_create_collection",
    "http_client",
]

#: The name Chroma stores with the collection and looks the function up by.
FUNCTION_NAME = "autoembedding"

_RECORD_KEYS = (
    "model",
    "truncate_dim",
    "precision",
    "query_prompt",
    "document_prompt",
    "normalize",
)


@register_embedding_function
class AutoEmbeddingFunction(EmbeddingFunction[Documents]):
    """A Chroma embedding function backed by any autoembedding model.

    Documents are embedded with the model's document prompt, queries (``embed_query``, which
    Chroma calls for ``query_texts``) with its query prompt.

    Args:
        model: Catalog id or alias (``autoembed models`` lists them); the offline default if
            omitted.
        truncate_dim: Matryoshka truncation (``None``: native dimension).
        precision: ``"float32"``, ``"int8"`` or ``"binary"``.
        query_prompt: Override the catalog's query prompt.
        document_prompt: Override the catalog's document prompt.
        normalize: L2-normalise vectors (default).
        batch_size: Texts per forward pass (not part of the vectors' identity).
        adapter: A ready adapter to use instead of building one from ``model``.
        **adapter_options: Other :func:`~autoembedding.get_adapter` options (``device``, ...);
            saved in the config only when JSON-serialisable.

    """

    def __init__(
        self,
        model: str | None = None,
        *,
        truncate_dim: int | None = None,
        precision: Precision = "float32",
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        normalize: bool = True,
        batch_size: int = 32,
        adapter: BaseAdapter | None = None,
        **adapter_options: Any,
    ) -> None:
        if adapter is None:
            options: dict[str, Any] = {
                "truncate_dim": truncate_dim,
                "precision": precision,
                "normalize": normalize,
                "batch_size": batch_size,
                **adapter_options,
            }
            # Prompts left as None keep the catalog's prompts.
            if query_prompt is not None:
                options["query_prompt"] = query_prompt
            if document_prompt is not None:
                options["document_prompt"] = document_prompt
            adapter = get_adapter(model or OFFLINE_DEFAULT, **options)
        self.adapter = adapter
        self.adapter_options = adapter_options

    # ------------------------------------------------------------------ Chroma protocol
    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's name
        """Embed documents (with the document prompt)."""
        texts = _texts(input)
        return _rows(self.adapter.embed_documents(texts))

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's name
        """Embed queries (with the query prompt)."""
        texts = _texts(input)
        return _rows(self.adapter.embed_queries(texts))

    @staticmethod
    def name() -> str:
        """Return the registry name Chroma persists (``"autoembedding"``)."""
        return FUNCTION_NAME

    def default_space(self) -> Space:
        """Cosine: every model here is trained for it (vectors are L2-normalised)."""
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        """Spaces the vectors make sense in."""
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        """Return what Chroma stores with the collection to rebuild this function."""
        record = self.adapter.record()
        config: dict[str, Any] = {
            "model": record.model_id,
            "backend": record.backend,
            "dim": record.dim,
            "truncate_dim": record.truncate_dim,
            "precision": record.precision,
            "query_prompt": record.query_prompt,
            "document_prompt": record.document_prompt,
            "normalize": record.normalize,
            "batch_size": self.adapter.batch_size,
        }
        for key, value in self.adapter_options.items():
            if isinstance(value, (str, int, float, bool)) or value is None:
                config[key] = value
        return config

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> AutoEmbeddingFunction:
        """Rebuild the function Chroma persisted (same model, prompts, truncation, precision)."""
        options = {k: v for k, v in config.items() if k not in ("model", "backend", "dim")}
        function = AutoEmbeddingFunction(str(config["model"]), **options)
        dim = config.get("dim")
        if dim and function.adapter.spec.dim and int(dim) != function.adapter.dim:
            raise ModelMismatchError(
                f"The collection was made with {config['model']} at {dim} dims, but it now builds "
                f"{function.adapter.dim}-d vectors; check the catalog/version of autoembedding."
            )
        return function

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Check a persisted config names a model."""
        if not config.get("model"):
            raise ValueError("autoembedding function config has no 'model'.")

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        """Refuse config updates that would change the vectors of an existing collection."""
        changed = [
            k for k in _RECORD_KEYS if k in new_config and new_config[k] != old_config.get(k)
        ]
        if changed:
            raise ModelMismatchError(
                f"Changing {changed} of a collection's embedding function would mix vectors of "
                "two models. Migrate instead: autoembed swap --collection <name> --model <id>."
            )

    # ------------------------------------------------------------------ ours
    def record(self) -> ModelRecord:
        """Return the record of the vectors this function makes."""
        return self.adapter.record()

    def __repr__(self) -> str:
        return f"AutoEmbeddingFunction({self.adapter.name!r})"


def _texts(input: Any) -> list[str]:  # noqa: A002
    if isinstance(input, str):
        return [input]
    return validate_texts(input)


def _rows(vectors: np.ndarray) -> Embeddings:
    return [np.asarray(row, dtype=np.float32) for row in vectors]


# ---------------------------------------------------------------------------- guarded collection
class GuardedCollection:
    """A Chroma collection that refuses to be written or queried with another model.

    Every ``add``/``upsert``/``update``/``query`` first checks the collection's model record
    against the function's record (raising :class:`~autoembedding.errors.ModelMismatchError`
    before anything is sent), validates documents (``TypeError`` naming the index of a
    ``None``/non-string), and turns a lost server into a
    :class:`~autoembedding.errors.CollectionError` instead of a half-written success. Anything
    else is passed through to the wrapped collection.

    Args:
        collection: The Chroma collection.
        function: The embedding function it uses.

    """

    def __init__(self, collection: Any, function: AutoEmbeddingFunction) -> None:
        self._collection = collection
        self.function = function

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
        """Return the model record stored in the collection."""
        return get_record(self._collection)

    def __getattr__(self, item: str) -> Any:
        return getattr(self._collection, item)

    def __repr__(self) -> str:
        return f"GuardedCollection({self.name!r}, {self.function.adapter.name!r})"

    def _check(self, action: str, documents: Any = None) -> None:
        check_record(self._collection, self.function.record(), action=action)
        if documents is not None:
            validate_texts(documents)

    def _call(self, method: str, action: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._collection, method)(**kwargs)
        except (AutoEmbeddingError, TypeError):
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                n = len(kwargs.get("ids") or []) if method != "query" else 0
                detail = (
                    f" None, some or all of the {n} records may have been written; re-run it "
                    "with upsert() (same ids) to make sure."
                    if n
                    else ""
                )
                raise CollectionError(
                    f"Lost the Chroma server while trying to {action} collection {self.name!r} "
                    f"({type(exc).__name__}: {exc}). The call did not succeed.{detail} Check "
                    "that the server is running."
                ) from exc
            raise

    def add(self, ids: Any, documents: Any = None, **kwargs: Any) -> None:
        """Add records (guarded); see ``chromadb.Collection.add``."""
        self._check("add to", documents)
        self._call("add", "add to", ids=ids, documents=documents, **kwargs)

    def upsert(self, ids: Any, documents: Any = None, **kwargs: Any) -> None:
        """Upsert records (guarded); see ``chromadb.Collection.upsert``."""
        self._check("add to", documents)
        self._call("upsert", "add to", ids=ids, documents=documents, **kwargs)

    def update(self, ids: Any, documents: Any = None, **kwargs: Any) -> None:
        """Update records (guarded); see ``chromadb.Collection.update``."""
        self._check("add to", documents)
        self._call("update", "update", ids=ids, documents=documents, **kwargs)

    def query(self, query_texts: Any = None, **kwargs: Any) -> Any:
        """Query (guarded); see ``chromadb.Collection.query``."""
        if isinstance(query_texts, str):
            query_texts = [query_texts]
        self._check("query", query_texts)
        return self._call("query", "query", query_texts=query_texts, **kwargs)


def _is_connection_error(exc: BaseException) -> bool:
    names = {
        "ConnectError",
        "ConnectionError",
        "RemoteProtocolError",
        "ReadError",
        "ConnectTimeout",
        "ReadTimeout",
        "NetworkError",
        "ConnectionRefusedError",
        "ConnectionResetError",
    }
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ in names or isinstance(seen, (ConnectionError, OSError)):
            return True
        text = str(seen).lower()
        if "could not connect" in text or "connection refused" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _MissingCollectionError(CollectionError):
    """The collection does not exist (get_or_create_collection then creates it)."""


def _function_of(collection: Any) -> AutoEmbeddingFunction | None:
    function = getattr(collection, "_embedding_function", None)
    if isinstance(function, AutoEmbeddingFunction):
        return function
    config = getattr(collection, "configuration", None) or {}
    function = config.get("embedding_function") if isinstance(config, dict) else None
    return function if isinstance(function, AutoEmbeddingFunction) else None


def _wrap_client_error(exc: Exception, what: str) -> Exception:
    if isinstance(exc, AutoEmbeddingError):
        return exc
    if _is_connection_error(exc):
        return CollectionError(
            f"Could not reach the Chroma server to {what} ({type(exc).__name__}: {exc}). Start "
            "it (chroma run --path <dir> --port <port>) or check host and port."
        )
    return exc


def get_or_create_collection(
    client: Any,
    name: str,
    model: str | None = None,
    *,
    function: AutoEmbeddingFunction | None = None,
    metadata: dict[str, Any] | None = None,
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
        model: Catalog id; ``None`` reuses the collection's model, or the offline default for a
            new collection.
        function: A ready :class:`AutoEmbeddingFunction` (instead of ``model``).
        metadata: Extra collection metadata for a new collection.
        **function_options: Options for :class:`AutoEmbeddingFunction` (``truncate_dim``,
            ``precision``, prompts, ...).

    Returns:
        A :class:`GuardedCollection`.

    Raises:
        ModelMismatchError: If the collection records another model.
        CollectionError: If the server cannot be reached.

    """
    try:
        return _open_existing(client, name, model, function, function_options)
    except _MissingCollectionError:
        pass
    if function is None:
        function = AutoEmbeddingFunction(model, **function_options)
    record = function.record()
    try:
        collection = client.create_collection(
            name=name,
            embedding_function=function,
            metadata=merged_metadata(metadata, record),
        )
    except Exception as exc:
        raise _wrap_client_error(exc, f"create collection {name!r}") from exc
    return GuardedCollection(collection, function)


def get_collection(client: Any, name: str) -> GuardedCollection:
    """Reopen a collection made by :func:`get_or_create_collection` (no function needed).

    Raises:
        CollectionError: If it does not exist, was not made with an autoembedding function and
            records no model, or the server cannot be reached.

    """
    return _open_existing(client, name, None, None, {})


def _open_existing(
    client: Any,
    name: str,
    model: str | None,
    function: AutoEmbeddingFunction | None,
    options: dict[str, Any],
) -> GuardedCollection:
    try:
        collection = client.get_collection(name=name)
    except Exception as exc:
        wrapped = _wrap_client_error(exc, f"open collection {name!r}")
        text = str(exc).lower()
        missing = ("not found" in text or "does not exist" in text) and "embedding" not in text
        if wrapped is exc and missing:
            raise _MissingCollectionError(
                f"Cannot open collection {name!r}: {exc}. Create it with "
                "get_or_create_collection(client, name, model=...)."
            ) from exc
        raise wrapped from exc
    stored = get_record(collection)
    persisted = _function_of(collection)
    if function is None and model is not None:
        function = AutoEmbeddingFunction(model, **options)
    if function is None:
        if persisted is not None:
            function = persisted
        elif stored is not None:
            function = AutoEmbeddingFunction(stored.model_id, **stored.to_options())
        else:
            raise CollectionError(
                f"Collection {name!r} was not made with an autoembedding function and records no "
                "model, so which model made its vectors is unknown. Pass model='<that id>' (it "
                "is checked against the vectors' dimension)."
            )
    record = function.record()
    check_record(collection, record, action="use")
    if stored is None and persisted is not None and not persisted.record().same_vectors_as(record):
        raise ModelMismatchError(
            f"Collection {name!r} was made with {persisted.record().describe()}, but you asked "
            f"for {record.describe()}. Use model={persisted.record().model_id!r} or migrate: "
            f"autoembed swap --collection {name} --model {record.model_id}."
        )
    if persisted is None or persisted is not function:
        # Query/add through *this* function (Chroma would use the persisted or default one).
        try:
            collection = client.get_collection(name=name, embedding_function=function)
        except ValueError as exc:
            if "conflict" not in str(exc).lower():
                raise
            raise ModelMismatchError(
                f"Collection {name!r} was made with another Chroma embedding function ({exc}); "
                f"its vectors did not come from {record.describe()}. Migrate it: autoembed swap "
                f"--collection {name} --model {record.model_id}."
            ) from exc
    if stored is None:
        count = int(collection.count())
        if count == 0:
            write_record(collection, record)
        else:
            got = collection.get(limit=1, include=["embeddings"])
            embs = got.get("embeddings")
            dim = len(embs[0]) if embs is not None and len(embs) else None
            if dim is not None and dim != record.dim:
                raise ModelMismatchError(
                    f"Collection {name!r} holds {dim}-d vectors, but {record.describe()} makes "
                    f"{record.dim}-d ones. Use the model that made them or migrate: autoembed "
                    f"swap --collection {name} --model {record.model_id}."
                )
            if persisted is not None:
                write_record(collection, record)
            else:
                warnings.warn(
                    f"Collection {name!r} has {count} vectors and no model record; only their "
                    f"dimension ({dim}) could be checked against {record.describe()}.",
                    UserWarning,
                    stacklevel=3,
                )
    return GuardedCollection(collection, function)


def http_client(host: str = "localhost", port: int = 8000, **kwargs: Any) -> Any:
    """``chromadb.HttpClient`` that fails with a clear error when the server is not there.

    Args:
        host: Server host.
        port: Server port.
        **kwargs: Passed to ``chromadb.HttpClient`` (``ssl``, ``headers``, ``settings``, ...).

    Raises:
        CollectionError: If no Chroma server answers at ``host:port``.

    """
    try:
        client = chromadb.HttpClient(host=host, port=port, **kwargs)
        client.heartbeat()
    except Exception as exc:
        raise CollectionError(
            f"No Chroma server answers at http://{host}:{port} ({type(exc).__name__}: {exc}). "
            f"Start one with: chroma run --path <dir> --port {port}, or fix host/port."
        ) from exc
    return client
