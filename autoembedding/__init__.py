"""autoembedding: pick the embedding model that retrieves best on *your* documents.

Importing this package is cheap: torch, onnxruntime, chromadb and the frameworks are imported only
by the modules that need them.

Example:
    >>> import autoembedding
    >>> adapter = autoembedding.get_adapter("fake/demo")
    >>> adapter.embed_query("hello").shape
    (64,)
"""

from __future__ import annotations

from autoembedding._version import __version__
from autoembedding.adapters import BaseAdapter, EmbeddingAdapter, get_adapter
from autoembedding.adapters.fake import FakeAdapter
from autoembedding.catalog import CATALOG, OFFLINE_DEFAULT, ModelSpec, get_spec, iter_specs
from autoembedding.errors import (
    AutoEmbeddingError,
    BackendError,
    CollectionError,
    InvalidArgumentError,
    MissingExtraError,
    ModelMismatchError,
    NoCandidateError,
    OfflineWeightsError,
    UnknownModelError,
    WeightsIntegrityError,
)
from autoembedding.record import ModelRecord

__all__ = [
    "CATALOG",
    "OFFLINE_DEFAULT",
    "AutoEmbeddingError",
    "BackendError",
    "BaseAdapter",
    "CollectionError",
    "EmbeddingAdapter",
    "FakeAdapter",
    "InvalidArgumentError",
    "MissingExtraError",
    "ModelMismatchError",
    "ModelRecord",
    "ModelSpec",
    "NoCandidateError",
    "OfflineWeightsError",
    "UnknownModelError",
    "WeightsIntegrityError",
    "__version__",
    "get_adapter",
    "get_spec",
    "iter_specs",
]
