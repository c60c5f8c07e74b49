"""The static-embedding backend: model2vec ``StaticModel`` (token vectors averaged, no transformer).

Static models embed thousands of texts a second on one CPU core; they load from a local folder
(``save_pretrained`` layout) or a hub id. There is no offline catalog copy of one, so catalog use
needs the hub; a local folder always works.

Example:
    >>> from autoembedding import get_adapter
    >>> static = get_adapter("/path/to/my-model2vec-folder")   # doctest: +SKIP
    >>> static.embed_documents(["red apple"]).shape             # doctest: +SKIP
    (1, 256)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autoembedding.adapters.base import BaseAdapter
from autoembedding.adapters.sentence_transformers import weights_location
from autoembedding.catalog import ModelSpec
from autoembedding.errors import BackendError

__all__ = ["StaticAdapter"]


class StaticAdapter(BaseAdapter):
    """Embeds with a ``model2vec.StaticModel``.

    Args:
        spec: A catalog spec, or an ad-hoc one whose ``hub_id`` is a local folder or hub id.
        max_tokens: Tokens kept per text; default the spec's ``max_tokens``. Longer texts are
            truncated with a :class:`~autoembedding.adapters.base.TruncationWarning`.
        **common: Options of :class:`~autoembedding.adapters.base.BaseAdapter`.
    """

    def __init__(self, spec: ModelSpec, *, max_tokens: int | None = None, **common: Any) -> None:
        super().__init__(spec, **common)
        self.max_tokens = max_tokens or spec.max_tokens
        self._model: Any = None

    def _load(self) -> None:
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            from autoembedding.adapters import missing_extra

            raise missing_extra("model2vec", "static", exc) from exc
        location = weights_location(self.spec)
        try:
            model = StaticModel.from_pretrained(str(location), force_download=False)
        except (OSError, ValueError) as exc:
            raise BackendError(
                f"model2vec could not load {self.spec.id} from {location}: {exc}. Pass a folder "
                "written by StaticModel.save_pretrained() or a model2vec hub id."
            ) from exc
        if not self.spec.dim:
            self._discovered_dim = int(model.dim)
        elif model.dim != self.spec.dim:
            raise BackendError(
                f"{location} gives {model.dim}-dim vectors, the catalog says {self.spec.dim}."
            )
        self._model = model

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        long_texts = [t for t in texts if len(t.encode("utf-8")) > self.max_tokens // 2]
        if long_texts:
            tokens = self._model.tokenize(long_texts)
            self._add_truncated(sum(1 for ids in tokens if len(ids) > self.max_tokens))
        vectors = self._model.encode(
            texts, max_length=self.max_tokens, normalize=False, use_multiprocessing=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
