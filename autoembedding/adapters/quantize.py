"""Vector post-processing shared by every adapter and the probe: L2 norm, Matryoshka, int8, binary.

Each step is a plain function of arrays, so :class:`~autoembedding.adapters.base.BaseAdapter` and
the probe (which derives many variants from one encoding) compute the same bits:

* :func:`truncate` keeps the first ``dim`` components (Matryoshka); :func:`matryoshka` also
  re-normalises them.
* :func:`calibrate_int8` gives per-dimension ``(low, high)`` ranges of unit vectors, as
  sentence-transformers' ``quantize_embeddings`` calibrates them; :func:`quantize_int8` maps each
  component to an integer code in ``-128..127`` with those ranges.
* :func:`quantize_binary` keeps the sign, as ``+1``/``-1``.
* :func:`postprocess` chains them as an adapter's options say.

Example:
    >>> raw = np.array([[3.0, 4.0, 0.0], [1.0, -1.0, 2.0]], dtype=np.float32)
    >>> quantize_binary(raw).tolist()
    [[1.0, 1.0, -1.0], [1.0, -1.0, 1.0]]
    >>> matryoshka(raw, 2)[0].tolist()
    [0.6000000238418579, 0.800000011920929]
"""

from __future__ import annotations

import numpy as np

from autoembedding.record import PRECISIONS, Precision

__all__ = [
    "PRECISIONS",
    "Int8Ranges",
    "Precision",
    "calibrate_int8",
    "l2_normalize",
    "matryoshka",
    "postprocess",
    "quantize_binary",
    "quantize_int8",
    "truncate",
]


#: Per-dimension ``(low, high)`` of calibration vectors, each of shape ``(dim,)``.
Int8Ranges = tuple[np.ndarray, np.ndarray]


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32.

    Example:
        >>> l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


def truncate(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    """The first ``dim`` components of each row (Matryoshka); all of them when ``dim`` is falsy.

    Args:
        vectors: ``(n, d)`` vectors.
        dim: Components to keep, or ``None``.

    Returns:
        A ``(n, dim)`` view of ``vectors`` (no copy).
    """
    return vectors[:, :dim] if dim else vectors


def matryoshka(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    """Truncate to ``dim`` components and re-normalise to unit length.

    Args:
        vectors: ``(n, d)`` raw vectors.
        dim: Components to keep, or ``None`` for all.

    Returns:
        ``(n, dim)`` float32 unit vectors.
    """
    return l2_normalize(truncate(vectors, dim))


def calibrate_int8(raw: np.ndarray, truncate_dim: int | None = None) -> Int8Ranges:
    """Per-dimension ``(low, high)`` of calibration vectors, truncated and normalised first.

    Args:
        raw: ``(n, native_dim)`` raw vectors of the calibration texts (document prompt applied).
        truncate_dim: The Matryoshka dimension the ranges are for, or ``None``.

    Returns:
        ``(low, high)``, each of shape ``(truncate_dim or native_dim,)``.
    """
    unit = matryoshka(np.asarray(raw, dtype=np.float32), truncate_dim)
    return unit.min(axis=0), unit.max(axis=0)


def quantize_int8(vectors: np.ndarray, ranges: Int8Ranges) -> np.ndarray:
    """Integer codes in ``-128..127``: each dimension's range cut into 256 equal steps.

    A dimension whose calibration range is empty gets a step of 1. Values outside the range are
    clipped to the end codes.

    Args:
        vectors: ``(n, d)`` unit vectors.
        ranges: ``(low, high)`` from :func:`calibrate_int8` for the same ``d``.

    Returns:
        ``(n, d)`` float32 array holding whole numbers.
    """
    low, high = ranges
    steps = (high - low) / 255.0
    steps[steps == 0] = 1.0
    codes = np.clip(np.floor((vectors - low) / steps) - 128, -128, 127)
    return codes.astype(np.float32)


def quantize_binary(vectors: np.ndarray) -> np.ndarray:
    """The sign of each component as ``+1.0`` (positive) or ``-1.0`` (zero or negative), float32."""
    return np.where(vectors > 0, 1.0, -1.0).astype(np.float32)


def postprocess(
    raw: np.ndarray,
    *,
    truncate_dim: int | None = None,
    precision: Precision = "float32",
    normalize: bool = True,
    int8_ranges: Int8Ranges | None = None,
) -> np.ndarray:
    """Truncate, normalise and quantise raw vectors, in that order.

    Vectors are always normalised after truncation (int8 ranges are calibrated on unit vectors);
    ``normalize`` adds a final normalisation of the result (of the codes, when quantised).

    Args:
        raw: ``(n, native_dim)`` float32 raw vectors.
        truncate_dim: Matryoshka dimension, or ``None``.
        precision: ``"float32"``, ``"int8"`` or ``"binary"``.
        normalize: L2-normalise the output.
        int8_ranges: Ranges from :func:`calibrate_int8`; required for ``"int8"``.

    Returns:
        ``(n, truncate_dim or native_dim)`` C-contiguous float32 array.

    Raises:
        ValueError: For ``"int8"`` without ranges, or an unknown precision.
    """
    vectors = matryoshka(raw, truncate_dim)
    if precision == "int8":
        if int8_ranges is None:
            raise ValueError("precision='int8' needs int8_ranges (see calibrate_int8).")
        vectors = quantize_int8(vectors, int8_ranges)
    elif precision == "binary":
        vectors = quantize_binary(vectors)
    elif precision != "float32":
        raise ValueError(f"precision must be float32, int8 or binary, got {precision!r}.")
    if normalize:
        vectors = l2_normalize(vectors)
    return np.ascontiguousarray(vectors, dtype=np.float32)
