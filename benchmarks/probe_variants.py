"""Which label-free query kind ranks the models like the real queries? (research harness)

Scores the offline models on one search pool with several kinds of probe queries and prints,
per kind, each model's nDCG@10 beside its ground truth (the dataset's real judged queries over
the ground-truth corpus of ``selection_quality.py``) and Kendall's tau between the two:

* ``claims``: the dataset's real queries on this pool (the reference);
* ``title``: the document's title as the query, the document as the answer;
* ``ict``: a middle sentence cut out as the query, the rest of the document as the answer
  (what the probe does);
* ``ict-masked``: the same with the sentence's rarest word shared with the rest masked out;
* ``lead`` / ``last``: the first / last sentence cut out instead of a middle one.

Usage::

    python benchmarks/probe_variants.py /work/shared/data/scifact --pool 200 --seed 1
    python benchmarks/probe_variants.py DATASET --pool 300 --cut 500   # documents cut to 500

Vectors are cached with ``selection_quality.py``'s cache (``benchmarks/.cache``), keyed by
text, so the ground-truth corpus is embedded once and each run embeds only the shortened
documents and the queries. ``--gt-docs``/``--gt-queries`` pick the same ground-truth subcorpus
as ``selection_quality.py``; the pool is a seeded sample of it.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import selection_quality as sq  # noqa: E402

from autoembedding.selector.probing.metrics import kendall_tau, per_query_metrics  # noqa: E402
from autoembedding.selector.probing.queries import (  # noqa: E402
    ProbeDoc,
    ProbeQuery,
    ProbeSet,
    split_sentences,
)
from autoembedding.selector.probing.queries.base import document_frequency  # noqa: E402
from autoembedding.selector.probing.queries.ict import ict_query  # noqa: E402
from autoembedding.selector.probing.queries.text import terms  # noqa: E402

KINDS = ("claims", "title", "ict", "ict-masked", "lead", "last")


def make_query(
    kind: str, text: str, title: str, rng: random.Random, df: Counter[str], n: int
) -> tuple[str, str] | None:
    """``(query, answer text)`` of one kind from one document, or ``None``.

    ``ict`` and ``ict-masked`` are the probe's own ICT (``queries.ict.ict_query``), so with the
    same seed they cut the same sentence and differ only in the masking (``mask_min_terms``).
    """
    if kind == "title":
        return (title, text) if title and len(terms(title)) >= 2 else None
    if kind in ("ict", "ict-masked"):
        made = ict_query(
            ProbeDoc("d", text), rng, df, n, mask_min_terms=1 if kind == "ict-masked" else 0
        )
        return None if made is None else (made[0].text, made[1])
    sentences = split_sentences(text)
    if len(sentences) < 3:
        return None
    i = 0 if kind == "lead" else len(sentences) - 1
    sentence, rest = sentences[i], " ".join(sentences[:i] + sentences[i + 1 :])
    return (sentence, rest) if len(terms(sentence)) >= 3 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--pool", type=int, default=200, help="documents in the search pool")
    parser.add_argument("--n-queries", type=int, default=100)
    parser.add_argument("--cut", type=int, default=0, help="cut documents to N chars (0: whole)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="*", default=list(sq.CANDIDATES))
    parser.add_argument("--gt-docs", type=int, default=1500)
    parser.add_argument("--gt-queries", type=int, default=809)
    args = parser.parse_args(argv)
    folder: Path = args.dataset
    ids, texts, titles = sq.load_corpus(folder)
    caches = {m: sq.VectorCache(folder.name, m, sq.Encoder(m)) for m in args.models}
    rows, judged = sq.ground_truth_subset(folder, args.gt_queries, args.gt_docs)
    truth = sq.ground_truth(folder, caches, rows, judged)
    pick = list(np.random.default_rng(args.seed).permutation(rows)[: args.pool])
    base = {ids[i]: texts[i][: args.cut] if args.cut else texts[i] for i in pick}
    title_of = {ids[i]: titles[i] for i in pick}
    df = document_frequency(base.values())
    for kind in args.kinds.split(","):
        rng = random.Random(args.seed)
        pool = dict(base)
        if kind == "claims":
            pairs = [(text, rel & set(base)) for text, rel in judged]
            pairs = [(text, rel) for text, rel in pairs if rel]
        else:
            pairs = []
            for doc_id in [ids[i] for i in pick[: 2 * args.n_queries]]:
                if len(pairs) >= args.n_queries:
                    break
                made = make_query(kind, base[doc_id], title_of[doc_id], rng, df, len(base))
                if made:
                    pairs.append((made[0], frozenset({doc_id})))
                    pool[doc_id] = made[1]
        if not pairs:
            print(f"\n== {kind}: no queries")
            continue
        pool_ids = list(pool)
        texts_now = [pool[k] for k in pool_ids]
        relevant = [rel for _, rel in pairs]
        scores = {}
        for model_id, cache in caches.items():
            vectors = cache.docs(texts_now)
            sims = cache.encoder.queries([t for t, _ in pairs]) @ vectors.T
            scores[model_id] = float(per_query_metrics(sims, pool_ids, relevant)["ndcg@10"].mean())
        probe_set = ProbeSet(
            [ProbeQuery(t, r, kind) for t, r in pairs],
            [ProbeDoc(k, pool[k]) for k in pool_ids],
            kind,
        )
        bm25 = sq._bm25_ndcg(probe_set, [t for t, _ in pairs], relevant)
        tau = kendall_tau([scores[m] for m in args.models], [truth[m] for m in args.models])
        print(
            f"\n== {kind}: {len(pairs)} queries, pool {len(pool_ids)}, cut {args.cut or 'none'}, "
            f"seed {args.seed}; tau {tau:.3f}"
        )
        for model_id in args.models:
            print(f"   {model_id:<55} {scores[model_id]:.4f}   truth {truth[model_id]:.4f}")
        print(f"   {'(bm25 reference)':<55} {bm25:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
