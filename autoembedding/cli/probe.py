"""``autoembed probe``: measure candidate models on a Chroma collection and pick one.

Example:
    autoembed probe --chroma-path ./db --collection docs --max-query-ms 20 --json out.json

"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from autoembedding.arguments import output_dir, output_file
from autoembedding.cli._args import count, fraction, positive, whole
from autoembedding.cli._chroma import add_chroma_arguments, client_from_args
from autoembedding.errors import InvalidArgumentError, UnknownModelError

#: Smallest --sample-size the probe takes (kept in step with probing.sampling.MIN_DOCS).
MIN_DOCS = 5

__all__ = ["add_parser", "check_candidate_labels", "run"]


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
        help="comma-separated labels (id[@dim][:int8|binary], bm25[:LANG], "
        "hybrid:ID+bm25, hybrid-rrf:ID+bm25); default: every available model, bm25 and hybrids",
    )
    p.add_argument(
        "--no-lexical",
        action="store_true",
        help="leave out bm25 and the hybrid candidates (dense models only)",
    )
    p.add_argument(
        "--max-query-ms", type=positive, metavar="X", help="target: query p95 latency (> 0)"
    )
    p.add_argument("--min-hit-at-5", type=fraction, metavar="Y", help="target: hit@5 floor (0..1)")
    p.add_argument(
        "--min-ndcg-at-10", type=fraction, metavar="Y", help="target: nDCG@10 floor (0..1)"
    )
    p.add_argument(
        "--max-bytes-per-vector", type=positive, metavar="B", help="target: storage per vector"
    )
    p.add_argument("--queries", metavar="F", help="BEIR queries.jsonl (labelled probe)")
    p.add_argument("--qrels", metavar="F", help="BEIR qrels.tsv (with --queries)")
    p.add_argument(
        "--json", metavar="OUT", help="write the report as JSON to this file ('-': stdout)"
    )
    p.add_argument("--report", metavar="DIR", help="write report.md/.html and a Pareto chart here")
    p.add_argument(
        "--budget-s",
        type=positive,
        metavar="S",
        help="time budget, seconds (hard: models and stages that would overrun are cut)",
    )
    p.add_argument(
        "--sample-size", type=count(MIN_DOCS), metavar="N", help="documents in the probe pool"
    )
    p.add_argument(
        "--candidate-timeout-s", type=positive, metavar="S", help="time-box per model, seconds"
    )
    p.add_argument("--seed", type=whole, default=0, metavar="N", help="sampling seed (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _open_collection(args: argparse.Namespace) -> Any:
    """The collection to probe (opened without an embedding function: the probe only reads)."""
    from autoembedding.chroma.client import open_collection

    return open_collection(client_from_args(args), args.collection)


def check_candidate_labels(text: str | None) -> list[str] | None:
    """The ``--candidates`` labels, each checked (unknown ids with close names) before any work."""
    from autoembedding.candidates import Candidate
    from autoembedding.probe.arguments import check_candidate

    if text is None:
        return None
    labels = [c.strip() for c in text.split(",") if c.strip()]
    if not labels:
        raise InvalidArgumentError(
            f"--candidates names no model ({text!r}); give comma-separated labels such as "
            "'fake/a,fake/b@32:int8', or leave it out to race every available model.",
            argument="--candidates",
        )
    for label in labels:
        name = f"--candidates {label!r}"
        try:
            check_candidate(Candidate.parse(label), name)
        except UnknownModelError as exc:  # a usage error here: say it the argparse way
            raise InvalidArgumentError(str(exc), argument="--candidates") from None
        except ValueError as exc:
            if isinstance(exc, InvalidArgumentError):
                raise
            raise InvalidArgumentError(f"{name}: {exc}", argument="--candidates") from None
    return labels


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse unwritable ``--json``/``--report`` paths now, not after a long probe."""
    if args.json is not None and args.json != "-":
        output_file(args.json, "--json")
    if args.report is not None:
        if args.report == "-":
            raise InvalidArgumentError(
                "--report takes a folder (it writes report.md, report.html and pareto.png); "
                "use --json - for the report on stdout.",
                argument="--report",
            )
        output_dir(args.report, "--report")


def _check_queries(args: argparse.Namespace) -> None:
    if bool(args.queries) != bool(args.qrels):
        missing = "--qrels" if args.queries else "--queries"
        raise InvalidArgumentError(
            f"--queries and --qrels go together; {missing} is missing.", argument=missing
        )
    for flag, path in (("--queries", args.queries), ("--qrels", args.qrels)):
        if path and not Path(path).is_file():
            raise InvalidArgumentError(
                f"{flag}: {path!r} does not exist or is not a file.", argument=flag
            )


def run(args: argparse.Namespace) -> int:
    """Run the probe; prints a table and returns 0 (a winner), 3 (no winner).

    Every option is checked before the collection is opened; ``--json -`` prints the JSON on
    stdout (and the table on stderr, so stdout stays valid JSON).
    """
    from autoembedding.candidates import Targets
    from autoembedding.chroma.client import connection_flags
    from autoembedding.probe import probe
    from autoembedding.probe.report import (
        format_table,
        report_to_dict,
        swap_command,
        write_json,
        write_report,
    )

    _check_queries(args)
    candidates = check_candidate_labels(args.candidates)
    _check_outputs(args)
    targets = Targets(
        max_query_ms=args.max_query_ms,
        min_hit_at_5=args.min_hit_at_5,
        min_ndcg_at_10=args.min_ndcg_at_10,
        max_bytes_per_vector=args.max_bytes_per_vector,
    )
    collection = _open_collection(args)
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
        lexical=False if args.no_lexical else None,
    )
    to_stdout = args.json == "-"
    say = sys.stderr if to_stdout else sys.stdout
    print(format_table(report), file=say)
    command = swap_command(report, connection_flags(getattr(collection, "_client", None)))
    if command is not None:
        print(f"\nServe the winner (re-embeds if needed; --undo goes back):\n  {command}", file=say)
    if to_stdout:
        json.dump(report_to_dict(report), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.json:
        print(f"JSON report: {write_json(report, args.json)}", file=say)
    if args.report:
        print(f"Report: {write_report(report, args.report)}", file=say)
    return 0 if report.winner is not None else 3
