"""Chroma's errors, and its transport's, translated once into this package's types."""

from __future__ import annotations

__all__ = ["is_not_found"]


def is_not_found(exc: BaseException) -> bool:
    """Whether a Chroma exception means "this collection does not exist" (embedded or HTTP)."""
    text = str(exc).lower()
    return type(exc).__name__ in ("NotFoundError", "InvalidCollectionException") or (
        "does not exist" in text or "not found" in text
    )
