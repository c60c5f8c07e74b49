"""Does the label-free probe pick the right model? Compare its ranking with the qrels' ranking.

Usage::

    python benchmarks/selection_quality.py DATASET_DIR [--n-docs 200] [--budget-s 100]
    python benchmarks/selection_quality.py DATASET_DIR --ground-truth-only   # warm the cache

``DATASET_DIR`` is a BEIR-layout folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``).

What it does:

1. Loads the corpus into an in-memory Chroma collection: documents = ``text``, metadata =
   ``{"title": title}`` when a title is present. The stored vectors come from the deterministic
   ``FakeAdapter`` only so the load is fast; the probe reads the *documents* (and metadata) and
   embeds them itself with each candidate, so the stored vectors play no part in the result.
2. Runs the label-free probe on that collection: ``autoembedding.selector.probe``, or with
   ``--harness`` the minimal harness below (sample documents, :func:`build_label_free`, embed
   the pool with each candidate, :func:`score_candidates`). No qrels are used here.
3. Computes the ground truth from the qrels: embeds the ground-truth corpus with each model
   (cached in ``benchmarks/.cache/<dataset>-<model>.npz``, queries in
   ``<dataset>-queries-<model>.npz``), indexes it with BM25, fuses both for the hybrids and
   scores every judged query with nDCG@10 (:func:`score_candidates`, the probe's own scoring).
4. Prints both rankings (the probe's is its report's order: candidates it dropped early as
   clearly beaten rank below the finalists), Kendall's tau between them and the regret
   (ground-truth nDCG@10 of the best candidate minus that of the probe's pick). Targets:
   regret <= 0.01, tau >= 0.6.

Candidates: the four offline catalog models, each embedded by the package's own adapter,
``bm25`` (tokenizer for the language detected from the documents) and, for each model, its
convex (``hybrid:``) and RRF (``hybrid-rrf:``) fusion with ``bm25``. The probe makes hybrids only
of the models that survive its first stage. Kendall's tau is taken over the candidates the
probe scored (a hybrid it never made, or a model the budget cut or skipped, has no place in its
ranking); the tau with those tied last below every scored candidate is printed beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autoembedding.metrics import kendall_tau, per_query_metrics  # noqa: E402

CANDIDATES = (
    "sentence-transformers/all-MiniLM-L6-v2",
    "sentence-transformers/all-MiniLM-L6-v2:onnx-int8",
    "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx",
    "intfloat/multilingual-e5-small:q4",
)
CACHE = Path(__file__).resolve().parent / ".cache"


# --------------------------------------------------------------------------- encoders
class Encoder:
    """Embeds documents and queries with one candidate, through the package's own adapter."""

    def __init__(self, model_id: str) -> None:
        from autoembedding.candidates import Candidate

        self.model_id = model_id
        adapter = Candidate(model_id).build()
        adapter.embed_documents(["warm-up"])
        self._docs: Callable[[list[str]], list[list[float]]] = adapter.embed_documents
        self._queries: Callable[[list[str]], list[list[float]]] = adapter.embed_queries

    def docs(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised document vectors."""
        return np.asarray(self._docs(list(texts)), dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised query vectors."""
        return np.asarray(self._queries(list(texts)), dtype=np.float32)


# --------------------------------------------------------------------------- data
def load_corpus(folder: Path) -> tuple[list[str], list[str], list[str]]:
    """Ids, texts and titles of a BEIR corpus, in file order."""
    ids, texts, titles = [], [], []
    with (folder / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                ids.append(str(row["_id"]))
                texts.append(row.get("text") or "")
                titles.append(row.get("title") or "")
    return ids, texts, titles


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


class VectorCache:
    """Document vectors of one model on one dataset, on disk, keyed by a hash of the text.

    Keyed by text (not id), so full documents and ICT-shortened ones share one file, and an
    interrupted run keeps what it embedded (saved every chunk).
    """

    def __init__(self, dataset: str, model_id: str, encoder: Encoder) -> None:
        CACHE.mkdir(exist_ok=True)
        self.path = CACHE / f"{_slug(dataset)}-{_slug(model_id)}.npz"
        self.model_id = model_id
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            data = np.load(self.path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]

    def save(self) -> None:
        if self.path.exists():  # merge what another process saved meanwhile
            try:
                data = np.load(self.path)
                for k, v in zip(data["keys"].tolist(), data["vectors"], strict=True):
                    self.vectors.setdefault(k, v)
            except (OSError, ValueError, KeyError):
                pass
        keys = list(self.vectors)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        tmp.replace(self.path)

    def docs(self, texts: Sequence[str], chunk: int = 64) -> np.ndarray:
        """Vectors of ``texts``, embedding (and saving) only the ones not cached yet."""
        keys = [self.key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}
        missing = sorted(todo.items())
        if missing:
            start = time.perf_counter()
            for at in range(0, len(missing), chunk):
                part = missing[at : at + chunk]
                vecs = self.encoder.docs([t for _, t in part])
                self.vectors.update((k, v) for (k, _), v in zip(part, vecs, strict=True))
                self.save()
            print(
                f"  embedded {len(missing)} docs with {self.model_id} "
                f"in {time.perf_counter() - start:.0f}s",
                flush=True,
            )
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)


class _QueryEncoder:
    """An encoder whose ``docs`` embeds queries (so a :class:`VectorCache` caches queries)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def docs(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.queries(texts)


_QUERY_CACHES: dict[int, VectorCache] = {}


def query_vectors(cache: VectorCache, texts: Sequence[str]) -> np.ndarray:
    """Query vectors of ``texts`` for ``cache``'s model, cached on disk like documents."""
    qcache = _QUERY_CACHES.get(id(cache))
    if qcache is None:
        dataset = cache.path.name.split("-" + _slug(cache.model_id))[0] + "-queries"
        qcache = VectorCache(dataset, cache.model_id, _QueryEncoder(cache.encoder))  # type: ignore[arg-type]
        _QUERY_CACHES[id(cache)] = qcache
    return qcache.docs(texts)


def ground_truth_subset(
    folder: Path, n_queries: int, n_docs: int, seed: int = 1234
) -> tuple[list[int], list[tuple[str, frozenset[str]]]]:
    """Corpus rows and judged queries of the ground truth.

    ``n_docs <= 0`` means the whole corpus and every judged query. Otherwise ``n_queries``
    judged queries drawn at random, all their relevant documents, and random other documents
    up to ``n_docs`` (a full-corpus ground truth is hours of CPU for the e5 model here).
    """
    from autoembedding.probe.queries import load_beir

    ids, _, _ = load_corpus(folder)
    judged = load_beir(folder / "queries.jsonl", folder / "qrels.tsv")
    if n_docs <= 0:
        return list(range(len(ids))), judged
    rng = np.random.default_rng(seed)
    index = {doc_id: i for i, doc_id in enumerate(ids)}
    chosen = [judged[i] for i in sorted(rng.permutation(len(judged))[:n_queries])]
    rows = {index[d] for _, rel in chosen for d in rel if d in index}
    others = [i for i in rng.permutation(len(ids)) if i not in rows]
    rows.update(others[: max(0, n_docs - len(rows))])
    return sorted(rows), chosen


def ground_truth(
    folder: Path, caches: dict[str, VectorCache], rows: list[int], judged: list
) -> dict[str, float]:
    """Mean nDCG@10 of every candidate (dense, ``bm25``, hybrids) over the judged queries.

    Scored on the ground-truth corpus ``rows`` exactly as the probe scores a candidate
    (:func:`score_candidates`); a convex hybrid's weight is cross-validated on the real queries.
    """
    ids, texts, _ = load_corpus(folder)
    per_query = score_candidates(
        [ids[i] for i in rows],
        [texts[i] for i in rows],
        [q for q, _ in judged],
        [rel for _, rel in judged],
        caches,
    )
    out = {label: float(v.mean()) for label, v in per_query.items()}
    for label, value in out.items():
        print(f"  ground truth {short(label)}: nDCG@10 {value:.4f}", flush=True)
    return out


def candidate_labels(models: list[str]) -> list[str]:
    """Dense models, ``bm25``, then both hybrids of each model (the probe's labels)."""
    out = list(models) + ["bm25"]
    for m in models:
        out += [f"hybrid:{m}+bm25", f"hybrid-rrf:{m}+bm25"]
    return out


def short(label: str) -> str:
    """A label without the organisation prefixes, for tables."""
    return label.replace("sentence-transformers/", "").replace("intfloat/", "")


def score_candidates(
    doc_ids: list[str],
    doc_texts: list[str],
    queries: list[str],
    relevant: list[frozenset[str]],
    caches: dict[str, VectorCache],
    seed: int = 0,
    weights: dict[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Per-query nDCG@10 of every candidate on one pool, as the probe scores them.

    Dense: cosine over the pool. ``bm25``: the documents sharing a term, tokenized for the
    language detected from the pool. Hybrids: :func:`~autoembedding.probe.hybrid.
    score_hybrid` (convex weight out of fold). ``weights``, when given, receives each model's
    served convex weight (the one chosen on all the queries).
    """
    from autoembedding.lexical import BM25Index, Tokenizer
    from autoembedding.probe.hybrid import (
        lexical_rankings,
        ranking_metrics,
        score_hybrid,
    )

    out: dict[str, np.ndarray] = {}
    dense: dict[str, np.ndarray] = {}
    for model_id, cache in caches.items():
        sims = query_vectors(cache, queries) @ cache.docs(doc_texts).T
        dense[model_id] = sims
        out[model_id] = per_query_metrics(sims, doc_ids, relevant)["ndcg@10"]
    index = BM25Index.build(doc_ids, doc_texts, Tokenizer.from_label("bm25", doc_texts))
    lexical = np.stack([index.scores(q) for q in queries])
    out["bm25"] = ranking_metrics(lexical_rankings(lexical, doc_ids), relevant)["ndcg@10"]
    for model_id, sims in dense.items():
        for fusion, prefix in (("convex", "hybrid"), ("rrf", "hybrid-rrf")):
            scored = score_hybrid(
                fusion, sims, lexical, doc_ids, relevant, labels=(model_id, "bm25"), seed=seed
            )
            out[f"{prefix}:{model_id}+bm25"] = scored.per_query["ndcg@10"]
            if fusion == "convex" and weights is not None:
                weights[model_id] = float(scored.details["weight"])
    return out


# --------------------------------------------------------------------------- label-free probe
def load_collection(folder: Path, ids: list[str], texts: list[str], titles: list[str]):
    """An in-memory Chroma collection of the corpus, with FakeAdapter vectors (fast to load)."""
    import chromadb

    from autoembedding.adapters.fake import FakeAdapter

    client = chromadb.EphemeralClient()
    name = _slug(folder.name)[:50] or "dataset"
    try:
        client.delete_collection(name)
    except Exception:  # noqa: BLE001 - not there yet
        pass
    collection = client.create_collection(name, embedding_function=None)
    fake = FakeAdapter("loader", dim=32)
    for start in range(0, len(ids), 1000):
        stop = start + 1000
        metadatas = [{"title": t} if t else None for t in titles[start:stop]]
        collection.add(
            ids=ids[start:stop],
            documents=texts[start:stop],
            embeddings=fake.embed_documents(texts[start:stop]),
            metadatas=metadatas,  # type: ignore[arg-type]
        )
    return collection


class Outcome(NamedTuple):
    """What a probe run gives: nDCG@10 per candidate, the pick, a summary, the ranking."""

    scores: dict[str, float]
    winner: str
    summary: str
    ranking: list[str]
    dropped: dict[str, str]


def run_probe(collection, models: list[str], args: argparse.Namespace) -> Outcome:
    """``autoembedding.selector.probe`` on the collection.

    A candidate the probe dropped early ("clearly beaten") was scored on fewer, earlier queries
    than the finalists, so its nDCG@10 is not comparable with theirs; the probe's ranking is its
    report's order (winner, finalists by nDCG@10, then the dropped ones).
    """
    from autoembedding.selector import probe

    report = probe(
        collection,
        candidates=[*models, "bm25"],
        lexical=True,
        seed=args.seed,
        sample_size=args.n_docs,
        n_queries=args.n_queries,
        budget_s=args.budget_s,
        candidate_timeout_s=1800,
    )
    scores = {r.candidate.label: r.metrics.get("ndcg@10", float("nan")) for r in report.results}
    winner = report.winner.candidate.label if report.winner else ""
    print(f"probe's reason: {report.reason}")
    print(f"probe() itself: {report.seconds:.1f} s (the collection was loaded before)")
    for r in report.results:
        gain = r.lexical.get("gain_over_part") or r.lexical.get("not_picked")
        if gain:
            print(f"  {short(r.candidate.label)}: {gain}")
    kinds = f"{report.query_kind}, {report.n_queries} queries, {report.n_docs} docs"
    if report.notes:
        kinds += "\n  " + "\n  ".join(report.notes)
    # errored candidates (cut or skipped by the budget) were never scored: not in the ranking
    ranking = [r.candidate.label for r in report.results if r.error is None]
    dropped = {r.candidate.label: r.dropped for r in report.results if r.dropped}
    return Outcome(scores, winner, kinds, ranking, dropped)


def run_harness(
    folder: Path,
    rows: list[int],
    caches: dict[str, VectorCache],
    args: argparse.Namespace,
) -> Outcome:
    """The minimal harness: sample, build_label_free, embed the pool, per_query_metrics.

    The pool is a seeded sample of ``rows`` (the ground-truth corpus, so the unchanged pool
    documents reuse its cached vectors); only the queries and the documents the query builder
    changed are embedded anew.
    """
    from autoembedding.probe.queries import ProbeDoc, build_label_free

    ids, texts, titles = load_corpus(folder)
    rng = np.random.default_rng(args.seed)
    pick = rng.permutation(rows)[: args.n_docs or 200]
    docs = [
        ProbeDoc(
            ids[i],
            texts[i][: args.max_doc_chars] if args.max_doc_chars else texts[i],
            {"title": titles[i]} if titles[i] else None,
        )
        for i in pick
    ]
    knobs = {
        name: getattr(args, name)
        for name in ("title_share", "mask_share", "keep_share")
        if getattr(args, name) is not None
    }
    probe_set = build_label_free(
        docs, n_queries=args.n_queries or len(docs), seed=args.seed, **knobs
    )
    q_texts = [q.text for q in probe_set.queries]
    relevant = [q.relevant for q in probe_set.queries]
    per_query = score_candidates(
        probe_set.doc_ids, probe_set.texts, q_texts, relevant, caches, args.seed
    )
    scores = {label: float(v.mean()) for label, v in per_query.items()}
    winner = max(scores, key=lambda m: scores[m])
    kinds = f"label-free harness, kinds {probe_set.kinds}, {len(probe_set.pool)} docs"
    return Outcome(scores, winner, kinds, _ranking(scores, list(scores)), {})


def _ranking(scores: dict[str, float], models: list[str]) -> list[str]:
    return sorted(models, key=lambda m: -scores.get(m, float("-inf")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--ground-truth-only", action="store_true")
    parser.add_argument("--harness", action="store_true", help="use the minimal harness")
    parser.add_argument("--models", nargs="*", default=list(CANDIDATES))
    parser.add_argument(
        "--n-docs", type=int, default=None, help="probe pool size (default: the probe's, 200)"
    )
    parser.add_argument(
        "--n-queries",
        type=int,
        default=None,
        help="probe queries (default: the probe's, one per pool document)",
    )
    parser.add_argument("--budget-s", type=float, default=None, help="the probe's time budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-doc-chars",
        type=int,
        default=0,
        help="harness: cut pool documents (0: whole, reusing the ground-truth vectors)",
    )
    parser.add_argument("--gt-queries", type=int, default=200, help="judged queries scored")
    parser.add_argument(
        "--gt-docs",
        type=int,
        default=0,
        help="ground-truth corpus size (default 0: the whole corpus and every judged query)",
    )
    parser.add_argument(
        "--title-share", type=float, default=None, help="harness only: build_label_free knob"
    )
    parser.add_argument(
        "--mask-share", type=float, default=None, help="harness only: build_label_free knob"
    )
    parser.add_argument(
        "--keep-share", type=float, default=None, help="harness only: build_label_free knob"
    )
    args = parser.parse_args(argv)
    knobs = (args.title_share, args.mask_share, args.keep_share)
    if not args.harness and any(k is not None for k in knobs):
        parser.error("--title/mask/keep-share are knobs of the harness: add --harness")
    folder: Path = args.dataset
    encoders = {m: Encoder(m) for m in args.models}
    print(f"dataset {folder.name}; candidates: " + ", ".join(encoders), flush=True)
    caches = {m: VectorCache(folder.name, m, e) for m, e in encoders.items()}
    rows, judged = ground_truth_subset(folder, args.gt_queries, args.gt_docs)
    print(f"ground truth: {len(judged)} judged queries over {len(rows)} documents", flush=True)
    gt = ground_truth(folder, caches, rows, judged)
    if args.ground_truth_only:
        return 0
    start = time.perf_counter()
    if not args.harness:
        ids, texts, titles = load_corpus(folder)
        sub = [ids[i] for i in rows], [texts[i] for i in rows], [titles[i] for i in rows]
        collection = load_collection(folder, *sub)
        outcome = run_probe(collection, args.models, args)
    else:
        outcome = run_harness(folder, rows, caches, args)
    probe_scores, winner, kinds, probe_rank, dropped = outcome
    seconds = time.perf_counter() - start
    labels = [m for m in candidate_labels(list(args.models)) if m in gt]
    gt_rank = _ranking(gt, labels)
    # The probe's order; candidates it never made (hybrids of models dropped in the first
    # stage) tie below every candidate it scored.
    position = {m: -i for i, m in enumerate(r for r in probe_rank if r in gt)}
    floor = -len(position)
    made = [m for m in labels if m in position]
    tau = kendall_tau([position[m] for m in made], [gt[m] for m in made])
    tau_all = kendall_tau([position.get(m, floor) for m in labels], [gt[m] for m in labels])
    regret = gt[gt_rank[0]] - gt.get(winner, float("nan"))
    print(f"\nprobe: {kinds}; {seconds:.0f} s")
    print(f"{'candidate':<60} {'probe nDCG@10':>13} {'truth nDCG@10':>13}")
    for m in [r for r in probe_rank if r in gt] + [m for m in labels if m not in position]:
        why = f"  (dropped: {dropped[m]})" if m in dropped else ""
        why = why if m in position else "  (not scored: not made, or cut/skipped by the budget)"
        print(f"{short(m):<60} {probe_scores.get(m, float('nan')):>13.4f} {gt[m]:>13.4f}{why}")
    for extra in sorted(set(probe_scores) - set(labels)):
        print(f"{short(extra):<60} {probe_scores[extra]:>13.4f}")
    print("probe ranking: " + " > ".join(short(m) for m in probe_rank if m in gt))
    print("truth ranking: " + " > ".join(short(m) for m in gt_rank))
    print(f"chosen: {winner}; truth best: {gt_rank[0]}")
    print(
        f"kendall tau {tau:.3f} over the {len(made)} candidates the probe scored (target >= 0.6); "
        f"{tau_all:.3f} over all {len(labels)}, those it never made tied last"
    )
    print(f"regret {regret:.4f} (target <= 0.01)")
    ok = tau >= 0.6 and regret <= 0.01
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
