"""LlamaIndex integration: :class:`AutoEmbedding`, a ``BaseEmbedding`` that picks its own model.

Example:
    >>> from llama_index.core import Settings
    >>> from autoembedding.integrations.llama_index import AutoEmbedding
    >>> Settings.embed_model = AutoEmbedding(model="fake/demo")
    >>> len(Settings.embed_model.get_query_embedding("hello"))
    64

Same constructor and model rules as the LangChain class (see :mod:`autoembedding.integrations.auto`). Queries
use the model's query prompt, nodes its document prompt; LlamaIndex sends texts in batches of
``embed_batch_size``. In auto mode the whole first call to ``get_text_embedding_batch`` (e.g. all
nodes of a new ``VectorStoreIndex``) is what gets probed, not just its first batch.

"""

from __future__ import annotations

import asyncio
from typing import Any

from autoembedding.adapters import missing_extra
from autoembedding.adapters.base import BaseAdapter, validate_texts
from autoembedding.integrations.auto import ModelChoice, ModelResolver

try:
    from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
    from pydantic import Field, PrivateAttr
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("llama-index-core", "llama-index", exc) from exc

__all__ = ["AutoEmbedding"]


class AutoEmbedding(BaseEmbedding):
    """A LlamaIndex embedding model backed by the model autoembedding chose (or you pinned).

    Usable as ``Settings.embed_model`` and as ``VectorStoreIndex(..., embed_model=...)``.
    ``model_name`` shows the model in use (``"auto"`` until chosen).
    """

    model: str | None = Field(default=None, description="Catalog id to pin; None auto-selects.")
    collection: Any = Field(
        default=None,
        description="Chroma collection the vectors live in: its recorded model is used, or it "
        "is probed.",
        exclude=True,
    )
    candidates: list[Any] | None = Field(
        default=None, description="Candidates for auto-selection: labels, Candidates or adapters."
    )
    targets: Any = Field(
        default=None, description="autoembedding.selector.Targets to meet.", exclude=True
    )
    truncate_dim: int | None = Field(default=None, description="Matryoshka truncation (pinned).")
    precision: str = Field(default="float32", description="float32, int8 or binary (pinned).")
    query_prompt: str | None = Field(default=None, description="Override the query prompt.")
    document_prompt: str | None = Field(default=None, description="Override the document prompt.")
    choice_path: str | None = Field(
        default=None, description="Where an auto-selected choice is saved."
    )
    save_choice: bool = Field(default=True, description="Save and reuse an auto-selected choice.")
    min_probe_docs: int = Field(default=50, ge=2, description="Documents needed to probe.")
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Other adapter options (device, ...)."
    )

    _resolver: ModelResolver = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        """Validate the fields, then pin the model, read the collection's record or wait.

        Raises:
            ModelMismatchError: If ``model`` is given and ``collection`` records another model.
            CollectionError: If ``collection`` cannot be read or probed.

        """
        super().__init__(**data)
        # Built here, not in model_post_init, so our errors are not wrapped by pydantic.
        self._resolver = ModelResolver.from_fields(self, batch_size=self.embed_batch_size)
        self._sync_name()

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's serialisation name."""
        return "AutoEmbedding"

    @property
    def adapter(self) -> BaseAdapter | None:
        """The adapter in use (``None`` until auto-selection has seen documents)."""
        return self._resolver.adapter

    @property
    def choice(self) -> ModelChoice | None:
        """Which model is used and why (``None`` until chosen)."""
        return self._resolver.choice

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
