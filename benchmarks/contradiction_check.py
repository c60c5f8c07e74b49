"""Does the synthetic contradiction probe rank models like real contradictions do?

Usage::

    python benchmarks/contradiction_check.py [/work/shared/data/scifact] [--n 200]

For each offline model it computes two scores:

* **synthetic**: :func:`build_contradiction_pairs` on a seeded sample of SciFact abstracts
  (minimal pairs flipped by negation/antonyms, query written from the original), scored with
  :func:`contradiction_score_from_vectors`: share of pairs where the original beats its twin.
* **real**: SciFact's ``evidence_labels.tsv`` says, for each judged (claim, abstract) pair,
  whether the abstract SUPPORTs or CONTRADICTs the claim; many abstracts are judged against a
  claim and its negation. For every abstract with at least one supporting and one
  contradicting claim, each (supporting, contradicting) claim pair counts as a win when the
  model scores the supporting claim closer to the abstract (claims embedded as queries, the
  abstract as a document). The score is the share of wins over all such pairs.

It prints both scores per model, both rankings, Kendall's tau between them and whether they
agree on the best model. Abstract vectors are shared with selection_quality.py's cache.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selection_quality import (  # noqa: E402
    CANDIDATES,
    Encoder,
    VectorCache,
    load_corpus,
)

from autoembedding.metrics import kendall_tau  # noqa: E402
from autoembedding.probe.contradiction import (  # noqa: E402
    build_contradiction_pairs,
    contradiction_score_from_vectors,
)
from autoembedding.probe.queries import ProbeDoc  # noqa: E402


def real_pairs(folder: Path) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
    """Abstract id -> supporting claims, -> contradicting claims; claim id -> text."""
    claims = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                claims[str(row["_id"])] = row["text"]
    support: dict[str, list[str]] = defaultdict(list)
    contradict: dict[str, list[str]] = defaultdict(list)
    with (folder / "evidence_labels.tsv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            target = support if row["label"].upper() == "SUPPORT" else contradict
            target[row["corpus-id"]].append(row["query-id"])
    both = {a for a in support if a in contradict}
    return (
        {a: support[a] for a in both},
        {a: contradict[a] for a in both},
        claims,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path, nargs="?", default=Path("/work/shared/data/scifact"))
    parser.add_argument("--n", type=int, default=200, help="synthetic pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-abstracts", type=int, default=0, help="cap on real abstracts (0: all), for speed"
    )
    parser.add_argument("--models", nargs="*", default=list(CANDIDATES))
    args = parser.parse_args(argv)
    folder: Path = args.dataset
    ids, texts, _ = load_corpus(folder)
    index = {doc_id: i for i, doc_id in enumerate(ids)}
    support, contradict, claims = real_pairs(folder)
    abstracts = sorted(support)
    if args.max_abstracts and len(abstracts) > args.max_abstracts:
        keep = np.random.default_rng(args.seed).permutation(len(abstracts))[: args.max_abstracts]
        abstracts = [abstracts[i] for i in sorted(keep)]
    rng = np.random.default_rng(args.seed)
    sample = rng.choice(len(ids), size=min(len(ids), 4 * args.n), replace=False)
    pairs = build_contradiction_pairs(
        [ProbeDoc(ids[i], texts[i]) for i in sample], n=args.n, seed=args.seed
    )
    n_real = sum(len(support[a]) * len(contradict[a]) for a in abstracts)
    print(
        f"{len(pairs)} synthetic pairs; {n_real} real (support, contradict) claim pairs on "
        f"{len(abstracts)} abstracts"
    )
    synthetic: dict[str, float] = {}
    real: dict[str, float] = {}
    for model_id in args.models:
        encoder = Encoder(model_id)
        q = encoder.queries([p.query for p in pairs])
        o = encoder.docs([p.original for p in pairs])
        f = encoder.docs([p.flipped for p in pairs])
        synthetic[model_id] = contradiction_score_from_vectors(q, o, f)
        cache = VectorCache(folder.name, model_id, encoder)
        doc_vecs = cache.docs([texts[index[a]] for a in abstracts])
        claim_ids = sorted({c for a in abstracts for c in support[a] + contradict[a]})
        claim_matrix = encoder.queries([claims[c] for c in claim_ids])
        claim_vecs = dict(zip(claim_ids, claim_matrix, strict=True))
        wins = total = 0.0
        for a, vec in zip(abstracts, doc_vecs, strict=True):
            for s in support[a]:
                for c in contradict[a]:
                    ss, cs = float(claim_vecs[s] @ vec), float(claim_vecs[c] @ vec)
                    wins += 1.0 if ss > cs else 0.5 if ss == cs else 0.0
                    total += 1
        real[model_id] = wins / total if total else float("nan")
        print(
            f"  {model_id:<55} synthetic {synthetic[model_id]:.3f}  real {real[model_id]:.3f}",
            flush=True,
        )
    models = list(args.models)
    syn_rank = sorted(models, key=lambda m: -synthetic[m])
    real_rank = sorted(models, key=lambda m: -real[m])
    tau = kendall_tau([synthetic[m] for m in models], [real[m] for m in models])
    print("synthetic ranking: " + " > ".join(m.split("/")[-1] for m in syn_rank))
    print("real ranking:      " + " > ".join(m.split("/")[-1] for m in real_rank))
    agree = syn_rank[0] == real_rank[0]
    print(f"kendall tau {tau:.3f}; same best model: {agree}")
    print("AGREE" if tau > 0 and agree else "DISAGREE")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
