"""Block-wise weight quantisation (``MatMulNBits``) against the int8 export, on this CPU.

The int8 export (``autoembedding.adapters.export``) quantises MiniLM's MatMuls with
``quantize_dynamic`` (per-channel int8 weights, uint8 activations). ONNX Runtime's other route
is ``MatMulNBits``: weights in blocks of ``block`` input channels with a scale each, 8 or 4 bits,
computed in int8 (``accuracy_level`` 4) or dequantised to fp32 (0). This script quantises the
same fused fp32 graph (:func:`~autoembedding.adapters.export.onnx_int8.export_fused_fp32`) both
ways and reports, for each file, the cosine to the fp32 graph and the CPU seconds of one thread
(``time.thread_time``, 1 intra-op thread, medians of ``--rounds`` interleaved rounds) on
``--docs`` SciFact abstracts in length-sorted batches of 32.

Usage::

    pip install onnx-ir      # ONNX Runtime's MatMulNBits quantiser imports it
    python benchmarks/int8_blockwise.py --docs 64 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCIFACT = ROOT.parent / "shared" / "data" / "scifact" / "corpus.jsonl"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
#: (bits, block, accuracy_level, symmetric) of each MatMulNBits variant.
NBITS = [(8, 32, 4, True), (8, 128, 4, True), (8, 32, 0, True), (4, 32, 4, True)]


def build(folder: Path) -> dict[str, Path]:
    """The fused fp32 graph, the int8 export's quantisation of it, and the MatMulNBits ones."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import (
            DefaultWeightOnlyQuantConfig,
            MatMulNBitsQuantizer,
        )
    except ImportError as exc:
        raise SystemExit(f"{exc}: ONNX Runtime's MatMulNBits quantiser needs onnx-ir") from exc

    from autoembedding.adapters.export.cache import source_spec
    from autoembedding.adapters.export.config import config_for_cpu
    from autoembedding.adapters.export.onnx_int8 import export_fused_fp32

    config = config_for_cpu("avx2")
    files = {"fp32 fused": folder / "fp32.onnx"}
    export_fused_fp32(source_spec(MINILM), config, files["fp32 fused"])
    files["int8 export (quantize_dynamic, per-channel)"] = folder / "dynamic.onnx"
    quantize_dynamic(
        str(files["fp32 fused"]),
        str(files["int8 export (quantize_dynamic, per-channel)"]),
        weight_type=QuantType.QInt8,
        per_channel=config.per_channel,
        op_types_to_quantize=list(config.op_types),
        extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    for bits, block, level, symmetric in NBITS:
        name = f"MatMulNBits {bits}-bit, block {block}, accuracy_level {level}"
        files[name] = folder / f"nbits{bits}_{block}_{level}.onnx"
        algo = DefaultWeightOnlyQuantConfig(
            block_size=block, is_symmetric=symmetric, accuracy_level=level, bits=bits
        )
        quantizer = MatMulNBitsQuantizer(
            onnx.load(str(files["fp32 fused"])),
            bits=bits,
            block_size=block,
            is_symmetric=symmetric,
            accuracy_level=level,
            algo_config=algo,
        )
        quantizer.process()
        quantizer.model.save_model_to_file(str(files[name]), use_external_data_format=False)
    return files


def encode(session: Any, tokenizer: Any, docs: list[str]) -> np.ndarray:
    """Unit vectors of ``docs``: length-sorted batches of 32, each padded to its longest."""
    out = np.zeros((len(docs), 384), np.float32)
    order = sorted(range(len(docs)), key=lambda i: len(docs[i]))
    for start in range(0, len(docs), 32):
        rows = order[start : start + 32]
        encs = tokenizer.encode_batch([docs[i] for i in rows])
        ids = np.zeros((len(rows), max(len(e.ids) for e in encs)), np.int64)
        for r, e in enumerate(encs):
            ids[r, : len(e.ids)] = e.ids
        feed = {"input_ids": ids, "attention_mask": (ids > 0).astype(np.int64)}
        feed["token_type_ids"] = np.zeros_like(ids)
        out[rows] = session.run(None, feed)[0]
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from autoembedding.adapters.export.cache import source_spec
    from autoembedding.offline import resolve_weights

    with SCIFACT.open(encoding="utf-8") as fh:
        docs = [json.loads(line)["text"] for line in islice(fh, args.docs)]
    tokenizer = Tokenizer.from_file(
        str(Path(resolve_weights(source_spec(MINILM))) / "tokenizer.json")
    )
    tokenizer.enable_truncation(256)
    with tempfile.TemporaryDirectory(prefix="int8-blockwise-") as tmp:
        files = build(Path(tmp))
        sessions = {}
        for name, path in files.items():
            options = ort.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            sessions[name] = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        sizes = {name: path.stat().st_size / 1e6 for name, path in files.items()}
        reference = encode(sessions["fp32 fused"], tokenizer, docs)
        cpu: dict[str, list[float]] = {name: [] for name in sessions}
        cosine = {}
        for _ in range(args.rounds):
            for name, session in sessions.items():
                start = time.thread_time()
                vectors = encode(session, tokenizer, docs)
                cpu[name].append(time.thread_time() - start)
                cosine[name] = (vectors * reference).sum(axis=1)
    base = median(cpu["fp32 fused"])
    print(f"{args.docs} SciFact abstracts, 1 thread, median of {args.rounds} rounds")
    print("| file | cosine to fp32 mean / min | CPU s | speed vs fp32 | MB |")
    print("|---|---|---:|---:|---:|")
    for name, times in cpu.items():
        c = cosine[name]
        print(
            f"| {name} | {c.mean():.4f} / {c.min():.4f} | {median(times):.2f} | "
            f"{base / median(times):.2f}x | {sizes[name]:.1f} |"
        )


if __name__ == "__main__":
    main()
