"""A small SciFact subset shared by the framework end-to-end tests.

The judged abstracts of the first ``n_claims`` claims plus filler abstracts, each cut to
``max_chars`` so the suite stays fast on a 2-core machine; ``AUTOEMBED_SCIFACT_DOCS`` raises the
document count (up to the 300 abstracts bundled in ``tests/data/scifact``, which hold every
abstract judged for the first 10 claims; pass ``../shared/data`` as ``root`` for more).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

N_DOCS = int(os.environ.get("AUTOEMBED_SCIFACT_DOCS", "120"))
MAX_CHARS = 700
MIN_HITS = 8  # claims (of 10) whose judged abstract must be in the top 3


def scifact_subset(
    root: Path, n_docs: int = N_DOCS, n_claims: int = 10, max_chars: int = MAX_CHARS
) -> tuple[list[tuple[str, str, str]], list[tuple[str, set[str]]]]:
    """(docs [(id, title, text)], claims [(text, judged ids)]): judged abstracts first."""
    data = root / "scifact"
    queries = {q["_id"]: q["text"] for q in map(json.loads, (data / "queries.jsonl").open())}
    qrels: dict[str, set[str]] = {}
    with (data / "qrels.tsv").open() as f:
        for row in csv.DictReader(f, delimiter="\t"):
            qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    qids = sorted(qrels, key=int)[:n_claims]
    judged = set().union(*(qrels[q] for q in qids))
    corpus = [json.loads(line) for line in (data / "corpus.jsonl").open()]
    docs = [d for d in corpus if d["_id"] in judged]
    docs += [d for d in corpus if d["_id"] not in judged][: max(0, n_docs - len(docs))]
    rows = [(d["_id"], d["title"], d["text"][:max_chars]) for d in docs]
    return rows, [(queries[q], qrels[q]) for q in qids]
