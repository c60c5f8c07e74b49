"""Wrap any LangChain ``Embeddings`` object as an adapter, so a user's current model is a candidate.

The wrapped object handles its own prompts, batching and API calls; this adapter adds none of
its own prompts and learns the dimension from the first vectors it gets back.

Example:
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> from autoembedding.adapters.langchain import from_langchain
    >>> current = from_langchain(DeterministicFakeEmbedding(size=64), name="my-current-model")
    >>> current.embed_documents(["a", "b"]).shape
    (2, 64)

The same through :func:`~autoembedding.get_adapter`:
``get_adapter("my-current-model", backend="langchain", embeddings=obj)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autoembedding.adapters.base import BaseAdapter
from autoembedding.catalog import ModelSpec
from autoembedding.errors import BackendError

__all__ = ["LangChainAdapter", "default_name", "from_langchain"]


def default_name(embeddings: Any) -> str:
    """Name a LangChain embeddings object by its class and model name (if it has one)."""
    cls = type(embeddings).__name__
    for attr in ("model_name", "model", "model_id", "deployment"):
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return f"langchain:{cls}({value})"
    return f"langchain:{cls}"


class LangChainAdapter(BaseAdapter):
    """An adapter around a LangChain ``Embeddings`` object.

    Args:
        embeddings: Any object with LangChain's ``embed_documents(list[str])`` and
            ``embed_query(str)`` methods.
        name: The candidate's name in reports; default from the object's class and model name.
        spec: A spec to use instead of the ad-hoc one (rarely needed).
        **common: Options of :class:`~autoembedding.adapters.base.BaseAdapter`. Prompts default
            to none: the wrapped object applies its own.

    Raises:
        TypeError: If ``embeddings`` lacks ``embed_documents``/``embed_query``.
    """

    #: The wrapped object applies whatever prompts it has; never add ours.
    applies_prompts_itself = True

    def __init__(
        self,
        embeddings: Any,
        *,
        name: str | None = None,
        spec: ModelSpec | None = None,
        **common: Any,
    ) -> None:
        if not (
            callable(getattr(embeddings, "embed_documents", None))
            and callable(getattr(embeddings, "embed_query", None))
        ):
            raise TypeError(
                f"{type(embeddings).__name__} is not a LangChain Embeddings object (it needs "
                "embed_documents() and embed_query()); pass e.g. HuggingFaceEmbeddings(...)."
            )
        if spec is None:
            spec = ModelSpec(
                id=name or default_name(embeddings),
                family="langchain",
                backend="langchain",
                dim=0,
                hub_id="",
            )
        super().__init__(spec, **common)
        self.embeddings = embeddings

    @classmethod
    def from_spec(cls, spec: ModelSpec, **options: object) -> LangChainAdapter:
        """Build from ``get_adapter(name, backend="langchain", embeddings=obj)``.

        Raises:
            TypeError: If no ``embeddings=`` object was passed.
        """
        embeddings = options.pop("embeddings", None)
        if embeddings is None:
            raise TypeError(
                "backend='langchain' wraps an existing LangChain Embeddings object: "
                f"get_adapter({spec.id!r}, backend='langchain', embeddings=your_embeddings)."
            )
        options.pop("name", None)
        if not spec.dim and spec.family == "custom":
            spec = ModelSpec(id=spec.id, family="langchain", backend="langchain", dim=0)
        return cls(embeddings, spec=spec, **options)  # type: ignore[arg-type]

    @property
    def native_dim(self) -> int:
        """The wrapped model's dimension; learned from its first answer (probes if none yet)."""
        if self.spec.dim:
            return self.spec.dim
        if self._discovered_dim is None:
            self._check(np.asarray([self.embeddings.embed_query("dimension probe")]), 1)
        return int(self._discovered_dim or 0)

    def _check(self, vectors: np.ndarray, expected: int) -> np.ndarray:
        if vectors.ndim != 2 or vectors.shape[0] != expected:
            raise BackendError(
                f"{self.name} returned {vectors.shape[0] if vectors.ndim else 0} vectors for "
                f"{expected} texts; the wrapped LangChain embeddings object is broken."
            )
        dim = self.spec.dim or self._discovered_dim
        if dim is None:
            self._discovered_dim = dim = int(vectors.shape[1])
        if vectors.shape[1] != dim:
            raise BackendError(
                f"{self.name} returned {vectors.shape[1]}-dim vectors after {dim}-dim ones."
            )
        if not np.isfinite(vectors).all():
            raise BackendError(f"{self.name} returned NaN or infinite values.")
        return vectors

    def _encode_all(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        """Hand all texts to the wrapped object (it batches itself); queries one by one."""
        if is_query:
            raw = [self.embeddings.embed_query(t) for t in texts]
        else:
            raw = self.embeddings.embed_documents(texts)
        vectors = np.asarray(raw, dtype=np.float32)
        return self._check(vectors, len(texts))

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        return self._encode_all(texts, is_query=is_query)


def from_langchain(embeddings: Any, name: str | None = None, **options: Any) -> LangChainAdapter:
    """Wrap a LangChain ``Embeddings`` object as a candidate model.

    Args:
        embeddings: The object (e.g. ``HuggingFaceEmbeddings(...)``, ``OpenAIEmbeddings(...)``).
        name: Its name in reports; default from its class and model name.
        **options: Options of :class:`~autoembedding.adapters.base.BaseAdapter`.

    Returns:
        The adapter.
    """
    return LangChainAdapter(embeddings, name=name, **options)
