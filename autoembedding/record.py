"""What made a collection's vectors: the model record, kept in the collection.

Chroma only compares embedding-function *names*, so two models of the same dimension can mix
vectors silently. A :class:`ModelRecord` kept in the collection lets this package refuse, before
writing anything, to add or query with another model. Chroma keeps it in two places, both read by
:func:`autoembedding.chroma.records.read_record`: the collection metadata (``autoembedding:*``
keys, :meth:`ModelRecord.to_metadata`) and the persisted configuration of an
``AutoEmbeddingFunction`` (``name`` :data:`FUNCTION_NAME`, its config written by
:meth:`ModelRecord.to_config` with the model id under :data:`FUNCTION_MODEL_KEY`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

__all__ = [
    "FUNCTION_MODEL_KEY",
    "FUNCTION_NAME",
    "FUSION_METHODS",
    "METADATA_PREFIX",
    "ModelRecord",
    "PRECISIONS",
    "Precision",
    "RETRIEVAL_MODES",
    "VECTOR_OPTIONS",
]

#: How vectors are stored: float32, int8 codes, or the sign bit (the record's ``precision``).
Precision = Literal["float32", "int8", "binary"]
#: Every :data:`Precision`, in that order.
PRECISIONS: tuple[str, ...] = ("float32", "int8", "binary")

#: Prefix of the collection-metadata keys this package writes.
METADATA_PREFIX = "autoembedding:"
#: The name Chroma persists for an ``AutoEmbeddingFunction`` (and looks it up by).
FUNCTION_NAME = "autoembedding"
#: The key of the model id in the function's persisted config (it has always been ``"model"``).
FUNCTION_MODEL_KEY = "model"

#: The adapter options that change the vectors, so belong to a record and are compared, stored
#: and rebuilt with it (every other adapter option, e.g. ``batch_size`` or ``device``, does not).
VECTOR_OPTIONS: tuple[str, ...] = (
    "truncate_dim",
    "precision",
    "query_prompt",
    "document_prompt",
    "normalize",
)

#: How a collection is searched (the record's ``retrieval``): its vectors, a BM25 index over its
#: documents, or both fused. Vectors are kept in every mode (Chroma stores one per record).
RETRIEVAL_MODES: tuple[str, ...] = ("dense", "lexical", "hybrid")
#: How a hybrid fuses its two rankings (the record's ``fusion``).
FUSION_METHODS: tuple[str, ...] = ("convex", "rrf")
#: The retrieval fields, written only when they differ from their defaults (so a dense record's
#: metadata and function config are what they were before retrieval modes existed).
_RETRIEVAL_DEFAULTS: dict[str, Any] = {
    "retrieval": "dense",
    "tokenizer": "",
    "fusion": "",
    "fusion_weight": None,
    "rrf_k": 60,
}


@dataclass(frozen=True)
class ModelRecord:
    """The model and options that produced a set of vectors.

    Attributes:
        model_id: Catalog id or path of the model.
        backend: Adapter backend name.
        dim: Dimension of the stored vectors.
        truncate_dim: Matryoshka truncation, or ``None``.
        precision: ``"float32"``, ``"int8"`` or ``"binary"``.
        query_prompt: Prompt prepended to queries.
        document_prompt: Prompt prepended to documents.
        normalize: Whether vectors are L2-normalised.
        retrieval: How the collection is searched, one of :data:`RETRIEVAL_MODES`: ``"dense"``
            (its vectors), ``"lexical"`` (a BM25 index over its documents; the vectors are
            still written with this model) or ``"hybrid"`` (both, fused).
        tokenizer: The BM25 tokenizer's spec (``Tokenizer(spec)`` rebuilds it), e.g. ``"en"``
            or ``"zh"``; empty in dense mode.
        fusion: For a hybrid, one of :data:`FUSION_METHODS`; empty otherwise.
        fusion_weight: For a convex hybrid, the dense weight ``w`` in ``[0, 1]``.
        rrf_k: For an RRF hybrid, the rank constant.
    """

    model_id: str
    backend: str
    dim: int
    truncate_dim: int | None = None
    precision: str = "float32"
    query_prompt: str = ""
    document_prompt: str = ""
    normalize: bool = True
    retrieval: str = "dense"
    tokenizer: str = ""
    fusion: str = ""
    fusion_weight: float | None = None
    rrf_k: int = 60

    def describe(self) -> str:
        """A short human-readable description, e.g. ``"all-MiniLM-L6-v2 (384d, float32)"``."""
        extra = f", truncate_dim={self.truncate_dim}" if self.truncate_dim else ""
        text = f"{self.model_id} ({self.dim}d, {self.precision}{extra})"
        if self.retrieval == "lexical":
            return f"bm25 ({self.tokenizer or 'und'} tokens) over vectors of {text}"
        if self.retrieval == "hybrid":
            how = (
                f"convex w={self.fusion_weight:g}"
                if self.fusion == "convex" and self.fusion_weight is not None
                else f"rrf k={self.rrf_k}"
            )
            return f"hybrid of {text} and bm25 ({self.tokenizer or 'und'} tokens, {how})"
        return text

    def with_retrieval(
        self,
        retrieval: str,
        *,
        tokenizer: str = "",
        fusion: str = "",
        fusion_weight: float | None = None,
        rrf_k: int = 60,
    ) -> ModelRecord:
        """This record with another retrieval mode (the vector fields are kept).

        Raises:
            ValueError: If a mode or fusion is unknown, or a weight outside ``[0, 1]``.
        """
        if retrieval not in RETRIEVAL_MODES:
            raise ValueError(f"retrieval must be one of {RETRIEVAL_MODES}, got {retrieval!r}.")
        if retrieval != "hybrid":
            fusion, fusion_weight, rrf_k = "", None, 60
        elif fusion not in FUSION_METHODS:
            raise ValueError(f"fusion must be one of {FUSION_METHODS}, got {fusion!r}.")
        if fusion_weight is not None and not 0.0 <= fusion_weight <= 1.0:
            raise ValueError(f"fusion_weight must be in [0, 1], got {fusion_weight}.")
        return replace(
            self,
            retrieval=retrieval,
            tokenizer=tokenizer if retrieval != "dense" else "",
            fusion=fusion,
            fusion_weight=fusion_weight,
            rrf_k=int(rrf_k),
        )

    def same_vectors_as(self, other: ModelRecord) -> bool:
        """Whether vectors from ``other`` are comparable with vectors from this record.

        A ``dim`` of 0 means unknown (a record written without it) and matches any dimension.
        """
        return (
            self.model_id == other.model_id
            and (not self.dim or not other.dim or self.dim == other.dim)
            and (self.truncate_dim or self.dim) == (other.truncate_dim or other.dim)
            and self.precision == other.precision
            and self.query_prompt == other.query_prompt
            and self.document_prompt == other.document_prompt
        )

    def to_options(self) -> dict[str, Any]:
        """Keyword options that rebuild this model with ``get_adapter(model_id, **options)``."""
        return {key: getattr(self, key) for key in VECTOR_OPTIONS}

    def to_config(self, *, model_key: str = "model_id") -> dict[str, Any]:
        """Every field as a JSON-ready dict (what :meth:`from_config` reads back).

        Args:
            model_key: The key the model id is written under (the Chroma function's persisted
                config has always called it ``"model"``).
        """
        config = asdict(self)
        for key, default in _RETRIEVAL_DEFAULTS.items():
            if config[key] == default:
                del config[key]
        return {model_key: config.pop("model_id"), **config}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, model_key: str = "model_id") -> ModelRecord:
        """Read a record from a dict written by :meth:`to_config` (missing options: defaults).

        Raises:
            KeyError: If ``config`` has no model id under ``model_key``.
            ValueError: If a value has the wrong type (e.g. a ``dim`` that is not a number).
        """
        get = config.get
        truncate = get("truncate_dim")
        weight = get("fusion_weight")
        return cls(
            model_id=str(config[model_key]),
            backend=str(get("backend") or ""),
            dim=int(get("dim") or 0),
            truncate_dim=None if truncate is None else int(truncate),
            precision=str(get("precision") or "float32"),
            query_prompt=str(get("query_prompt") or ""),
            document_prompt=str(get("document_prompt") or ""),
            normalize=bool(get("normalize", True)),
            retrieval=str(get("retrieval") or "dense"),
            tokenizer=str(get("tokenizer") or ""),
            fusion=str(get("fusion") or ""),
            fusion_weight=None if weight is None else float(weight),
            rrf_k=int(get("rrf_k") or 60),
        )

    def to_metadata(self) -> dict[str, str | int | bool]:
        """Flat collection-metadata entries (Chroma accepts no ``None`` values)."""
        return {
            METADATA_PREFIX + key: value
            for key, value in self.to_config().items()
            if value is not None
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> ModelRecord | None:
        """Read a record back from collection metadata; ``None`` if the collection has none."""
        config = {
            key[len(METADATA_PREFIX) :]: value
            for key, value in (metadata or {}).items()
            if key.startswith(METADATA_PREFIX)
        }
        return cls.from_config(config) if "model_id" in config else None
