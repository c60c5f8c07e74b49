"""The Chroma embedding function: an autoembedding model Chroma persists with the collection.

:class:`AutoEmbeddingFunction` is a Chroma 1.x ``EmbeddingFunction``: its ``get_config()`` (the
:class:`~autoembedding.record.ModelRecord` of its vectors, plus ``batch_size``) is stored with the
collection, and Chroma rebuilds it with ``build_from_config()`` when the collection is reopened
without an embedding function. Importing this module registers it under :data:`FUNCTION_NAME`.
Users import it from :mod:`autoembedding.integrations.chroma`, which also holds the guarded
collections.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import numpy as np

from autoembedding.adapters import get_adapter, missing_extra, validate_texts
from autoembedding.adapters.base import BaseAdapter, Precision
from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.env import env_model
from autoembedding.errors import InvalidArgumentError, ModelMismatchError, UnknownModelError
from autoembedding.record import FUNCTION_MODEL_KEY, FUNCTION_NAME, VECTOR_OPTIONS, ModelRecord

try:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
    from chromadb.utils.embedding_functions import register_embedding_function
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("chromadb", "chroma", exc) from exc

__all__ = ["FUNCTION_NAME", "AutoEmbeddingFunction"]

#: The persisted config's key of the model id (``ModelRecord.model_id``).
_MODEL_KEY = FUNCTION_MODEL_KEY
#: Config keys that name the vectors' model and options: changing one would mix two models.
_RECORD_KEYS = (_MODEL_KEY, *VECTOR_OPTIONS)
#: Every config key that belongs to the record (the rest are adapter options, e.g. batch_size).
_RECORD_FIELDS = frozenset({_MODEL_KEY, *(f.name for f in fields(ModelRecord))} - {"model_id"})
#: The record's retrieval fields: carried by the function, never passed to the adapter.
_RETRIEVAL_FIELDS = ("retrieval", "tokenizer", "fusion", "fusion_weight", "rrf_k")
#: Options only the caller of this process may turn on: never persisted, refused in a config.
_CALLER_ONLY = ("trust_remote_code",)


@register_embedding_function
class AutoEmbeddingFunction(EmbeddingFunction[Documents]):
    """A Chroma embedding function backed by any autoembedding model.

    Documents are embedded with the model's document prompt, queries (``embed_query``, which
    Chroma calls for ``query_texts``) with its query prompt.

    Args:
        model: Catalog id or alias (``autoembed models`` lists them); if omitted,
            ``model_name``, else ``$AUTOEMBEDDING_MODEL``, else the offline default.
        model_name: The same as ``model``, under the name Chroma's own functions use
            (``SentenceTransformerEmbeddingFunction(model_name=...)``).
        truncate_dim: Matryoshka truncation (``None``: native dimension).
        precision: ``"float32"``, ``"int8"`` or ``"binary"``.
        query_prompt: Override the catalog's query prompt.
        document_prompt: Override the catalog's document prompt.
        normalize: L2-normalise vectors (default).
        batch_size: Texts per forward pass (not part of the vectors' identity).
        adapter: A ready adapter to use instead of building one from ``model``.
        **adapter_options: Other :func:`~autoembedding.get_adapter` options (``device``, ...);
            saved in the config only when JSON-serialisable. ``trust_remote_code=True`` applies
            to this instance only: it is never saved with the collection, so a process that
            reopens it must pass it again (a stored config asking for it is refused).

    Raises:
        UnknownModelError: If the model is unknown (at construction; no weights are loaded).
        InvalidArgumentError: If ``model`` and ``model_name`` name different models, or an
            option has a bad value.
        TypeError: If an option is unknown (as Chroma's own functions do).

    """

    def __init__(
        self,
        model: str | None = None,
        *,
        model_name: str | None = None,
        truncate_dim: int | None = None,
        precision: Precision = "float32",
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        normalize: bool = True,
        batch_size: int = 32,
        adapter: BaseAdapter | None = None,
        **adapter_options: Any,
    ) -> None:
        model = model_argument(model, model_name)
        if adapter is None:
            options: dict[str, Any] = {
                "truncate_dim": truncate_dim,
                "precision": precision,
                "normalize": normalize,
                "batch_size": batch_size,
                **adapter_options,
            }
            # Prompts left as None keep the catalog's prompts.
            if query_prompt is not None:
                options["query_prompt"] = query_prompt
            if document_prompt is not None:
                options["document_prompt"] = document_prompt
            adapter = get_adapter(model or env_model() or OFFLINE_DEFAULT, **options)
        self.adapter = adapter
        self.adapter_options = adapter_options
        #: The record's retrieval fields (mode, tokenizer, fusion), when rebuilt from a record.
        self.retrieval: dict[str, Any] = {}

    # ------------------------------------------------------------------ Chroma protocol
    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's name
        """Embed documents (with the document prompt)."""
        texts = _texts(input)
        return _rows(self.adapter.embed_documents(texts))

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's name
        """Embed queries (with the query prompt)."""
        texts = _texts(input)
        return _rows(self.adapter.embed_queries(texts))

    @staticmethod
    def name() -> str:
        """Return the registry name Chroma persists (``"autoembedding"``)."""
        return FUNCTION_NAME

    def default_space(self) -> Space:
        """Cosine: every model here is trained for it (vectors are L2-normalised)."""
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        """Spaces the vectors make sense in."""
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        """Return what Chroma stores with the collection to rebuild this function."""
        config = self.record().to_config(model_key=_MODEL_KEY)
        config["batch_size"] = self.adapter.batch_size
        for key, value in self.adapter_options.items():
            if key in _CALLER_ONLY:
                continue  # a collection must never turn remote code on for its next reader
            if isinstance(value, (str, int, float, bool)) or value is None:
                config[key] = value
        return config

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> AutoEmbeddingFunction:
        """Rebuild the function Chroma persisted: its record (every field) and adapter options.

        Raises:
            ModelMismatchError: If this version of the catalog builds another dimension for
                the recorded model.
            InvalidArgumentError: If the config asks for ``trust_remote_code`` (a stored config
                never turns remote code on; the caller passes it, per call).
        """
        refuse_caller_only(config)
        record = ModelRecord.from_config(config, model_key=_MODEL_KEY)
        # Vector options are passed on as persisted: one left out keeps the catalog's value.
        vector = {k: config[k] for k in VECTOR_OPTIONS if k in config}
        extras = {
            k: v for k, v in config.items() if k not in _RECORD_FIELDS and k not in _CALLER_ONLY
        }
        return AutoEmbeddingFunction.from_record(record, vector_options=vector, **extras)

    @classmethod
    def from_record(
        cls,
        record: ModelRecord,
        *,
        vector_options: dict[str, Any] | None = None,
        **adapter_options: Any,
    ) -> AutoEmbeddingFunction:
        """The function that makes ``record``'s vectors and carries every field of it.

        The model is built with the record's backend and (for a model whose dimension is an
        option, e.g. ``fake/*``) its dimension; the retrieval fields are kept on the function,
        so ``from_record(r).record() == r`` whenever this catalog still builds that model.

        Args:
            record: The model record (e.g. :func:`~autoembedding.chroma.records.read_record`).
            vector_options: The vector options to build with (default: all of the record's;
                one left out keeps the catalog's value).
            **adapter_options: Other adapter options (``batch_size``, ``device``, ...).

        Raises:
            ModelMismatchError: If the model now builds vectors of another dimension.
            UnknownModelError: If the model is unknown (and no backend is recorded).
        """
        options = dict(record.to_options() if vector_options is None else vector_options)
        adapter = _adapter_for(record, {**adapter_options, **options})
        if record.dim and adapter.spec.dim and record.dim != adapter.dim:
            raise ModelMismatchError(
                f"The collection was made with {record.model_id} at {record.dim} dims, but it now "
                f"builds {adapter.dim}-d vectors; check the catalog/version of autoembedding."
            )
        function = cls(adapter=adapter, **adapter_options)
        function.retrieval = {
            k: getattr(record, k) for k in _RETRIEVAL_FIELDS if k in record.to_config()
        }
        return function

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Check a persisted config names a model."""
        if not config.get(_MODEL_KEY):
            raise ValueError("autoembedding function config has no 'model'.")

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        """Refuse config updates that would change the vectors of an existing collection."""
        changed = [
            k for k in _RECORD_KEYS if k in new_config and new_config[k] != old_config.get(k)
        ]
        if changed:
            raise ModelMismatchError(
                f"Changing {changed} of a collection's embedding function would mix vectors of "
                "two models. Migrate instead: autoembed swap --collection <name> --model <id>."
            )

    # ------------------------------------------------------------------ ours
    def record(self) -> ModelRecord:
        """Return the record of the vectors this function makes (with its retrieval fields)."""
        record = self.adapter.record()
        return replace(record, **self.retrieval) if self.retrieval else record

    def __repr__(self) -> str:
        return f"AutoEmbeddingFunction({self.adapter.name!r})"


def refuse_caller_only(config: dict[str, Any], *, where: str = "The collection's stored") -> None:
    """Refuse a stored config that asks for an option only this process's caller may set.

    Raises:
        InvalidArgumentError: If ``config`` sets ``trust_remote_code`` to anything truthy.
    """
    for key in _CALLER_ONLY:
        if config.get(key):
            model = config.get(_MODEL_KEY, "?")
            raise InvalidArgumentError(
                f"{where} embedding-function config asks for {key}={config[key]!r} (model "
                f"{model!r}). A stored config never turns remote code on: anyone who can write "
                "the database could make this process run a hub repository's code. If you "
                "trust that model's code, pass it yourself for this process, e.g. "
                f"AutoEmbeddingFunction({model!r}, {key}=True) as embedding_function=, or "
                f"get_or_create_collection(client, name, model={model!r}, {key}=True); and "
                f"remove the {key!r} key from the stored config.",
                argument=key,
            )


def model_argument(model: str | None, model_name: str | None) -> str | None:
    """``model``, or its alias ``model_name``; both given must agree."""
    if model_name is None:
        return model
    if model is not None and model != model_name:
        raise InvalidArgumentError(
            f"model={model!r} and model_name={model_name!r} name different models; pass one.",
            argument="model_name",
        )
    return model_name


def _adapter_for(record: ModelRecord, options: dict[str, Any]) -> BaseAdapter:
    """The adapter of ``record``: its model, backend and (when an option) native dimension."""
    backend = record.backend or None
    try:
        adapter = get_adapter(record.model_id, **options)
    except UnknownModelError:
        if backend is None:
            raise
        # Not in the catalog: a model name served by the recorded backend (its dim an option).
        native = {} if record.truncate_dim or not record.dim else {"dim": record.dim}
        return get_adapter(record.model_id, backend=backend, **native, **options)
    if backend is not None and adapter.spec.backend != backend:
        adapter = get_adapter(record.model_id, backend=backend, **options)
    if record.dim and adapter.spec.dim and adapter.dim != record.dim and not record.truncate_dim:
        try:  # a model whose dimension is an option (the fake one): build that dimension
            adapter = get_adapter(record.model_id, backend=backend, dim=record.dim, **options)
        except (TypeError, InvalidArgumentError):
            pass  # a fixed dimension: the caller reports the mismatch
    return adapter


def _texts(input: Any) -> list[str]:  # noqa: A002
    if isinstance(input, str):
        return [input]
    return validate_texts(input)


def _rows(vectors: np.ndarray) -> Embeddings:
    return [np.asarray(row, dtype=np.float32) for row in vectors]
