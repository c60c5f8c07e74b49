"""How long the probe takes to decide on SciFact (5,183 abstracts) with the offline models.

Builds an embedded Chroma collection of the whole SciFact corpus (stored vectors are random:
the probe only reads documents), runs ``autoembedding.selector.probe`` with every available
offline model and prints:

* the probe's wall time and its decision;
* each model's measured docs/s and the time to embed the whole collection with it
  (collection size / docs/s), summed over the candidates;
* the probe's time as a share of that full-embed time (target: <= 15%) and against 120 s.

The probe's docs/s is measured on the pool texts: by default (``--max-doc-chars auto``) the
documents as stored, up to the longest candidate window, so the full-embed estimate is the real
one. With a cut (``--max-doc-chars 500``) the texts are shorter than the collection's, the
full-embed estimate is a lower bound and the share printed an upper bound.

``--compare-truncation`` runs the probe a second time on the same sample with whole documents
and prints both rankings (does cutting documents change the decision?).

Usage:
    HF_HUB_OFFLINE=1 python benchmarks/probe_speed.py /work/shared/data/scifact --budget-s 100
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path


def build_collection(corpus: Path, path: Path):
    import chromadb
    import numpy as np

    client = chromadb.PersistentClient(path=str(path))
    try:
        return client.get_collection("scifact")
    except Exception:
        pass
    col = client.create_collection("scifact", embedding_function=None)
    ids, docs = [], []
    with open(corpus, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            ids.append(row["_id"])
            docs.append(f"{row.get('title', '')}. {row['text']}".strip())
    rng = np.random.default_rng(0)
    for start in range(0, len(ids), 1000):
        chunk = slice(start, start + 1000)
        col.add(
            ids=ids[chunk],
            documents=docs[chunk],
            embeddings=rng.standard_normal((len(ids[chunk]), 8)).astype("float32").tolist(),
        )
    return col


def run_probe(col, args, max_doc_chars):
    from autoembedding.probe import probe

    start = time.perf_counter()

    def progress(message, fraction):
        print(f"  {time.perf_counter() - start:6.1f}s {fraction:4.0%} {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(
            col,
            candidates=args.candidates.split(",") if args.candidates else None,
            budget_s=args.budget_s,
            seed=args.seed,
            sample_size=args.sample_size,
            max_doc_chars=max_doc_chars,
            progress=progress,
        )
    return report, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scifact", type=Path, help="folder with corpus.jsonl")
    parser.add_argument("--budget-s", type=float, default=100.0)
    parser.add_argument("--sample-size", type=int, default=None)
    parser.add_argument(
        "--max-doc-chars",
        default="auto",
        help="'auto' (the probe's default), 0 for whole documents, or a character cut",
    )
    parser.add_argument("--candidates", default=None, help="comma-separated; default: available")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chroma-path", type=Path, default=None, help="reuse/keep the collection")
    parser.add_argument("--compare-truncation", action="store_true")
    args = parser.parse_args()

    from autoembedding.probe.report import format_table

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(
        f"# probe_speed  {datetime.datetime.now().isoformat(timespec='seconds')}  "
        f"{platform.processor() or platform.machine()}  cpus={os.cpu_count()}  "
        f"loadavg={load[0]:.1f} (timings on a shared machine are noisy)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        col = build_collection(args.scifact / "corpus.jsonl", args.chroma_path or Path(tmp))
        n = col.count()
        cut = args.max_doc_chars
        max_doc_chars = cut if cut == "auto" else (int(cut) or None)
        report, seconds = run_probe(col, args, max_doc_chars)
        print(format_table(report))
        print()
        full = 0.0
        print(f"{'model':52s} {'docs/s':>8s} {'full embed of ' + str(n) + ' docs':>24s}")
        seen = set()
        for r in report.results:
            if r.docs_per_s and r.candidate.model_id not in seen:
                seen.add(r.candidate.model_id)
                t = n / r.docs_per_s
                full += t
                print(f"{r.candidate.model_id:52s} {r.docs_per_s:8.1f} {t:22.0f} s")
        print(f"probe wall time: {seconds:.1f} s (target <= 120 s)")
        if full:
            print(
                f"full-embed time, all candidates: {full:.0f} s; probe / full = "
                f"{100 * seconds / full:.1f}% (target <= 15%)"
            )
        if args.compare_truncation:
            whole, seconds2 = run_probe(col, args, None)
            print("\nwhole documents:")
            print(format_table(whole))
            cut_rank = [r.candidate.label for r in report.results if r.metrics]
            full_rank = [r.candidate.label for r in whole.results if r.metrics]
            print(f"ranking cut to {args.max_doc_chars} chars: {cut_rank}")
            print(f"ranking whole documents:        {full_rank}  ({seconds2:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
