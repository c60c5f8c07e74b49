"""Read, write and guard the model record kept in a Chroma collection.

Chroma only compares embedding-function *names*, so two models of the same dimension can mix
vectors silently. The :class:`~autoembedding.record.ModelRecord` written into the collection's
metadata lets this package refuse, before writing anything, to add or query with another model.
Every entry point reads and writes the record through this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.errors import ModelMismatchError
from autoembedding.record import METADATA_PREFIX, ModelRecord

__all__ = [
    "check_dimension",
    "check_record",
    "get_record",
    "merged_metadata",
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


def get_record(collection: Any) -> ModelRecord | None:
    """The model record stored in a collection's metadata, if any."""
    return ModelRecord.from_metadata(getattr(collection, "metadata", None))


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
            f"re-embed: autoembed swap --collection {name} --model {record.model_id}."
        )
    return dim


def _name(collection: Any) -> str:
    return str(getattr(collection, "name", "?"))


def check_record(collection: Any, record: ModelRecord, *, action: str = "use") -> None:
    """Refuse to write or query a collection whose vectors came from another model.

    Args:
        collection: The Chroma collection.
        record: The model about to be used.
        action: What is about to happen, for the message (``"add to"``, ``"query"``).

    Raises:
        ModelMismatchError: If the collection records another model; says how to migrate.
    """
    stored = get_record(collection)
    if stored is None or stored.same_vectors_as(record):
        return
    name = _name(collection)
    raise ModelMismatchError(
        f"Collection {name!r} holds vectors made by {stored.describe()}, but you asked to "
        f"{action} it with {record.describe()}. Mixing models gives meaningless results. "
        f"Use model={stored.model_id!r} (AutoEmbedding(collection=...) does this for you), or "
        f"migrate the collection: autoembed swap --collection {name} --model {record.model_id} "
        "(or autoembedding.selector.swap)."
    )
