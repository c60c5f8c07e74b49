"""What made a collection's vectors, stored in the collection's metadata.

Chroma only compares embedding-function *names*, so two models of the same dimension can mix
vectors silently. A :class:`ModelRecord` written into the collection metadata lets this package
refuse, before writing anything, to add or query with another model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["METADATA_PREFIX", "ModelRecord"]

#: Prefix of the collection-metadata keys this package writes.
METADATA_PREFIX = "autoembedding:"


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
    """

    model_id: str
    backend: str
    dim: int
    truncate_dim: int | None = None
    precision: str = "float32"
    query_prompt: str = ""
    document_prompt: str = ""
    normalize: bool = True

    def describe(self) -> str:
        """A short human-readable description, e.g. ``"all-MiniLM-L6-v2 (384d, float32)"``."""
        extra = f", truncate_dim={self.truncate_dim}" if self.truncate_dim else ""
        return f"{self.model_id} ({self.dim}d, {self.precision}{extra})"

    def same_vectors_as(self, other: ModelRecord) -> bool:
        """Whether vectors from ``other`` are comparable with vectors from this record."""
        return (
            self.model_id == other.model_id
            and self.dim == other.dim
            and (self.truncate_dim or self.dim) == (other.truncate_dim or other.dim)
            and self.precision == other.precision
            and self.query_prompt == other.query_prompt
            and self.document_prompt == other.document_prompt
        )

    def to_options(self) -> dict[str, Any]:
        """Keyword options that rebuild this model with ``get_adapter(model_id, **options)``."""
        return {
            "truncate_dim": self.truncate_dim,
            "precision": self.precision,
            "query_prompt": self.query_prompt,
            "document_prompt": self.document_prompt,
            "normalize": self.normalize,
        }

    def to_metadata(self) -> dict[str, str | int | bool]:
        """Flat collection-metadata entries (Chroma accepts no ``None`` values)."""
        out: dict[str, str | int | bool] = {}
        for key, value in asdict(self).items():
            if value is None:
                continue
            out[METADATA_PREFIX + key] = value
        return out

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> ModelRecord | None:
        """Read a record back from collection metadata; ``None`` if the collection has none."""
        if not metadata or METADATA_PREFIX + "model_id" not in metadata:
            return None
        get = metadata.get
        truncate = get(METADATA_PREFIX + "truncate_dim")
        return cls(
            model_id=str(get(METADATA_PREFIX + "model_id")),
            backend=str(get(METADATA_PREFIX + "backend", "")),
            dim=int(get(METADATA_PREFIX + "dim", 0)),
            truncate_dim=None if truncate is None else int(truncate),
            precision=str(get(METADATA_PREFIX + "precision", "float32")),
            query_prompt=str(get(METADATA_PREFIX + "query_prompt", "")),
            document_prompt=str(get(METADATA_PREFIX + "document_prompt", "")),
            normalize=bool(get(METADATA_PREFIX + "normalize", True)),
        )
