"""LangChain integration: :class:`AutoEmbedding`, an ``Embeddings`` that picks its own model.

Example:
    >>> from autoembedding.integrations.langchain import AutoEmbedding
    >>> embeddings = AutoEmbedding(model="fake/demo")
    >>> len(embeddings.embed_query("hello"))
    64

``AutoEmbedding(model=...)`` pins a model. ``AutoEmbedding(collection=...)`` uses the model the
Chroma collection records, or probes it; ``AutoEmbedding()`` probes the first batch of documents
it embeds (see :mod:`autoembedding.integrations.auto` for the exact rules).

:func:`chroma_store` returns a ready ``langchain_chroma.Chroma`` with an ``AutoEmbedding`` bound
to its collection: the model is recorded in the collection on the first write, read back from it
in any process, and followed across ``autoembed swap``.

"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from autoembedding.adapters import missing_extra

try:
    from langchain_core.embeddings import Embeddings
    from pydantic import ConfigDict, Field
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("langchain-core", "langchain", exc) from exc

from autoembedding.integrations._fields import (
    AutoEmbeddingFields,
    build_resolver,
    check_model_name,
    document_texts,
    pop_model_name,
)
from autoembedding.integrations._progress import embed_documents
from autoembedding.integrations.langchain_retriever import AutoRetriever
from autoembedding.retrieval.binding import bind_collection, client_for

__all__ = ["AutoEmbedding", "AutoEmbeddings", "AutoRetriever", "chroma_store"]

#: Distance space of a collection :func:`chroma_store` creates (the models are trained for it).
_DEFAULT_CONFIGURATION: dict[str, Any] = {"hnsw": {"space": "cosine"}}


class AutoEmbedding(AutoEmbeddingFields, Embeddings):
    """A LangChain ``Embeddings`` backed by the model autoembedding chose (or you pinned).

    Documents are embedded with the model's document prompt and queries with its query prompt.
    The fields (``model``, ``collection``, ``candidates``, ``targets``, ``truncate_dim``,
    ``precision``, prompts, ``choice_path``, ``save_choice``, ``min_probe_docs``,
    ``probe_budget_s``, ``show_progress``, ``model_kwargs``) are shared with the LlamaIndex
    class (:class:`~autoembedding.integrations._fields.AutoEmbeddingFields`). An unknown field
    raises pydantic's ``ValidationError`` (as ``HuggingFaceEmbeddings`` does), naming the close
    one; a bad model id fails here, without loading weights. It pickles and deep-copies.
    ``AutoEmbeddings`` is the same class under LangChain's plural name.

    Setup example:
        .. code-block:: python

            from autoembedding.integrations.langchain import AutoEmbedding

            embeddings = AutoEmbedding(model="sentence-transformers/all-MiniLM-L6-v2")
            vector = embeddings.embed_query("What is a vaccine?")
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", protected_namespaces=())

    batch_size: int = Field(default=32, ge=1, strict=True, description="Texts per forward pass.")

    def __init__(self, **data: Any) -> None:
        """Validate the fields, then pin the model, read the collection's record or wait.

        ``model_name=`` is accepted as ``HuggingFaceEmbeddings(model_name=...)`` takes it: the
        same as ``model=`` (both given must name the same model).

        Raises:
            ValidationError: If a field is unknown or has a bad value (pydantic's).
            InvalidArgumentError: If ``model`` and ``model_name`` name different models.
            UnknownModelError: If ``model``, ``$AUTOEMBEDDING_MODEL`` or a candidate is unknown.
            ModelMismatchError: If ``model`` is given and ``collection`` records another model.
            CollectionError: If ``collection`` cannot be read or probed.

        """
        name = pop_model_name(data)
        super().__init__(**data)
        # Built here, not in model_post_init, so our errors are not wrapped by pydantic.
        self._resolver = build_resolver(self, batch_size=self.batch_size)
        check_model_name(self, name)

    @property
    def model_name(self) -> str:
        """The model in use, like ``HuggingFaceEmbeddings.model_name`` (``"auto"`` until chosen)."""
        adapter = self._resolver.adapter
        return adapter.name if adapter is not None else "auto"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents with the document prompt.

        Args:
            texts: Strings to embed.

        Returns:
            One list of floats per text.

        Raises:
            TypeError: If a text is ``None`` or not a string (names its index).
            InvalidArgumentError: If ``texts`` is a string, a dict or a set, not a list of texts.
            ModelMismatchError: If the collection records another model.

        """
        items = document_texts(texts)
        adapter = self._resolver.adapter_for_documents(items)
        vectors = embed_documents(adapter, items, self.show_progress)
        return vectors.tolist()  # type: ignore[no-any-return]

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


#: LangChain's naming (``HuggingFaceEmbeddings``, ``OpenAIEmbeddings``): the same class.
AutoEmbeddings = AutoEmbedding


def chroma_store(
    collection_name: str = "langchain",
    *,
    client: Any = None,
    persist_directory: str | os.PathLike[str] | None = None,
    host: str | None = None,
    port: int | None = None,
    model: str | None = None,
    collection_metadata: dict[str, Any] | None = None,
    collection_configuration: dict[str, Any] | None = None,
    relevance_score_fn: Callable[[float], float] | None = None,
    recheck_s: float = 1.0,
    **embedding_fields: Any,
) -> Any:
    """A ``langchain_chroma.Chroma`` with an :class:`AutoEmbedding` bound to its collection.

    Opens (or creates) the collection, binds it by name and builds the embedding with
    ``collection=`` that binding, so:

    * the collection's model record decides the model (in any process, from any directory);
      without one, ``model`` or auto-selection does, and the first write records it there;
    * every ``recheck_s`` at most, one metadata read checks the name: after ``autoembed swap``,
      queries and writes use the new collection and, unless ``model`` is pinned, its model
      (logged once); a pinned model that no longer matches raises ``ModelMismatchError``.

    Args:
        collection_name: Collection name (LangChain's default ``"langchain"``).
        client: A chromadb client; or give ``persist_directory`` or ``host``/``port``; nothing
            gives an in-memory client, like ``Chroma()``.
        persist_directory: Folder of an embedded database (created if missing).
        host: Host of a Chroma server.
        port: Its port (default 8000).
        model: Pin a catalog id (checked against the collection's record); ``None``: the
            record, else auto-selection.
        collection_metadata: Metadata of a new collection.
        collection_configuration: Chroma configuration of a new collection (default cosine
            space: ``{"hnsw": {"space": "cosine"}}``).
        relevance_score_fn: Passed to ``Chroma``.
        recheck_s: Re-check the collection's name and record at most this often (seconds).
        **embedding_fields: Other :class:`AutoEmbedding` fields (``candidates``, ``targets``,
            ``truncate_dim``, ``precision``, ``batch_size``, ``model_kwargs``, ...).

    Returns:
        A ``langchain_chroma.Chroma`` (a ``BoundChroma``; ``.embeddings`` is the
        :class:`AutoEmbedding`, ``.binding`` the collection binding).

    Raises:
        ModelMismatchError: If ``model`` is given and the collection records another model.
        CollectionError: If the location is ambiguous or the database cannot be used.
        ChromaUnavailableError: If no server answers at ``host``.
        MissingExtraError: If ``langchain-chroma`` is not installed.

    Example:
        >>> from autoembedding.integrations.langchain import chroma_store
        >>> store = chroma_store("docs-example", model="fake/demo")
        >>> _ = store.add_texts(["red apple", "blue car"], ids=["a", "b"])
        >>> store.similarity_search("apple", k=1)[0].page_content
        'red apple'
        >>> store.binding.record().model_id
        'fake/demo'
    """
    from autoembedding.integrations.langchain_store import BoundChroma

    chroma_client = client_for(client, persist_directory=persist_directory, host=host, port=port)
    binding = bind_collection(
        chroma_client,
        collection_name,
        metadata=collection_metadata,
        configuration=(
            _DEFAULT_CONFIGURATION if collection_configuration is None else collection_configuration
        ),
        recheck_s=recheck_s,
    )
    embedding = AutoEmbedding(model=model, collection=binding, **embedding_fields)
    return BoundChroma(binding=binding, embedding=embedding, relevance_score_fn=relevance_score_fn)
