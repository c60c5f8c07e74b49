"""The ONNX Runtime backend users get: :class:`OnnxAdapter`, with the int8 export for this CPU.

The engine is :class:`~autoembedding.adapters.onnx_session.OnnxRuntimeAdapter` (tokenize, run,
pool; an int8 export one text per run, so its vectors never depend on their batch). This class
adds one thing: a catalog int8 entry that names its source model (``ModelSpec.export_from``)
loads the int8 export built for this CPU
(:func:`autoembedding.adapters.export.fast_path.resolve_int8`: integer kernels, exported and
cached on first use), and its pinned file only when that cannot be built.
:attr:`OnnxAdapter.source` says which was loaded.

Example:
    >>> from autoembedding import get_adapter
    >>> int8 = get_adapter("all-MiniLM-L6-v2-int8")
    >>> int8.embed_documents(["a", "b"]).shape
    (2, 384)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autoembedding.adapters.onnx_session import OnnxRuntimeAdapter
from autoembedding.catalog import ModelSpec

__all__ = ["OnnxAdapter"]


class OnnxAdapter(OnnxRuntimeAdapter):
    """Embeds with an ONNX transformer encoder on ONNX Runtime, the int8 export where there is one.

    Args:
        spec: The model's catalog spec (or an ad-hoc one whose ``hub_id`` is a local path).
        int8_export: For a catalog int8 entry with ``export_from``: load the int8 export for
            this CPU, building it on first use (``True``), or the pinned file (``False``).
            Default: on, unless ``$AUTOEMBEDDING_INT8_EXPORT=0``.
        **options: The engine's options (``tokenizer_file``, ``num_threads``, ``providers``,
            ``max_tokens``, ``allow_spinning``, ``optimization_level``, ``texts_per_run``, and
            those of :class:`~autoembedding.adapters.base.BaseAdapter`); see
            :class:`~autoembedding.adapters.onnx_session.OnnxRuntimeAdapter`.
    """

    def __init__(self, spec: ModelSpec, *, int8_export: bool | None = None, **options: Any) -> None:
        super().__init__(spec, **options)
        self.int8_export = int8_export

    def _int8_export_folder(self) -> Path | None:
        """The verified int8 export to load instead of the pinned file, if any (built now)."""
        if not self.spec.export_from:
            return None
        from autoembedding.adapters.export.fast_path import export_enabled, resolve_int8

        wanted = export_enabled() if self.int8_export is None else self.int8_export
        return resolve_int8(self.spec) if wanted else None
