"""Read, write and guard the model record kept in a Chroma collection.

Chroma only compares embedding-function *names*, so two models of the same dimension can mix
vectors silently. The :class:`~autoembedding.record.ModelRecord` written into the collection's
metadata lets this package refuse, before writing anything, to add or query with another model.
Every entry point reads and writes the record through this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autoembedding.errors import ModelMismatchError
from autoembedding.record import METADATA_PREFIX, ModelRecord

__all__ = [
    "check_record",
    "get_record",
    "merged_metadata",
    "user_metadata",
    "write_record",
]


def user_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """The user's own collection metadata: without this package's keys and Chroma's ``hnsw:``."""
    return {
        k: v
        for k, v in (metadata or {}).items()
        if not k.startswith(METADATA_PREFIX) and not k.startswith("hnsw:")
    }


def get_record(collection: Any) -> ModelRecord | None:
    """The model record stored in a collection's metadata, if any."""
    return ModelRecord.from_metadata(getattr(collection, "metadata", None))


def merged_metadata(existing: dict[str, Any] | None, record: ModelRecord) -> dict[str, Any]:
    """Collection metadata with ``record`` written in and other keys kept."""
    kept = {k: v for k, v in (existing or {}).items() if not k.startswith(METADATA_PREFIX)}
    return {**kept, **record.to_metadata()}


def write_record(collection: Any, record: ModelRecord) -> None:
    """Store ``record`` in the collection's metadata (keeping the user's own keys)."""
    metadata = merged_metadata(getattr(collection, "metadata", None), record)
    # Chroma refuses to change the distance space through modify(); never send hnsw keys back.
    metadata = {k: v for k, v in metadata.items() if not k.startswith("hnsw:")}
    collection.modify(metadata=metadata)


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
    name = getattr(collection, "name", "?")
    raise ModelMismatchError(
        f"Collection {name!r} holds vectors made by {stored.describe()}, but you asked to "
        f"{action} it with {record.describe()}. Mixing models gives meaningless results. "
        f"Use model={stored.model_id!r} (AutoEmbedding(collection=...) does this for you), or "
        f"migrate the collection: autoembed swap --collection {name} --model {record.model_id} "
        "(or autoembedding.selector.swap)."
    )
