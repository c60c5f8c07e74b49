"""Small reads of a collection the model resolver needs, with Chroma's errors translated."""

from __future__ import annotations

from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.errors import ModelMismatchError
from autoembedding.record import ModelRecord

__all__ = ["count", "has_no_documents", "moved_error"]


def _read(collection: Any, method: str, **kwargs: Any) -> Any:
    """Call a read method of the collection, with Chroma's errors translated."""
    with chroma_errors("read", collection=getattr(collection, "name", None)):
        return getattr(collection, method)(**kwargs)


def count(collection: Any) -> int:
    """How many records the collection holds."""
    return int(_read(collection, "count"))


def has_no_documents(collection: Any) -> bool:
    """Whether the first records carry no document text (vectors only)."""
    got = _read(collection, "get", limit=20, include=["documents"])
    docs = got.get("documents") or []
    return all(d is None or d == "" for d in docs)


def moved_error(name: str, recorded: ModelRecord, used: ModelRecord) -> ModelMismatchError:
    """The error of a pinned model whose bound collection was swapped to another model."""
    return ModelMismatchError(
        f"Collection {name!r} now holds vectors made by {recorded.describe()} (it was swapped), "
        f"but this AutoEmbedding is pinned to {used.describe()}; its queries and writes would "
        f"mix two models. Drop model= so the collection's record decides, or pin "
        f"model={recorded.model_id!r}; to go back: autoembed swap --undo --collection {name}."
    )
