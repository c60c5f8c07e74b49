"""LangChain integration: :class:`AutoEmbedding`, an ``Embeddings`` that picks its own model.

Example:
    >>> from autoembedding.integrations.langchain import AutoEmbedding
    >>> embeddings = AutoEmbedding(model="fake/demo")
    >>> len(embeddings.embed_query("hello"))
    64

``AutoEmbedding(model=...)`` pins a model. ``AutoEmbedding(collection=...)`` uses the model the
Chroma collection records, or probes it; ``AutoEmbedding()`` probes the first batch of documents
it embeds (see :mod:`autoembedding.integrations.auto` for the exact rules).

"""

from __future__ import annotations

import asyncio
from typing import Any

from autoembedding.adapters import missing_extra
from autoembedding.adapters.base import validate_texts

try:
    from langchain_core.embeddings import Embeddings
    from pydantic import ConfigDict, Field
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("langchain-core", "langchain", exc) from exc

from autoembedding.integrations._fields import AutoEmbeddingFields, build_resolver

__all__ = ["AutoEmbedding"]


class AutoEmbedding(AutoEmbeddingFields, Embeddings):
    """A LangChain ``Embeddings`` backed by the model autoembedding chose (or you pinned).

    Documents are embedded with the model's document prompt and queries with its query prompt.
    The fields (``model``, ``collection``, ``candidates``, ``targets``, ``truncate_dim``,
    ``precision``, prompts, ``choice_path``, ``save_choice``, ``min_probe_docs``,
    ``model_kwargs``) are shared with the LlamaIndex class
    (:class:`~autoembedding.integrations._fields.AutoEmbeddingFields`).

    Setup example:
        .. code-block:: python

            from autoembedding.integrations.langchain import AutoEmbedding

            embeddings = AutoEmbedding(model="sentence-transformers/all-MiniLM-L6-v2")
            vector = embeddings.embed_query("What is a vaccine?")
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", protected_namespaces=())

    batch_size: int = Field(default=32, description="Texts per forward pass.")

    def __init__(self, **data: Any) -> None:
        """Validate the fields, then pin the model, read the collection's record or wait.

        Raises:
            ModelMismatchError: If ``model`` is given and ``collection`` records another model.
            CollectionError: If ``collection`` cannot be read or probed.

        """
        super().__init__(**data)
        # Built here, not in model_post_init, so our errors are not wrapped by pydantic.
        self._resolver = build_resolver(self, batch_size=self.batch_size)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents with the document prompt.

        Args:
            texts: Strings to embed.

        Returns:
            One list of floats per text.

        Raises:
            TypeError: If a text is ``None`` or not a string (names its index).
            ModelMismatchError: If the collection records another model.

        """
        items = validate_texts(texts)
        adapter = self._resolver.adapter_for_documents(items)
        return adapter.embed_documents(items).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        """Embed a query with the query prompt.

        Raises:
            TypeError: If ``text`` is not a string.

        """
        if not isinstance(text, str):
            raise TypeError(f"embed_query() takes a str, got {type(text).__name__}.")
        adapter = self._resolver.adapter_for_query()
        return adapter.embed_query(text).tolist()  # type: ignore[no-any-return]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` (runs in a worker thread; the model is CPU/GPU bound)."""
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query` (runs in a worker thread)."""
        return await asyncio.to_thread(self.embed_query, text)
