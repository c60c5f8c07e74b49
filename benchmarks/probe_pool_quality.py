"""Issue 23.5: does the probe's order follow the real judgments' order, before and after the
harder pool? Kendall's tau and the regret of the pick on a BEIR folder and its short-chunk copy.

Usage::

    # the package under test: a tree exported with `git archive <commit> autoembedding`
    python benchmarks/probe_pool_quality.py DATASET_DIR [--short] [--package-root DIR]
        [--label after] [--seed 0] [--budget-s 120] [--out benchmarks/results/probe_pool.jsonl]
    python benchmarks/probe_pool_quality.py --table benchmarks/results/probe_pool_quality.jsonl

``--short`` splits every document into chunks of at most two sentences (ids ``<id>#<k>``,
metadata ``{"title": <the document's title>, "source": <the document's id>}``) and counts
every chunk of a judged document as relevant (the shared sets have no sentence-level
judgments), so the probe sees what a user's chunked collection looks like: short documents,
siblings, one title per source.

The ground truth is :mod:`selection_quality`'s: every candidate (dense models, ``bm25``, both
hybrids of each model) scored with nDCG@10 on every judged query over the whole corpus (vectors
cached in ``benchmarks/.cache``). The probe is ``autoembedding.selector.probe`` with its
defaults (label-free queries, 200-document sample) on an in-memory Chroma collection of the
corpus (fake stored vectors: the probe embeds the texts itself). ``--package-root`` puts that
tree's ``autoembedding`` first, so one checkout measures a commit before and after a change.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--short", action="store_true", help="<=2-sentence chunks of each doc")
    parser.add_argument("--package-root", type=Path, default=None)
    parser.add_argument("--label", default="working tree")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-s", type=float, default=None)
    parser.add_argument(
        "--models",
        nargs="*",
        default=[
            "sentence-transformers/all-MiniLM-L6-v2",
            "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx",
        ],
    )
    parser.add_argument("--out", type=Path, default=None, help="append one JSON line here")
    return parser.parse_args()


def short_copy(folder: Path, cache: Path) -> Path:
    """A BEIR folder of ``folder``'s documents cut into chunks of at most two sentences."""
    from autoembedding.probe.queries import split_sentences

    out = cache / f"{folder.name}-short2"
    if (out / "qrels.tsv").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    chunks: dict[str, list[str]] = {}
    with (
        (folder / "corpus.jsonl").open(encoding="utf-8") as src,
        (out / "corpus.jsonl").open("w", encoding="utf-8") as dst,
    ):
        for line in src:
            if not line.strip():
                continue
            row = json.loads(line)
            sentences = split_sentences(row.get("text") or "")
            for k in range(0, len(sentences), 2):
                chunk_id = f"{row['_id']}#{k // 2}"
                chunks.setdefault(str(row["_id"]), []).append(chunk_id)
                text = " ".join(sentences[k : k + 2])
                chunk = {"_id": chunk_id, "title": row.get("title") or "", "text": text}
                chunk["source"] = str(row["_id"])
                dst.write(json.dumps(chunk, ensure_ascii=False) + "\n")
    (out / "queries.jsonl").write_bytes((folder / "queries.jsonl").read_bytes())
    with (
        (folder / "qrels.tsv").open(encoding="utf-8") as src,
        (out / "qrels.tsv").open("w", encoding="utf-8") as dst,
    ):
        dst.write("query-id\tcorpus-id\tscore\n")
        for n, line in enumerate(src):
            parts = line.rstrip("\n").split("\t")
            if n == 0 or len(parts) < 3:
                continue
            for chunk_id in chunks.get(parts[1], []):
                dst.write(f"{parts[0]}\t{chunk_id}\t{parts[2]}\n")
    return out


def load_collection(folder: Path):
    """An in-memory Chroma collection of a BEIR folder: title (and source) in the metadata."""
    import chromadb

    from autoembedding.adapters.fake import FakeAdapter

    rows = [json.loads(x) for x in (folder / "corpus.jsonl").open(encoding="utf-8") if x.strip()]
    client = chromadb.EphemeralClient()
    name = f"bench-{abs(hash(folder.name)) % 10**8}"
    try:
        client.delete_collection(name)
    except Exception:  # noqa: BLE001 - not there yet
        pass
    collection = client.create_collection(name, embedding_function=None)
    fake = FakeAdapter("loader", dim=32)
    for start in range(0, len(rows), 1000):
        part = rows[start : start + 1000]
        metas = []
        for r in part:
            meta = {k: r[k] for k in ("title", "source") if r.get(k)}
            metas.append(meta or None)
        texts = [r.get("text") or "" for r in part]
        collection.add(
            ids=[str(r["_id"]) for r in part],
            documents=texts,
            embeddings=fake.embed_documents(texts),
            metadatas=metas,
        )
    return collection


def main() -> int:
    args = _args()
    here = Path(__file__).resolve().parent
    if args.package_root is not None:
        sys.path.insert(0, str(args.package_root.resolve()))
    import autoembedding  # the tree under test, before selection_quality adds this checkout

    sys.path.append(str(here))
    sq = importlib.import_module("selection_quality")
    from autoembedding.metrics import kendall_tau
    from autoembedding.selector import probe

    folder = short_copy(args.dataset, sq.CACHE) if args.short else args.dataset
    name = folder.name
    encoders = {m: sq.Encoder(m) for m in args.models}
    caches = {m: sq.VectorCache(name, m, e) for m, e in encoders.items()}
    rows, judged = sq.ground_truth_subset(folder, 0, 0)
    gt = sq.ground_truth(folder, caches, rows, judged)
    collection = load_collection(folder)
    start = time.perf_counter()
    report = probe(
        collection,
        candidates=[*args.models, "bm25"],
        lexical=True,
        seed=args.seed,
        budget_s=args.budget_s,
        candidate_timeout_s=1800,
    )
    seconds = time.perf_counter() - start
    scores = {r.candidate.label: r.metrics.get("ndcg@10", float("nan")) for r in report.results}
    ranking = [r.candidate.label for r in report.results if r.error is None and r.metrics]
    labels = [m for m in sq.candidate_labels(list(args.models)) if m in gt]
    truth = sorted(labels, key=lambda m: -gt[m])
    position = {m: -i for i, m in enumerate(r for r in ranking if r in gt)}
    made = [m for m in labels if m in position]
    tau = kendall_tau([position[m] for m in made], [gt[m] for m in made])
    winner = report.winner.candidate.label if report.winner else ""
    regret = gt[truth[0]] - gt.get(winner, float("nan"))
    kinds = getattr(report, "query_kinds", None) or _kinds_from_notes(report)
    line = {
        "label": args.label,
        "package": str(autoembedding.__file__),
        "dataset": name,
        "seed": args.seed,
        "n_docs": report.n_docs,
        "n_queries": report.n_queries,
        "query_kinds": kinds,
        "probe_s": round(seconds, 1),
        "probe_order": [sq.short(m) for m in ranking if m in gt],
        "truth_order": [sq.short(m) for m in truth],
        "probe_ndcg": {sq.short(m): round(scores[m], 4) for m in made},
        "truth_ndcg": {sq.short(m): round(gt[m], 4) for m in labels},
        "winner": sq.short(winner),
        "tau": round(tau, 3),
        "regret": round(regret, 4),
    }
    print(json.dumps(line, ensure_ascii=False, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0


def table(path: Path) -> str:
    """The Markdown table of the JSON lines in ``path`` (one row per run)."""
    head = (
        "| set | code | seed | pool docs / queries | query kinds | probe order | pick "
        "| tau | regret |\n|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        kinds = ", ".join(f"{k} {n}" for k, n in r["query_kinds"].items()) or "(not reported)"
        order = " > ".join(_abbrev(m) for m in r["probe_order"])
        rows.append(
            f"| {r['dataset']} | {r['label']} | {r['seed']} | {r['n_docs']} / {r['n_queries']} "
            f"| {kinds} | {order} | {_abbrev(r['winner'])} | {r['tau']:.2f} | {r['regret']:.3f} |"
        )
    return "\n".join(rows)


def _abbrev(label: str) -> str:
    return (
        label.replace("all-MiniLM-L6-v2", "L6")
        .replace("paraphrase-MiniLM-L3-v2:onnx", "L3")
        .replace("hybrid-rrf:", "rrf:")
        .replace("hybrid:", "cvx:")
        .replace("+bm25", "")
    )


def _kinds_from_notes(report) -> dict[str, int]:
    """Before issue 23.5d the report had no query kinds: ``{}``."""
    return {}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--table"]:
        print(table(Path(sys.argv[2])))
        raise SystemExit(0)
    raise SystemExit(main())
