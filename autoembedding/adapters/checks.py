"""Checks of the options every adapter takes (used by ``BaseAdapter``).

Bad values raise :class:`~autoembedding.errors.InvalidArgumentError` naming the option; a
``truncate_dim`` a model was not trained for warns, pointing at the caller's own line.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from autoembedding.adapters.quantize import PRECISIONS
from autoembedding.catalog import ModelSpec
from autoembedding.errors import AutoEmbeddingWarning, InvalidArgumentError

__all__ = ["caller_outside_package", "check_precision", "warn_truncate_dim"]


def check_precision(precision: object) -> None:
    """Refuse a precision that is not one of :data:`PRECISIONS`, naming the argument."""
    if precision not in PRECISIONS:
        raise InvalidArgumentError(
            f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}.",
            argument="precision",
        )


def warn_truncate_dim(spec: ModelSpec, truncate_dim: int) -> None:
    """Warn when ``truncate_dim`` cuts a catalog model where it was not trained to be cut.

    The vectors are still cut as asked: truncating any model is a deliberate, measurable
    trade-off, and collections recorded with such options must stay readable.

    Args:
        spec: The model's spec.
        truncate_dim: The requested dimension.
    """
    if not spec.dim or truncate_dim == spec.dim or spec.family in ("local", "custom"):
        return  # the native size, or a model the catalog knows nothing about
    if not spec.matryoshka_dims:
        message = (
            f"{spec.id} was not trained for Matryoshka truncation; truncate_dim={truncate_dim} "
            "keeps its first components anyway, which usually loses far more quality than on a "
            "Matryoshka model. Measure the loss first: probe the candidates "
            f"'{spec.id}' and '{spec.id}@{truncate_dim}' on your documents."
        )
    elif truncate_dim not in spec.matryoshka_dims:
        message = (
            f"{spec.id} was trained for Matryoshka dims {list(spec.matryoshka_dims)}; "
            f"truncate_dim={truncate_dim} may lose more quality than those."
        )
    else:
        return
    warnings.warn(message, AutoEmbeddingWarning, stacklevel=caller_outside_package())


def caller_outside_package() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside autoembedding."""
    package = str(Path(__file__).resolve().parent.parent)
    frame = sys._getframe(1)  # the function about to warn: stacklevel 1
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back
        level += 1
    return level
