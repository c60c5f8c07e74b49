"""The int8 ONNX export of the offline MiniLM: real export, real quantisation, real agreement."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autoembedding import WeightsIntegrityError, get_adapter
from autoembedding.adapters.export import EXPORT_MANIFEST, export_int8, load_exported

pytestmark = pytest.mark.integration

TEXTS = [
    "Aspirin lowers the risk of a second heart attack.",
    "The router drops its connection every evening.",
    "Basophils promote the allergic inflammation of the skin.",
    "How long does shipping to Canada take?",
    "Der Zug fährt um acht Uhr ab.",
    "",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_int8("all-MiniLM-L6-v2", tmp_path_factory.mktemp("export"))


def test_export_agrees_with_pytorch_and_records_hashes(exported):
    manifest = json.loads((exported / EXPORT_MANIFEST).read_text())
    assert manifest["cosine_to_pytorch"]["mean"] >= 0.98
    assert set(manifest["files"]) == {"model.onnx", "tokenizer.json"}
    reference = get_adapter("all-MiniLM-L6-v2").embed_documents(TEXTS)
    vectors = load_exported(exported).embed_documents(TEXTS)
    assert vectors.shape == (len(TEXTS), 384)
    cosine = np.sum(reference * vectors, axis=1)
    assert cosine.mean() >= 0.97, cosine


def test_export_is_reused_and_tampering_is_refused(exported):
    assert export_int8("all-MiniLM-L6-v2", exported) == exported  # verified, not rebuilt
    model = exported / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(WeightsIntegrityError):
        load_exported(exported)
