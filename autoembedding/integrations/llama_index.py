"""LlamaIndex integration: :class:`AutoEmbedding`, a ``BaseEmbedding`` that picks its own model.

Example:
    >>> from llama_index.core import Settings
    >>> from autoembedding.integrations.llama_index import AutoEmbedding
    >>> Settings.embed_model = AutoEmbedding(model="fake/demo")
    >>> len(Settings.embed_model.get_query_embedding("hello"))
    64

Same constructor and model rules as the LangChain class (see
:mod:`autoembedding.integrations.auto`). Queries use the model's query prompt, nodes its document
prompt; LlamaIndex sends texts in batches of
``embed_batch_size``. In auto mode the whole first call to ``get_text_embedding_batch`` (e.g. all
nodes of a new ``VectorStoreIndex``) is what gets probed, not just its first batch.

"""

from __future__ import annotations

import asyncio
from typing import Any

from autoembedding.adapters import missing_extra
from autoembedding.adapters.base import validate_texts

try:
    from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("llama-index-core", "llama-index", exc) from exc

from autoembedding.integrations._fields import AutoEmbeddingFields, build_resolver

__all__ = ["AutoEmbedding"]


class AutoEmbedding(AutoEmbeddingFields, BaseEmbedding):
    """A LlamaIndex embedding model backed by the model autoembedding chose (or you pinned).

    Usable as ``Settings.embed_model`` and as ``VectorStoreIndex(..., embed_model=...)``.
    ``model_name`` shows the model in use (``"auto"`` until chosen). The fields are shared with
    the LangChain class (:class:`~autoembedding.integrations._fields.AutoEmbeddingFields`);
    batches follow LlamaIndex's ``embed_batch_size``.
    """

    def __init__(self, **data: Any) -> None:
        """Validate the fields, then pin the model, read the collection's record or wait.

        Raises:
            ModelMismatchError: If ``model`` is given and ``collection`` records another model.
            CollectionError: If ``collection`` cannot be read or probed.

        """
        super().__init__(**data)
        # Built here, not in model_post_init, so our errors are not wrapped by pydantic.
        self._resolver = build_resolver(self, batch_size=self.embed_batch_size)
        self._sync_name()

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's serialisation name."""
        return "AutoEmbedding"

    def _sync_name(self) -> None:
        adapter = self._resolver.adapter
        self.model_name = adapter.name if adapter is not None else "auto"

    # ------------------------------------------------------------------ batching entry points
    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Embed nodes' texts in batches of ``embed_batch_size`` (auto-selects on the first call).

        Raises:
            TypeError: If a text is ``None`` or not a string (names its index).

        """
        items = validate_texts(texts)
        self._resolver.adapter_for_documents(items)
        self._sync_name()
        return super().get_text_embedding_batch(items, show_progress=show_progress, **kwargs)

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False
    ) -> list[Embedding]:
        """Async :meth:`get_text_embedding_batch`."""
        items = validate_texts(texts)
        await asyncio.to_thread(self._resolver.adapter_for_documents, items)
        self._sync_name()
        return await super().aget_text_embedding_batch(items, show_progress=show_progress)

    # ------------------------------------------------------------------ BaseEmbedding hooks
    def _get_query_embedding(self, query: str) -> Embedding:
        if not isinstance(query, str):
            raise TypeError(f"Query must be a str, got {type(query).__name__}.")
        adapter = self._resolver.adapter_for_query()
        self._sync_name()
        return adapter.embed_query(query).tolist()  # type: ignore[no-any-return]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return await asyncio.to_thread(self._get_query_embedding, query)

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        items = validate_texts(texts)
        adapter = self._resolver.adapter_for_documents(items)
        self._sync_name()
        return adapter.embed_documents(items).tolist()  # type: ignore[no-any-return]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)
