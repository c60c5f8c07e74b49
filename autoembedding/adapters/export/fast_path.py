"""Resolve a catalog int8 entry to the int8 file that runs integer kernels on this CPU.

A catalog entry with ``export_from`` (``sentence-transformers/all-MiniLM-L6-v2:onnx-int8``) names
the PyTorch model it is exported from. :func:`resolve_int8` returns the verified export for this
CPU kind from the cache, exporting it first when it is not there (once per machine; the
``autoembed export MODEL`` command does the same ahead of time). When the export tools are not
installed, or the export fails, it warns and returns ``None``: the caller then loads the entry's
pinned file (correct vectors, but fp32 compute).

``$AUTOEMBEDDING_INT8_EXPORT=0`` (or ``get_adapter(..., int8_export=False)``) always uses the
pinned file, with no export and no warning.

Example:
    >>> from autoembedding.catalog import get_spec
    >>> resolve_int8(get_spec("minilm-int8"))  # doctest: +SKIP
    PosixPath('/home/me/.cache/autoembedding/export/sentence-transformers--all-MiniLM-L6-v2/avx2/...')
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from autoembedding.adapters.export.cache import export_dir, verify_export
from autoembedding.catalog import ModelSpec
from autoembedding.errors import (
    AutoEmbeddingWarning,
    BackendError,
    MissingExtraError,
    OfflineWeightsError,
    WeightsIntegrityError,
)

__all__ = ["INT8_EXPORT_ENV", "export_enabled", "resolve_int8"]

#: Environment variable that switches the int8 export off (``0``, ``false``, ``no``, ``off``).
INT8_EXPORT_ENV = "AUTOEMBEDDING_INT8_EXPORT"
_OFF = frozenset({"0", "false", "no", "off"})


def export_enabled() -> bool:
    """Whether catalog int8 entries use (and build) the export: not switched off by the env."""
    return os.environ.get(INT8_EXPORT_ENV, "").strip().lower() not in _OFF


def resolve_int8(spec: ModelSpec) -> Path | None:
    """The verified int8 export folder for a catalog entry, exported on first use.

    Args:
        spec: A catalog spec; only specs with ``export_from`` resolve.

    Returns:
        The export folder (``model.onnx`` + ``tokenizer.json`` + ``export.json``), or ``None``
        when the spec has no export or it cannot be built here (a warning says why and that the
        pinned file is used instead).
    """
    if not spec.export_from:
        return None
    target = export_dir(spec.export_from)
    try:
        verify_export(target)
        return target
    except (FileNotFoundError, WeightsIntegrityError):
        pass  # export_int8 checks again, says what was wrong and rebuilds
    from autoembedding.adapters.export.onnx_int8 import export_int8

    try:
        return export_int8(spec.export_from, target)
    except MissingExtraError as exc:
        reason = f"the export tools are not installed ({exc})"
    except (BackendError, OfflineWeightsError, WeightsIntegrityError, OSError) as exc:
        reason = f"the export failed ({type(exc).__name__}: {exc})"
    warnings.warn(
        f"{spec.id}: using the pinned int8 file, which computes in fp32 (slower), because "
        f"{reason}. For the integer fast path: pip install 'autoembedding[export]' and run "
        f"`autoembed export {spec.id}`; set {INT8_EXPORT_ENV}=0 to silence this.",
        AutoEmbeddingWarning,
        stacklevel=2,
    )
    return None
