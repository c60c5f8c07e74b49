"""The int8 ONNX export of the offline MiniLM: real export, integer kernels, agreement, hashes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from int8_export_shared import MINILM, shared_cache

from autoembedding import WeightsIntegrityError, get_adapter
from autoembedding.adapters.export import EXPORT_MANIFEST, export_int8, load_exported
from autoembedding.offline import sha256_file

pytestmark = pytest.mark.integration
onnx = pytest.importorskip("onnx")

TEXTS = [
    "Aspirin lowers the risk of a second heart attack.",
    "The router drops its connection every evening.",
    "Basophils promote the allergic inflammation of the skin.",
    "How long does shipping to Canada take?",
    "Der Zug fährt um acht Uhr ab.",
    "",
]
#: Operators that mean a matrix product really runs on integers.
INTEGER_OPS = {"MatMulInteger", "DynamicQuantizeMatMul", "QAttention", "QLinearMatMul"}


@pytest.fixture(scope="module")
def exported():
    return shared_cache()[1]


def test_export_agrees_with_pytorch_and_records_hashes(exported):
    manifest = json.loads((exported / EXPORT_MANIFEST).read_text())
    assert manifest["cosine_to_pytorch"]["mean"] >= 0.99
    assert set(manifest["files"]) == {"model.onnx", "tokenizer.json"}
    assert manifest["files"]["model.onnx"] == sha256_file(exported / "model.onnx")
    reference = get_adapter(MINILM).embed_documents(TEXTS)
    vectors = load_exported(exported).embed_documents(TEXTS)
    assert vectors.shape == (len(TEXTS), 384)
    cosine = np.sum(reference * vectors, axis=1)
    assert cosine.mean() >= 0.99 and cosine.min() >= 0.97, cosine


def test_exported_graph_computes_in_integers(exported):
    graph = onnx.load(str(exported / "model.onnx")).graph
    ops = [node.op_type for node in graph.node]
    assert set(ops) & INTEGER_OPS, sorted(set(ops))
    assert "DynamicQuantizeLinear" in ops or "DynamicQuantizeMatMul" in ops
    # 6 layers x (attention output, intermediate, output) dense layers run in int8
    assert sum(op in INTEGER_OPS for op in ops) >= 18, sorted(set(ops))
    assert "MatMul" not in ops  # no fp32 matrix product left outside the fused attention
    float_weights = [
        init.name
        for init in graph.initializer
        if init.data_type == onnx.TensorProto.FLOAT
        and len(init.dims) == 2
        and min(init.dims) >= 384
        and "embeddings" not in init.name
        and "qkv" not in init.name  # the fused attention's Q/K/V stay fp32 by design (config)
    ]
    assert not float_weights, float_weights[:5]


def test_export_is_reproducible(exported, tmp_path):
    """The same inputs give the same bytes: a second export hashes the same."""
    manifest = json.loads((exported / EXPORT_MANIFEST).read_text())
    again = export_int8(MINILM, tmp_path / "again", kind=manifest["cpu_kind"])
    second = json.loads((again / EXPORT_MANIFEST).read_text())
    assert second["files"] == manifest["files"]
    assert second["cosine_to_pytorch"] == manifest["cosine_to_pytorch"]


def test_export_is_reused_and_tampering_is_refused(exported, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(exported, copy)
    assert export_int8(MINILM, copy) == copy  # verified, not rebuilt
    model = copy / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(WeightsIntegrityError, match="sha256"):
        load_exported(copy)
