r"""`autoembed swap`: move a Chroma collection to another embedding model, or undo that.

Examples:
    autoembed swap --collection docs --model sentence-transformers/all-MiniLM-L6-v2 \\
        --chroma-path ./db
    autoembed swap --collection docs --model fake/new --chroma-host 127.0.0.1 --chroma-port 8000
    autoembed swap --undo --collection docs --chroma-path ./db

A rerun of an interrupted command resumes it (see docs/swap.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from autoembedding.cli._chroma import add_chroma_arguments, client_from_args

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``swap`` subcommand."""
    p = subparsers.add_parser(
        "swap",
        help="re-embed a Chroma collection with another model, in place and resumably",
        description=(
            "Re-embed every document of a Chroma collection with MODEL into a staging "
            "collection, verify it, then give it the collection's name and keep the original "
            "as NAME__backup_<UTC time>. Rerun the same command after a crash to resume."
        ),
    )
    p.add_argument("--collection", required=True, metavar="NAME", help="collection to move")
    p.add_argument(
        "--model",
        metavar="ID",
        help="model id or label (id[@dim][:int8|binary]); `autoembed models` lists them",
    )
    add_chroma_arguments(p, required=False)
    p.add_argument(
        "--page-size",
        type=int,
        default=256,
        metavar="N",
        help="records read, embedded and written at a time (default 256)",
    )
    p.add_argument(
        "--drop-old",
        action="store_true",
        help="delete the original after the switch instead of keeping a backup",
    )
    p.add_argument(
        "--undo",
        action="store_true",
        help="put the original back (the swapped copy is kept as NAME__undone_<time>)",
    )
    p.add_argument(
        "--verify-sample",
        type=int,
        default=64,
        metavar="N",
        help="vectors to re-embed and compare after the copy (default 64)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="texts per forward pass of the model",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``autoembed swap``; 0 on success."""
    from autoembedding.selector.swapping import swap, undo_swap

    client = client_from_args(args)
    if args.undo:
        moved = undo_swap(args.collection, client=client, drop_new=args.drop_old)
        kept = f"the swapped copy is kept as {moved!r}" if moved else "the swapped copy was dropped"
        print(f"Restored the original {args.collection!r}; {kept}.", flush=True)
        return 0
    if not args.model:
        print("autoembed swap: error: --model is required (or pass --undo)", file=sys.stderr)
        return 2
    options: dict[str, Any] = {}
    if args.batch_size:
        options["batch_size"] = args.batch_size
    result = swap(
        args.collection,
        args.model,
        client=client,
        page_size=args.page_size,
        drop_old=args.drop_old,
        verify_sample=args.verify_sample,
        progress=not args.no_progress,
        **options,
    )
    print(result.summary(), flush=True)
    return 0
