"""Read, write and guard the model record kept in a Chroma collection.

Chroma only compares embedding-function *names*, so two models of the same dimension can mix
vectors silently. The :class:`~autoembedding.record.ModelRecord` kept in the collection lets this
package refuse, before writing anything, to add or query with another model. Chroma keeps it in
two places and :func:`read_record` reads both:

* the collection metadata (``autoembedding:*`` keys), written by :func:`write_record`;
* the persisted configuration of an ``AutoEmbeddingFunction`` (``configuration_json`` ->
  ``embedding_function``, name ``"autoembedding"``), written by Chroma when a collection is
  created with the function. It is read as JSON, so the function need not be registered (the
  model is not loaded to read it).

Every entry point reads the record through :func:`read_record` and writes it through
:func:`write_record`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from autoembedding.chroma.client import connection_flags
from autoembedding.chroma.errors import chroma_errors
from autoembedding.errors import CollectionError, ModelMismatchError
from autoembedding.record import FUNCTION_MODEL_KEY, FUNCTION_NAME, METADATA_PREFIX, ModelRecord

__all__ = [
    "check_dimension",
    "check_record",
    "function_record",
    "get_record",
    "merged_metadata",
    "metadata_record",
    "read_record",
    "stored_dim",
    "user_metadata",
    "write_record",
]

#: Prefix of the collection-metadata keys Chroma keeps for its index (not changeable by modify()).
_INDEX_PREFIX = "hnsw:"


def _without(metadata: Mapping[str, Any] | None, *prefixes: str) -> dict[str, Any]:
    return {k: v for k, v in (metadata or {}).items() if not k.startswith(prefixes)}


def user_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """The user's own collection metadata: without this package's keys and Chroma's ``hnsw:``."""
    return _without(metadata, METADATA_PREFIX, _INDEX_PREFIX)


def metadata_record(collection: Any) -> ModelRecord | None:
    """The model record in a collection's metadata (``autoembedding:*`` keys), if any.

    One half of :func:`read_record`; use that unless you need to tell the two places apart.
    """
    return ModelRecord.from_metadata(getattr(collection, "metadata", None))


#: Kept for callers written before :func:`read_record`: the metadata half only.
get_record = metadata_record


def _configuration_json(collection: Any) -> Mapping[str, Any]:
    """The collection's persisted configuration as JSON, without building its function.

    ``collection.configuration`` would rebuild the embedding function (loading the model, and
    failing when it is not registered); ``configuration_json`` is the raw dict Chroma returned.
    """
    raw = getattr(collection, "configuration_json", None)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, Mapping) else {}


def function_record(collection: Any) -> ModelRecord | None:
    """The model record in the collection's persisted ``AutoEmbeddingFunction`` config, if any.

    One half of :func:`read_record`. ``None`` when the collection has no persisted function or
    another one (Chroma's default, a LangChain store's ``None``, ...).

    Raises:
        CollectionError: If the persisted autoembedding config names no model or is malformed.
    """
    function = _configuration_json(collection).get("embedding_function")
    if not isinstance(function, Mapping) or function.get("name") != FUNCTION_NAME:
        return None
    if function.get("type", "known") != "known":
        return None
    config = function.get("config")
    try:
        if not isinstance(config, Mapping):
            raise TypeError(f"config is {type(config).__name__}, not a dict")
        return ModelRecord.from_config(config, model_key=FUNCTION_MODEL_KEY)
    except (KeyError, TypeError, ValueError) as exc:
        raise CollectionError(
            f"Collection {_name(collection)!r} persists an autoembedding embedding function "
            f"whose config cannot be read ({type(exc).__name__}: {exc}). Re-embed it with a "
            f"known model: {swap_command(collection, '<id>')}."
        ) from exc


def read_record(collection: Any) -> ModelRecord | None:
    """The model that made a collection's vectors, from either place Chroma keeps it.

    The metadata record is read first, then the persisted function config; either alone is the
    record. Both are read from the collection object as fetched (no request to Chroma).

    Args:
        collection: A Chroma collection (or anything with ``metadata`` and
            ``configuration_json``).

    Returns:
        The record, or ``None`` when the collection records no model.

    Raises:
        ModelMismatchError: If the metadata and the function config name different models (one
            of them is stale); the message names both and how to settle it.
        CollectionError: If the persisted function config is malformed.

    Example:
        >>> from types import SimpleNamespace
        >>> col = SimpleNamespace(name="docs", metadata=None, configuration_json={
        ...     "embedding_function": {"type": "known", "name": "autoembedding",
        ...                            "config": {"model": "fake/a", "dim": 64}}})
        >>> read_record(col).model_id
        'fake/a'
    """
    stored = metadata_record(collection)
    persisted = function_record(collection)
    if stored is None or persisted is None:
        return stored or persisted
    if not stored.same_vectors_as(persisted):
        name = _name(collection)
        raise ModelMismatchError(
            f"Collection {name!r} records two models: its metadata says {stored.describe()}, "
            f"its persisted embedding function says {persisted.describe()}. One of them is "
            "stale (e.g. a swap by an older autoembedding), so which model made the vectors is "
            f"unknown. Re-embed it with the model you want: "
            f"{swap_command(collection, stored.model_id)}."
        )
    return stored


def merged_metadata(existing: dict[str, Any] | None, record: ModelRecord) -> dict[str, Any]:
    """Collection metadata with ``record`` written in and other keys kept."""
    return {**_without(existing, METADATA_PREFIX), **record.to_metadata()}


def write_record(collection: Any, record: ModelRecord) -> None:
    """Store ``record`` in the collection's metadata (keeping the user's own keys).

    Chroma refuses to change the distance space through ``modify()``, so ``hnsw:`` keys are never
    sent back.
    """
    metadata = {**user_metadata(getattr(collection, "metadata", None)), **record.to_metadata()}
    with chroma_errors("write the model record into", collection=_name(collection)):
        collection.modify(metadata=metadata)


def stored_dim(collection: Any) -> int | None:
    """The dimension of one vector stored in ``collection`` (``None`` when it is empty).

    Raises:
        CollectionError: If the collection cannot be read (server gone, database broken).
    """
    with chroma_errors("read", collection=_name(collection)):
        got = collection.get(limit=1, include=["embeddings"])
    embs = got.get("embeddings")
    if embs is None or len(embs) == 0:
        return None
    return len(embs[0])


def check_dimension(collection: Any, record: ModelRecord) -> int | None:
    """For a collection with no record: refuse vectors of another dimension than ``record``'s.

    Without a record, the dimension of a stored vector is the one thing that can be checked.

    Returns:
        The stored vectors' dimension (``None`` when the collection is empty).

    Raises:
        ModelMismatchError: If the stored vectors have another dimension; says how to migrate.
    """
    dim = stored_dim(collection)
    if dim is not None and dim != record.dim:
        name = _name(collection)
        raise ModelMismatchError(
            f"Collection {name!r} holds {dim}-d vectors (no model record), but "
            f"{record.describe()} makes {record.dim}-d vectors. Use the model that made them, or "
            f"re-embed: {swap_command(collection, record.model_id)}."
        )
    return dim


def _name(collection: Any) -> str:
    return str(getattr(collection, "name", "?"))


def swap_command(collection: Any, model: str) -> str:
    """The ``autoembed swap`` command that moves ``collection`` to ``model``, copyable as is.

    The connection options come from the collection's own client (``--chroma-path DB`` when it
    cannot say where it is).
    """
    flags = connection_flags(getattr(collection, "_client", None))
    return f"autoembed swap {flags} --collection {shlex.quote(_name(collection))} --model {model}"


def check_record(collection: Any, record: ModelRecord, *, action: str = "use") -> None:
    """Refuse to write or query a collection whose vectors came from another model.

    Args:
        collection: The Chroma collection.
        record: The model about to be used.
        action: What is about to happen, for the message (``"add to"``, ``"query"``).

    Raises:
        ModelMismatchError: If the collection records another model (in its metadata or its
            persisted function config); says how to migrate.
    """
    stored = read_record(collection)
    if stored is None or stored.same_vectors_as(record):
        return
    name = _name(collection)
    raise ModelMismatchError(
        f"Collection {name!r} holds vectors made by {stored.describe()}, but you asked to "
        f"{action} it with {record.describe()}. Mixing models gives meaningless results. "
        f"Use model={stored.model_id!r} (AutoEmbedding(collection=...) does this for you), or "
        f"migrate the collection: {swap_command(collection, record.model_id)} "
        "(or autoembedding.selector.swap)."
    )
