"""Which label-free query kind ranks the candidates like the real queries? (research harness)

Scores every candidate of the probe (the offline dense models, ``bm25`` with the language's
tokenizer, and both hybrids of BM25 with each dense model: convex with a cross-validated
weight, and RRF k=60) on one search pool with several kinds of probe queries, and prints, per
kind, each candidate's nDCG@10 beside its ground truth (the dataset's real judged queries over
the ground-truth corpus of ``selection_quality.py``) and Kendall's tau between the two:

* ``claims``: the dataset's real queries on this pool (the reference);
* ``title``: the document's title as the query, the document as the answer;
* ``ict``: a middle sentence cut out as the query, the rest of the document as the answer;
* ``ict-keep``: the same sentence as the query, the sentence left in the document;
* ``ict-masked``: ``ict`` with the sentence's rarest word shared with the rest masked out;
* ``lead`` / ``last``: the first / last sentence cut out instead of a middle one;
* ``probe``: what ``build_label_free`` makes with its defaults (the probe's own queries);
  ``probe-keep0.5``: the same with ``keep_share=0.5`` (half the ICT sentences left in).

Usage::

    python benchmarks/probe_variants.py /work/shared/data/scifact --pool 200 --seed 1
    python benchmarks/probe_variants.py /work/shared/data/cmrc2018-zh --gt-docs 0 --pool 300
    python benchmarks/probe_variants.py DATASET --kinds claims,ict --json out.json

Vectors are cached with ``selection_quality.py``'s cache (``benchmarks/.cache``), keyed by
text (documents and queries apart), so the ground-truth corpus is embedded once and each run
embeds only the shortened documents and new queries. ``--gt-docs``/``--gt-queries`` pick the
same ground-truth subcorpus as ``selection_quality.py``; the pool is a seeded sample of it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import selection_quality as sq  # noqa: E402

from autoembedding.metrics import kendall_tau  # noqa: E402
from autoembedding.probe.queries import (  # noqa: E402
    ProbeDoc,
    build_label_free,
    split_sentences,
)
from autoembedding.probe.queries.base import document_frequency  # noqa: E402
from autoembedding.probe.queries.ict import ict_query  # noqa: E402
from autoembedding.probe.queries.text import terms  # noqa: E402

KINDS = ("claims", "title", "ict", "ict-keep", "ict-masked", "lead", "last", "probe")


def make_query(
    kind: str, text: str, title: str, rng: random.Random, df: Counter[str], n: int
) -> tuple[str, str] | None:
    """``(query, answer text)`` of one kind from one document, or ``None``.

    ``ict``, ``ict-keep`` and ``ict-masked`` are the probe's own ICT (``queries.ict.ict_query``),
    so with the same seed they cut the same sentence and differ only in the masking and in
    whether the sentence stays in its document.
    """
    if kind == "title":
        return (title, text) if title and len(terms(title)) >= 2 else None
    if kind in ("ict", "ict-keep", "ict-masked"):
        made = ict_query(
            ProbeDoc("d", text), rng, df, n, mask_min_terms=1 if kind == "ict-masked" else 0
        )
        if made is None:
            return None
        return made[0].text, text if kind == "ict-keep" else made[1]
    sentences = split_sentences(text)
    if len(sentences) < 3:
        return None
    i = 0 if kind == "lead" else len(sentences) - 1
    sentence, rest = sentences[i], " ".join(sentences[:i] + sentences[i + 1 :])
    return (sentence, rest) if len(terms(sentence)) >= 3 else None


def kind_pairs(
    kind: str,
    base: dict[str, str],
    title_of: dict[str, str],
    order: list[str],
    judged: list,
    args: argparse.Namespace,
) -> tuple[list[tuple[str, frozenset[str]]], dict[str, str]]:
    """The queries of one kind and the pool texts they search (id -> text)."""
    pool = dict(base)
    if kind == "claims":
        pairs = [(text, rel & set(base)) for text, rel in judged]
        return [(t, r) for t, r in pairs if r], pool
    if kind.startswith("probe"):
        docs = [
            ProbeDoc(d, base[d], {"title": title_of[d]} if title_of[d] else None) for d in order
        ]
        keep = float(kind.partition("-keep")[2] or 0.0)
        probe_set = build_label_free(
            docs, n_queries=args.n_queries, seed=args.seed, keep_share=keep
        )
        return [(q.text, q.relevant) for q in probe_set.queries], dict(
            zip(probe_set.doc_ids, probe_set.texts, strict=True)
        )
    rng = random.Random(args.seed)
    df = document_frequency(base.values())
    pairs = []
    for doc_id in order[: 2 * args.n_queries]:
        if len(pairs) >= args.n_queries:
            break
        made = make_query(kind, base[doc_id], title_of[doc_id], rng, df, len(base))
        if made:
            pairs.append((made[0], frozenset({doc_id})))
            pool[doc_id] = made[1]
    return pairs, pool


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--pool", type=int, default=200, help="documents in the search pool")
    parser.add_argument("--n-queries", type=int, default=100)
    parser.add_argument("--cut", type=int, default=0, help="cut documents to N chars (0: whole)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="*", default=list(sq.CANDIDATES))
    parser.add_argument("--gt-docs", type=int, default=1500, help="0: the whole corpus")
    parser.add_argument("--gt-queries", type=int, default=809)
    parser.add_argument("--json", type=Path, default=None, help="write the table here")
    args = parser.parse_args(argv)
    folder: Path = args.dataset
    ids, texts, titles = sq.load_corpus(folder)
    caches = {m: sq.VectorCache(folder.name, m, sq.Encoder(m)) for m in args.models}
    labels = sq.candidate_labels(args.models)
    rows, judged = sq.ground_truth_subset(folder, args.gt_queries, args.gt_docs)
    gt_ids = [ids[i] for i in rows]
    truth_pq = sq.score_candidates(
        gt_ids,
        [texts[i] for i in rows],
        [q for q, _ in judged],
        [r for _, r in judged],
        caches,
        args.seed,
    )
    truth = {k: float(v.mean()) for k, v in truth_pq.items()}
    pick = list(np.random.default_rng(args.seed).permutation(rows)[: args.pool])
    base = {ids[i]: texts[i][: args.cut] if args.cut else texts[i] for i in pick}
    title_of = {ids[i]: titles[i] for i in pick}
    order = [ids[i] for i in pick]
    table: dict[str, dict[str, float]] = {"truth": truth}
    for kind in args.kinds.split(","):
        pairs, pool = kind_pairs(kind, base, title_of, order, judged, args)
        if not pairs:
            print(f"\n== {kind}: no queries")
            continue
        pool_ids = list(pool)
        per_query = sq.score_candidates(
            pool_ids,
            [pool[k] for k in pool_ids],
            [t for t, _ in pairs],
            [r for _, r in pairs],
            caches,
            args.seed,
        )
        scores = {k: float(v.mean()) for k, v in per_query.items()}
        table[kind] = scores
        tau = kendall_tau([scores[m] for m in labels], [truth[m] for m in labels])
        tau_dense = kendall_tau([scores[m] for m in args.models], [truth[m] for m in args.models])
        best = sq.short(max(scores, key=lambda m: scores[m]))
        print(
            f"\n== {kind}: {len(pairs)} queries, pool {len(pool_ids)}, seed {args.seed}; "
            f"tau {tau:.3f} (dense only {tau_dense:.3f}); best {best}"
        )
        for label in sorted(labels, key=lambda m: -truth[m]):
            print(f"   {sq.short(label):<60} {scores[label]:.4f}   truth {truth[label]:.4f}")
        sys.stdout.flush()
    print(f"\ntruth best: {sq.short(max(truth, key=lambda m: truth[m]))}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
