"""Build-time code, apart from the run-time adapters: turning a model into files an adapter loads.

Nothing here runs when vectors are computed; exporting needs heavier extras (``torch``,
``transformers``, ``onnx``: ``pip install 'autoembedding[export]'``) than running the result
(``onnxruntime`` and ``tokenizers`` only).

* :func:`export_int8` writes a dynamically quantised int8 ONNX folder for a catalog model, with
  an ``export.json`` manifest (hashes, options, agreement with PyTorch);
* :func:`load_exported` checks those hashes and returns its
  :class:`~autoembedding.adapters.onnx.OnnxAdapter`.

Example:
    >>> from autoembedding.adapters.export import export_int8, load_exported
    >>> folder = export_int8("sentence-transformers/all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> adapter = load_exported(folder)  # doctest: +SKIP
"""

from __future__ import annotations

from autoembedding.adapters.export.onnx_int8 import (
    EXPORT_MANIFEST,
    default_export_dir,
    export_int8,
    load_exported,
)

__all__ = ["EXPORT_MANIFEST", "default_export_dir", "export_int8", "load_exported"]
