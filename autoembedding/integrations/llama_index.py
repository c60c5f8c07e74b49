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

:func:`chroma_vector_store` returns a ``ChromaVectorStore`` and an :class:`AutoEmbedding` bound to
the same collection: the model is recorded in the collection on the first write, read back from
it in any process, and followed across ``autoembed swap``.

"""

from __future__ import annotations

import asyncio
import os
from typing import Any, NamedTuple

from autoembedding.adapters import missing_extra

try:
    from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
    from llama_index.core.constants import DEFAULT_EMBED_BATCH_SIZE
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("llama-index-core", "llama-index", exc) from exc

from pydantic import ConfigDict, Field

from autoembedding.errors import InvalidArgumentError, MissingExtraError
from autoembedding.integrations._fields import (
    AutoEmbeddingFields,
    build_resolver,
    check_model_name,
    document_texts,
    pop_model_name,
    unknown_fields_message,
)
from autoembedding.integrations.llama_index_retriever import AutoRetriever
from autoembedding.retrieval.binding import bind_collection, client_for

__all__ = ["AutoEmbedding", "AutoRetriever", "BoundVectorStore", "chroma_vector_store"]

#: Distance space of a collection :func:`chroma_vector_store` creates.
_DEFAULT_CONFIGURATION: dict[str, Any] = {"hnsw": {"space": "cosine"}}


class AutoEmbedding(AutoEmbeddingFields, BaseEmbedding):
    """A LlamaIndex embedding model backed by the model autoembedding chose (or you pinned).

    Usable as ``Settings.embed_model`` and as ``VectorStoreIndex(..., embed_model=...)``.
    ``model_name=`` pins a model as ``HuggingFaceEmbedding(model_name=...)`` does (the same as
    ``model=``); afterwards ``model_name`` shows the model in use (``"auto"`` until chosen).
    The fields are shared with the LangChain class
    (:class:`~autoembedding.integrations._fields.AutoEmbeddingFields`); batches follow
    LlamaIndex's ``embed_batch_size``. An unknown field raises ``TypeError`` (as
    ``HuggingFaceEmbedding`` does), naming the close one; a bad model id fails here, without
    loading weights. It pickles and deep-copies.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", protected_namespaces=())

    # LlamaIndex's field, made strict (its lax int would take True as a batch of 1).
    embed_batch_size: int = Field(
        default=DEFAULT_EMBED_BATCH_SIZE,
        description="The batch size for embedding calls.",
        gt=0,
        le=2048,
        strict=True,
    )

    def __init__(self, **data: Any) -> None:
        """Validate the fields, then pin the model, read the collection's record or wait.

        Raises:
            InvalidArgumentError: If a field is unknown (a ``TypeError``, and a ``ValueError``),
                or ``model`` and ``model_name`` name different models.
            ValidationError: If a field has a bad value (pydantic's).
            UnknownModelError: If ``model``, ``$AUTOEMBEDDING_MODEL`` or a candidate is unknown.
            ModelMismatchError: If ``model`` is given and ``collection`` records another model.
            CollectionError: If ``collection`` cannot be read or probed.

        """
        message = unknown_fields_message(type(self), data)
        if message is not None:
            raise InvalidArgumentError(message)
        # "auto"/"unknown": what model_name shows before a choice (to_dict saves it).
        name = pop_model_name(data, placeholders=("auto", "unknown"))
        super().__init__(**data)
        # Built here, not in model_post_init, so our errors are not wrapped by pydantic.
        self._resolver = build_resolver(self, batch_size=self.embed_batch_size)
        check_model_name(self, name)
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

        ``show_progress`` (or the field ``show_progress=True``) shows LlamaIndex's own bar.

        Raises:
            TypeError: If a text is ``None`` or not a string (names its index).

        """
        items = document_texts(texts, method="get_text_embedding_batch")
        self._resolver.adapter_for_documents(items)
        self._sync_name()
        show = show_progress or self.show_progress is True
        return super().get_text_embedding_batch(items, show_progress=show, **kwargs)

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False
    ) -> list[Embedding]:
        """Async :meth:`get_text_embedding_batch`."""
        items = document_texts(texts, method="aget_text_embedding_batch")
        await asyncio.to_thread(self._resolver.adapter_for_documents, items)
        self._sync_name()
        show = show_progress or self.show_progress is True
        return await super().aget_text_embedding_batch(items, show_progress=show)

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
        items = document_texts(texts, method="get_text_embeddings")
        adapter = self._resolver.adapter_for_documents(items)
        self._sync_name()
        return adapter.embed_documents(items).tolist()  # type: ignore[no-any-return]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)


class BoundVectorStore(NamedTuple):
    """What :func:`chroma_vector_store` returns (unpacks as ``vector_store, embed_model``)."""

    #: A ``ChromaVectorStore`` acting on the collection that holds the name now, serving the
    #: retrieval mode it records (:class:`~.llama_index_store.BoundChromaVectorStore`).
    vector_store: Any
    #: The :class:`AutoEmbedding` bound to the same collection.
    embed_model: AutoEmbedding


def chroma_vector_store(
    collection_name: str,
    *,
    client: Any = None,
    persist_dir: str | os.PathLike[str] | None = None,
    host: str | None = None,
    port: int | None = None,
    model: str | None = None,
    collection_metadata: dict[str, Any] | None = None,
    collection_configuration: dict[str, Any] | None = None,
    recheck_s: float = 1.0,
    **embedding_fields: Any,
) -> BoundVectorStore:
    """A ``ChromaVectorStore`` and an :class:`AutoEmbedding` bound to the same collection.

    Use both together (``StorageContext.from_defaults(vector_store=...)`` and
    ``embed_model=...``, or ``Settings.embed_model``). Then:

    * the collection's model record decides the model (in any process, from any directory);
      without one, ``model`` or auto-selection does, and the first write records it there;
    * every ``recheck_s`` at most, one metadata read checks the name: after ``autoembed swap``,
      the store acts on the new collection and the embedding, unless ``model`` is pinned, uses
      its model (logged once); a pinned model that no longer matches raises
      ``ModelMismatchError``.

    Args:
        collection_name: Collection name.
        client: A chromadb client; or give ``persist_dir`` or ``host``/``port``; nothing gives
            an in-memory client.
        persist_dir: Folder of an embedded database (created if missing).
        host: Host of a Chroma server.
        port: Its port (default 8000).
        model: Pin a catalog id (checked against the collection's record); ``None``: the
            record, else auto-selection.
        collection_metadata: Metadata of a new collection.
        collection_configuration: Chroma configuration of a new collection (default cosine
            space).
        recheck_s: Re-check the collection's name and record at most this often (seconds).
        **embedding_fields: Other :class:`AutoEmbedding` fields (``candidates``, ``targets``,
            ``embed_batch_size``, ``model_kwargs``, ...).

    Returns:
        A :class:`BoundVectorStore` ``(vector_store, embed_model)``.

    Raises:
        ModelMismatchError: If ``model`` is given and the collection records another model.
        CollectionError: If the location is ambiguous or the database cannot be used.
        ChromaUnavailableError: If no server answers at ``host``.
        MissingExtraError: If ``llama-index-vector-stores-chroma`` is not installed.

    Example:
        >>> from llama_index.core import Document, StorageContext, VectorStoreIndex
        >>> from autoembedding.integrations.llama_index import chroma_vector_store
        >>> store, embed = chroma_vector_store("docs-llama-example", model="fake/demo")
        >>> index = VectorStoreIndex.from_documents(
        ...     [Document(text="red apple"), Document(text="blue car")],
        ...     storage_context=StorageContext.from_defaults(vector_store=store),
        ...     embed_model=embed,
        ... )
        >>> index.as_retriever(similarity_top_k=1).retrieve("apple")[0].text
        'red apple'
    """
    try:
        from autoembedding.integrations.llama_index_store import BoundChromaVectorStore
    except ImportError as exc:  # pragma: no cover - exercised only without the package
        raise MissingExtraError(
            "llama-index-vector-stores-chroma is not installed; chroma_vector_store() needs "
            f"it: pip install 'autoembedding[llama-index,chroma]' "
            f"llama-index-vector-stores-chroma ({exc})"
        ) from exc
    chroma_client = client_for(client, persist_directory=persist_dir, host=host, port=port)
    binding = bind_collection(
        chroma_client,
        collection_name,
        metadata=collection_metadata,
        configuration=(
            _DEFAULT_CONFIGURATION if collection_configuration is None else collection_configuration
        ),
        recheck_s=recheck_s,
    )
    embed_model = AutoEmbedding(model=model, collection=binding, **embedding_fields)
    vector_store = BoundChromaVectorStore(
        binding=binding,
        collection_name=collection_name,
        persist_dir=None if persist_dir is None else str(persist_dir),
        host=host,
        port=port,
    )
    return BoundVectorStore(vector_store, embed_model)
