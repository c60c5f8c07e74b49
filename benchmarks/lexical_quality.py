"""Real-query nDCG@10 of BM25 with each tokenizer, with index build time and query latency.

Usage::

    python benchmarks/lexical_quality.py DATASET_DIR [DATASET_DIR ...] [--tokenizers und,auto]

``DATASET_DIR`` is a BEIR-layout folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``).
Documents are ``title + " " + text``; every query with a qrel is scored. ``--tokenizers`` takes
tokenizer specs (``und`` = plain lower-case words, ``en``, ``zh``, ``mixed:zh+en``,
``words:en`` = English stopwords without stemming, ...) and ``auto`` = the language detected
from the documents. The whole corpus is indexed (no sampling); BM25 only, no dense model.

Columns: nDCG@10 over the judged queries; build s = tokenizing + indexing the corpus;
index MB = the in-memory BM25 score matrix; p50/p95 ms = one query, tokenizing and scoring
(after one warm-up query).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoembedding.lexical import BM25Index, Tokenizer, detect_language  # noqa: E402
from autoembedding.lexical.fusion import per_query_ndcg  # noqa: E402
from autoembedding.lexical.languages import vote_lists  # noqa: E402


def load(folder: Path) -> tuple[list[str], list[str], list[str], list[set[str]]]:
    """Corpus ids and texts, judged query texts and their relevant ids."""
    ids, texts = [], []
    with open(folder / "corpus.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            ids.append(str(row["_id"]))
            texts.append(f"{row.get('title') or ''} {row['text']}".strip())
    qrels: dict[str, set[str]] = {}
    with open(folder / "qrels.tsv", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            qid, doc_id, score = line.rstrip("\n").split("\t")
            if float(score) > 0:
                qrels.setdefault(qid, set()).add(doc_id)
    queries, relevant = [], []
    with open(folder / "queries.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                queries.append(row["text"])
                relevant.append(qrels[str(row["_id"])])
    return ids, texts, queries, relevant


def run(folder: Path, specs: list[str]) -> list[dict[str, object]]:
    """One row per tokenizer."""
    ids, texts, queries, relevant = load(folder)
    vote_lists()  # warm-up: imports bm25s and reads its stopword lists
    start = time.perf_counter()
    detected = detect_language(texts)
    detect_s = time.perf_counter() - start
    rows = []
    for spec in specs:
        tokenizer = Tokenizer(detected if spec == "auto" else spec)
        tokenizer("warm-up 预热")  # loads the stemmer / jieba dictionary outside the timings
        index = BM25Index.build(ids, texts, tokenizer)
        index.search(queries[0])
        rankings, times = [], []
        for query in queries:
            t0 = time.perf_counter()
            rankings.append(dict(index.search(query, k=10)))
            times.append(time.perf_counter() - t0)
        ms = np.asarray(times) * 1000
        rows.append(
            {
                "dataset": folder.name,
                "tokenizer": f"{spec} ({tokenizer.spec})" if spec == "auto" else tokenizer.spec,
                "ndcg@10": float(per_query_ndcg(rankings, relevant).mean()),
                "build_s": index.build_seconds,
                "index_mb": index.index_bytes / 2**20,
                "p50_ms": float(np.percentile(ms, 50)),
                "p95_ms": float(np.percentile(ms, 95)),
                "docs": len(ids),
                "queries": len(queries),
                "detect_s": detect_s,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--tokenizers", default="und,auto", help="comma-separated specs")
    args = parser.parse_args()
    specs = [s.strip() for s in args.tokenizers.split(",") if s.strip()]
    print(
        f"# {date.today()} · {platform.processor() or platform.machine()} · "
        f"{os.cpu_count()} CPUs · Python {platform.python_version()}"
    )
    print(
        "| dataset | tokenizer | nDCG@10 | build s | index MB | p50 ms | p95 ms | docs | queries |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for folder in args.datasets:
        for r in run(folder, specs):
            print(
                f"| {r['dataset']} | {r['tokenizer']} | {r['ndcg@10']:.3f} | {r['build_s']:.2f} "
                f"| {r['index_mb']:.1f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['docs']} "
                f"| {r['queries']} |"
            )
        print(f"(language detection on {folder.name}: {r['detect_s'] * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
