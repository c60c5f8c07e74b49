"""The fields the LangChain and LlamaIndex ``AutoEmbedding`` classes share, and their resolver.

Both classes inherit :class:`AutoEmbeddingFields` (a pydantic model) next to their framework's
base class, so they take the same arguments with the same defaults and checks, and both build
their :class:`~autoembedding.integrations.auto.ModelResolver` with :func:`build_resolver`. Only the
batching field differs: LangChain's ``batch_size``, LlamaIndex's own ``embed_batch_size``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from autoembedding.adapters.base import BaseAdapter
from autoembedding.integrations.auto import ModelChoice, ModelResolver

__all__ = ["AutoEmbeddingFields", "build_resolver"]


class AutoEmbeddingFields(BaseModel):
    """The constructor fields of every framework ``AutoEmbedding`` (see their classes)."""

    # ``model`` and ``model_kwargs`` are our names, not pydantic's protected ``model_`` ones.
    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    model: str | None = Field(
        default=None,
        description="Catalog id to pin (`autoembed models` lists them); None to auto-select.",
    )
    collection: Any = Field(
        default=None,
        description="A Chroma collection the vectors live in (its recorded model is used, or it "
        "is probed), or a CollectionBinding from autoembedding.integrations.stores (followed "
        "by name across swaps; what the store helpers pass).",
        exclude=True,
    )
    candidates: list[Any] | None = Field(
        default=None,
        description='Auto-selection candidates: labels "id[@dim][:precision]", Candidates or '
        "adapters.",
    )
    targets: Any = Field(
        default=None,
        description="An autoembedding.selector.Targets that auto-selection must meet.",
        exclude=True,
    )
    truncate_dim: int | None = Field(
        default=None,
        description="Matryoshka truncation for a pinned model (None: native dimension).",
    )
    precision: str = Field(
        default="float32", description='"float32", "int8" or "binary", for a pinned model.'
    )
    query_prompt: str | None = Field(
        default=None, description="Override the catalog's query prompt of a pinned model."
    )
    document_prompt: str | None = Field(
        default=None, description="Override the catalog's document prompt of a pinned model."
    )
    choice_path: str | None = Field(
        default=None,
        description="Where an auto-selected choice is saved (default "
        "./.autoembedding/choice.json).",
    )
    save_choice: bool = Field(
        default=True, description="Save an auto-selected choice and reuse it on restart."
    )
    min_probe_docs: int = Field(
        default=50,
        ge=2,
        description="The first batch of documents is probed only if it has at least this many.",
    )
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Other adapter options (device, max_seq_length, base_url, ...).",
    )

    _resolver: ModelResolver = PrivateAttr()

    @property
    def adapter(self) -> BaseAdapter | None:
        """The adapter in use (``None`` until auto-selection has seen documents)."""
        return self._resolver.adapter

    @property
    def choice(self) -> ModelChoice | None:
        """Which model is used and why (``None`` until chosen)."""
        return self._resolver.choice


def build_resolver(fields: AutoEmbeddingFields, *, batch_size: int) -> ModelResolver:
    """The resolver an ``AutoEmbedding`` with these fields uses.

    Options that change the vectors (``truncate_dim``, ``precision``, prompts) apply only to a
    pinned ``model``; prompts left as ``None`` keep the catalog's.

    Args:
        fields: The validated fields.
        batch_size: Texts per forward pass (the framework's batching field).

    Returns:
        A :class:`~autoembedding.integrations.auto.ModelResolver`.

    Raises:
        ModelMismatchError: If ``model`` is pinned and ``collection`` records another model.
        CollectionError: If ``collection`` cannot be read or probed.
    """
    options: dict[str, Any] = {"batch_size": batch_size, **fields.model_kwargs}
    if fields.model is not None:
        options.update(truncate_dim=fields.truncate_dim, precision=fields.precision)
        if fields.query_prompt is not None:
            options["query_prompt"] = fields.query_prompt
        if fields.document_prompt is not None:
            options["document_prompt"] = fields.document_prompt
    return ModelResolver(
        fields.model,
        collection=fields.collection,
        candidates=fields.candidates,
        targets=fields.targets,
        choice_path=fields.choice_path,
        save=fields.save_choice,
        min_probe_docs=fields.min_probe_docs,
        adapter_options=options,
    )
