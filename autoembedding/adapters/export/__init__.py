"""int8 ONNX exports: build one for this CPU, find it in the cache, check it, load it.

Building needs heavier extras (``torch``, ``transformers``, ``onnx``: ``pip install
'autoembedding[export]'``) than running the result (``onnxruntime`` and ``tokenizers`` only);
they are imported only when an export is actually built.

* :func:`export_int8` writes a dynamically quantised int8 ONNX folder for a catalog model, with
  an ``export.json`` manifest (hashes, settings, agreement with PyTorch), into the user cache by
  default (:mod:`.cache`), with settings chosen for the CPU kind (:mod:`.config`);
* :func:`load_exported` checks those hashes and returns its
  :class:`~autoembedding.adapters.onnx.OnnxAdapter`;
* :func:`resolve_int8` (:mod:`.fast_path`) is what catalog int8 entries load through: the cached
  export for this CPU, exported on first use, or ``None`` (with a warning) to use the pinned file.

Example:
    >>> from autoembedding.adapters.export import export_int8, load_exported
    >>> folder = export_int8("sentence-transformers/all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> adapter = load_exported(folder)  # doctest: +SKIP
"""

from __future__ import annotations

from autoembedding.adapters.export.cache import EXPORT_MANIFEST, export_dir, verify_export
from autoembedding.adapters.export.config import QuantConfig, config_for_cpu
from autoembedding.adapters.export.fast_path import resolve_int8
from autoembedding.adapters.export.onnx_int8 import (
    default_export_dir,
    export_int8,
    load_exported,
)

__all__ = [
    "EXPORT_MANIFEST",
    "QuantConfig",
    "config_for_cpu",
    "default_export_dir",
    "export_dir",
    "export_int8",
    "load_exported",
    "resolve_int8",
    "verify_export",
]
