"""``autoembed probe``: measure candidate models on a Chroma collection and pick one.

Example:
    autoembed probe --chroma-path ./db --collection docs --max-query-ms 20 --json out.json

"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from autoembedding.cli._chroma import add_chroma_arguments, client_from_args

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register ``autoembed probe``."""
    p = subparsers.add_parser(
        "probe",
        help="measure candidate models on a collection and pick the best under your targets",
        description=(
            "Probe candidate embedding models on a sample of a Chroma collection (read only) and "
            "pick the best one that meets your targets."
        ),
    )
    add_chroma_arguments(p, required=True)
    p.add_argument("--collection", required=True, metavar="NAME", help="collection to probe")
    p.add_argument(
        "--candidates",
        metavar="A,B,C",
        help="comma-separated labels (id[@dim][:int8|binary]); default: every available model",
    )
    p.add_argument("--max-query-ms", type=float, metavar="X", help="target: query p95 latency")
    p.add_argument("--min-hit-at-5", type=float, metavar="Y", help="target: minimum hit@5")
    p.add_argument("--min-ndcg-at-10", type=float, metavar="Y", help="target: minimum nDCG@10")
    p.add_argument(
        "--max-bytes-per-vector", type=float, metavar="B", help="target: storage per vector"
    )
    p.add_argument("--queries", metavar="F", help="BEIR queries.jsonl (labelled probe)")
    p.add_argument("--qrels", metavar="F", help="BEIR qrels.tsv (with --queries)")
    p.add_argument("--json", metavar="OUT", help="write the report as JSON here")
    p.add_argument("--report", metavar="DIR", help="write report.md/.html and a Pareto chart here")
    p.add_argument("--budget-s", type=float, metavar="S", help="soft time budget, seconds")
    p.add_argument("--sample-size", type=int, metavar="N", help="documents in the probe pool")
    p.add_argument("--candidate-timeout-s", type=float, metavar="S", help="time-box per model")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="sampling seed (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _open_collection(args: argparse.Namespace) -> Any:
    """The collection to probe (opened without an embedding function: the probe only reads)."""
    from autoembedding.chroma.client import open_collection

    return open_collection(client_from_args(args), args.collection)


def run(args: argparse.Namespace) -> int:
    """Run the probe; prints a table and returns 0 (a winner), 3 (no winner)."""
    from autoembedding.selector.probing import probe
    from autoembedding.selector.report import format_table, write_json, write_report
    from autoembedding.selector.types import Targets

    if bool(args.queries) != bool(args.qrels):
        print("autoembed probe: error: --queries and --qrels go together", file=sys.stderr)
        return 2
    collection = _open_collection(args)
    targets = Targets(
        max_query_ms=args.max_query_ms,
        min_hit_at_5=args.min_hit_at_5,
        min_ndcg_at_10=args.min_ndcg_at_10,
        max_bytes_per_vector=args.max_bytes_per_vector,
    )
    candidates = (
        [c.strip() for c in args.candidates.split(",") if c.strip()] if args.candidates else None
    )
    report = probe(
        collection,
        candidates=candidates,
        targets=targets,
        queries=(args.queries, args.qrels) if args.queries else None,
        budget_s=args.budget_s,
        seed=args.seed,
        progress=not args.no_progress,
        sample_size=args.sample_size,
        candidate_timeout_s=args.candidate_timeout_s,
    )
    print(format_table(report))
    if args.json:
        print(f"JSON report: {write_json(report, args.json)}")
    if args.report:
        print(f"Report: {write_report(report, args.report)}")
    return 0 if report.winner is not None else 3
