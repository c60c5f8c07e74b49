"""One real int8 export per test process, shared by the export and fast-path test modules.

The export (torch -> ONNX -> fused -> quantised -> checked) is the slow part of these tests, so it
runs once, into a private cache folder (``$AUTOEMBEDDING_CACHE`` is pointed there by the tests
that load through the catalog), and its duration is kept for the report.
"""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
INT8 = "sentence-transformers/all-MiniLM-L6-v2:onnx-int8"


@functools.lru_cache(maxsize=1)
def shared_cache() -> tuple[Path, Path, float]:
    """(cache root, export folder, seconds the export took), exported on the first call."""
    from autoembedding.adapters.cpu import cpu_kind
    from autoembedding.adapters.export import export_dir, export_int8

    root = Path(tempfile.mkdtemp(prefix="autoembedding-cache-"))
    from unittest import mock

    with mock.patch.dict("os.environ", {"AUTOEMBEDDING_CACHE": str(root)}):
        target = export_dir(MINILM, kind=cpu_kind())
        start = time.perf_counter()
        folder = export_int8(MINILM, target)
        seconds = time.perf_counter() - start
    return root, folder, seconds
