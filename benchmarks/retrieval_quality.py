"""Every candidate on real queries: nDCG@10 of BM25, the dense models and their hybrids, and p50.

Usage::

    python benchmarks/retrieval_quality.py DATASET_DIR [DATASET_DIR ...] [--timed 100]

``DATASET_DIR`` is a BEIR-layout folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``).
The whole corpus (or with ``--gt-docs N`` a subcollection of N documents: every judged one plus
random others, as ``selection_quality.py --gt-docs``) is searched with every judged query.

* **nDCG@10** is scored exactly as the probe scores a candidate
  (``selection_quality.score_candidates``): cosine over every document, BM25 over the documents
  sharing a term, convex fusion with a weight cross-validated out of fold (5 folds; a query never
  scores the weight it chose), RRF with k=60. BM25 is scored with each tokenizer of
  ``--tokenizers`` (``und`` = lower-case Unicode words; ``auto`` = the language detected from the
  documents, the one the probe and the hybrids use).
* **p50 / p95 ms** is what a user's retriever costs per query: the corpus sits in an embedded
  Chroma collection (the vectors of each model, its BM25 index built by ``build_index``), and
  :class:`~autoembedding.retrieval.Searcher` (what both ``AutoRetriever`` classes call) serves
  ``--timed`` judged queries one at a time, k=10, in the mode the collection's record names:
  query embedding + Chroma's HNSW search (dense), BM25 (lexical), both and the fusion (hybrid).
  One warm-up query first.

Document vectors come from ``benchmarks/.cache`` (``selection_quality.py --ground-truth-only``
fills it; missing ones are embedded here, e5 at about one SciFact abstract per second).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selection_quality import (  # noqa: E402
    CANDIDATES,
    Encoder,
    VectorCache,
    ground_truth_subset,
    load_corpus,
    score_candidates,
    short,
)

from autoembedding.lexical import BM25Index, Tokenizer, detect_language  # noqa: E402
from autoembedding.probe.hybrid import lexical_rankings, ranking_metrics  # noqa: E402
from autoembedding.probe.queries import load_beir  # noqa: E402


def bm25_rows(
    ids: list[str], texts: list[str], queries: list[str], relevant: list, specs: list[str]
) -> dict[str, float]:
    """nDCG@10 of BM25 with each forced tokenizer spec (``auto`` is ``score_candidates``'s)."""
    out = {}
    for spec in specs:
        if spec == "auto":
            continue
        tokenizer = Tokenizer(spec)
        index = BM25Index.build(ids, texts, tokenizer)
        lexical = np.stack([index.scores(q) for q in queries])
        ndcg = ranking_metrics(lexical_rankings(lexical, ids), relevant)["ndcg@10"]
        out[f"bm25 ({tokenizer.spec})"] = float(ndcg.mean())
    return out


def served_latency(
    ids: list[str],
    texts: list[str],
    queries: list[str],
    caches: dict[str, VectorCache],
    weights: dict[str, float],
    tokenizer: str,
) -> dict[str, tuple[float, float]]:
    """p50/p95 ms of one ``Searcher.search`` per candidate label, on embedded Chroma."""
    import chromadb

    from autoembedding.chroma.records import write_record
    from autoembedding.integrations.chroma import get_or_create_collection
    from autoembedding.retrieval import Searcher
    from autoembedding.retrieval.store import build_index

    out: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="autoembedding-rq-") as folder:
        client = chromadb.PersistentClient(folder)
        for n, (model_id, cache) in enumerate(caches.items()):
            guarded = get_or_create_collection(client, f"rq-{n}", model_id)
            vectors = cache.docs(texts)
            for at in range(0, len(ids), 1000):
                guarded.add(
                    ids=ids[at : at + 1000],
                    documents=texts[at : at + 1000],
                    embeddings=vectors[at : at + 1000].tolist(),
                )
            raw = client.get_collection(f"rq-{n}", embedding_function=None)
            base = guarded.function.record()
            build_index(raw, tokenizer, client=client)
            modes = {
                model_id: base,
                "bm25": base.with_retrieval("lexical", tokenizer=tokenizer),
                f"hybrid:{model_id}+bm25": base.with_retrieval(
                    "hybrid",
                    tokenizer=tokenizer,
                    fusion="convex",
                    fusion_weight=weights.get(model_id, 0.5),
                ),
                f"hybrid-rrf:{model_id}+bm25": base.with_retrieval(
                    "hybrid", tokenizer=tokenizer, fusion="rrf"
                ),
            }
            for label, record in modes.items():
                if label == "bm25" and n:
                    continue  # one BM25 timing: its index does not depend on the model
                write_record(raw, record)
                searcher = Searcher(raw, client=client)
                searcher.search(queries[0], k=10)  # warm-up: loads the model / the index
                times = []
                for query in queries:
                    t0 = time.perf_counter()
                    searcher.search(query, k=10)
                    times.append((time.perf_counter() - t0) * 1000)
                out[label] = (float(np.percentile(times, 50)), float(np.percentile(times, 95)))
    return out


def run(
    folder: Path, models: list[str], specs: list[str], timed: int, gt_docs: int = 0
) -> list[dict[str, object]]:
    """One row per candidate on one data set (``gt_docs`` > 0: that subcollection)."""
    ids, texts, _ = load_corpus(folder)
    judged = load_beir(folder / "queries.jsonl", folder / "qrels.tsv")
    if 0 < gt_docs < len(ids):  # every judged query, its abstracts and random others
        rows, judged = ground_truth_subset(folder, len(judged), gt_docs)
        ids, texts = [ids[i] for i in rows], [texts[i] for i in rows]
    queries = [q for q, _ in judged]
    relevant = [rel for _, rel in judged]
    caches = {m: VectorCache(folder.name, m, Encoder(m)) for m in models}
    print(f"{folder.name}: {len(ids)} documents, {len(queries)} judged queries", flush=True)
    weights: dict[str, float] = {}
    scored = score_candidates(ids, texts, queries, relevant, caches, weights=weights)
    ndcg = {label: float(values.mean()) for label, values in scored.items()}
    tokenizer = Tokenizer(detect_language(texts)).spec  # what score_candidates' bm25 used
    detected = ndcg.pop("bm25")
    if "auto" in specs:
        ndcg[f"bm25 ({tokenizer}, detected)"] = detected
    ndcg.update(bm25_rows(ids, texts, queries, relevant, specs))
    rng = np.random.default_rng(0)
    sample = [queries[i] for i in sorted(rng.permutation(len(queries))[:timed])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # truncation warnings of long documents
        latency = served_latency(ids, texts, sample, caches, weights, tokenizer)
    rows = []
    for label, value in sorted(ndcg.items(), key=lambda kv: -kv[1]):
        key = "bm25" if label.startswith("bm25 (") and label.endswith("detected)") else label
        p50, p95 = latency.get(key, (float("nan"), float("nan")))
        model = label.split(":", 1)[1].rsplit("+bm25", 1)[0] if label.startswith("hybrid") else ""
        note = f"w={weights[model]:.2f} (dense), out of fold" if label.startswith("hybrid:") else ""
        rows.append(
            {
                "dataset": folder.name,
                "candidate": label,
                "ndcg@10": value,
                "p50_ms": p50,
                "p95_ms": p95,
                "note": note,
                "docs": len(ids),
                "queries": len(queries),
                "timed": len(sample),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--models", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--tokenizers", default="und,auto", help="comma-separated specs")
    parser.add_argument("--timed", type=int, default=100, help="queries timed per candidate")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument(
        "--gt-docs",
        type=int,
        default=0,
        help="search a subcollection of this many documents: every judged document plus random "
        "others (selection_quality's --gt-docs; 0: the whole corpus)",
    )
    args = parser.parse_args()
    specs = [s.strip() for s in args.tokenizers.split(",") if s.strip()]
    rows = [
        r
        for folder in args.datasets
        for r in run(folder, args.models, specs, args.timed, args.gt_docs)
    ]
    print(
        f"\n# {date.today()} · {platform.processor() or platform.machine()} · "
        f"{os.cpu_count()} CPUs · Python {platform.python_version()}"
    )
    print("| dataset | candidate | nDCG@10 | p50 ms | p95 ms | note |")
    print("|---|---|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['dataset']} | {short(str(r['candidate']))} | {r['ndcg@10']:.3f} "
            f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['note']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
