"""Importing the package must stay cheap and must not import torch."""

from __future__ import annotations

import subprocess
import sys


def test_import_does_not_load_heavy_modules():
    code = (
        "import sys, autoembedding, autoembedding.catalog, autoembedding.offline;"
        "heavy=[m for m in ('torch','onnxruntime','chromadb','sentence_transformers',"
        "'langchain_core','llama_index') if m in sys.modules];print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
