r"""`autoembed swap`: move a Chroma collection to another model, BM25 or a hybrid; undo, sync.

Examples:
    autoembed swap --collection docs --model sentence-transformers/all-MiniLM-L6-v2 \\
        --chroma-path ./db
    autoembed swap --collection docs --model fake/new --chroma-host 127.0.0.1 --chroma-port 8000
    autoembed swap --collection docs --model bm25 --chroma-path ./db      (BM25, no re-embedding)
    autoembed swap --collection docs --model hybrid:fake/new+bm25:en --fusion-weight 0.6 \\
        --chroma-path ./db                             (any label a probe report prints)
    autoembed swap --status --collection docs --chroma-path ./db     (or --status docs; --json)
    autoembed swap --sync --collection docs --chroma-path ./db
    autoembed swap --undo --collection docs --chroma-path ./db
    autoembed swap --drop-staging --collection docs --chroma-path ./db

A rerun of an interrupted command resumes it; ``--status`` says what state a swap is in and the
command that finishes or undoes it (see docs/swap.md).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from autoembedding.cli._args import fraction
from autoembedding.cli._chroma import add_chroma_arguments, client_from_args
from autoembedding.errors import AutoEmbeddingError

__all__ = ["add_parser", "connection_from_args", "run"]


def _whole(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``minimum`` (a usage error names the option)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def add_parser(subparsers: Any) -> None:
    """Register the ``swap`` subcommand."""
    p = subparsers.add_parser(
        "swap",
        help="re-embed a Chroma collection with another model, in place and resumably",
        description=(
            "Re-embed every document of a Chroma collection with MODEL into a staging "
            "collection, catch up with writes made meanwhile, verify it, then give it the "
            "collection's name and keep the original as NAME__backup_<UTC time>. Rerun the "
            "same command after a crash to resume; --status says where a swap stands. A "
            "lexical or hybrid label (bm25, bm25:zh, hybrid:<model>+bm25, "
            "hybrid-rrf:<model>+bm25) builds the collection's BM25 index and records the "
            "mode, re-embedding only when a hybrid's model is not the recorded one."
        ),
    )
    p.add_argument("--collection", metavar="NAME", help="collection to move")
    p.add_argument(
        "--model",
        metavar="ID",
        help="model id or label (id[@dim][:int8|binary]; `autoembed models` lists them), or any "
        "label a probe report prints: bm25, bm25:<lang>, hybrid:<model>+bm25[:<lang>], "
        "hybrid-rrf:<model>+bm25[:<lang>]",
    )
    p.add_argument(
        "--fusion-weight",
        type=fraction,
        default=None,
        metavar="W",
        help="with a convex hybrid label (hybrid:...): the dense weight in 0..1, as the probe "
        "report shows it (default 0.5)",
    )
    add_chroma_arguments(p, required=False)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--undo",
        action="store_true",
        help="put the original back (the swapped copy is kept as NAME__undone_<time>); before "
        "the switch, abandon the swap and remove its staging copy",
    )
    mode.add_argument(
        "--sync",
        action="store_true",
        help="carry over writes made to the backup through handles opened before the switch",
    )
    mode.add_argument(
        "--status",
        nargs="?",
        const="",
        default=None,
        metavar="NAME",
        help="say where the swap of NAME stands and the command that finishes or undoes it",
    )
    mode.add_argument(
        "--drop-staging",
        action="store_true",
        help="remove the staging copies of an unfinished swap",
    )
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="OUT",
        help="write the result (or the --status) as JSON to OUT ('-' or nothing: stdout)",
    )
    p.add_argument(
        "--page-size",
        type=_whole(1),
        default=256,
        metavar="N",
        help="records read, embedded and written at a time (default 256)",
    )
    p.add_argument(
        "--drop-old",
        action="store_true",
        help="delete the original after the switch (and after carrying over writes made to it) "
        "instead of keeping a backup; with --undo, delete the swapped copy",
    )
    p.add_argument(
        "--verify-sample",
        type=_whole(0),
        default=64,
        metavar="N",
        help="vectors to re-embed and compare after the copy (default 64)",
    )
    p.add_argument(
        "--batch-size",
        type=_whole(1),
        default=None,
        metavar="N",
        help="texts per forward pass of the model (default: chosen by measured throughput on "
        "the first pages)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    ray = p.add_argument_group("Ray (needs autoembedding[ray]; docs/swap.md 'Swap on Ray')")
    ray.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="where the copy runs: this process (default) or a Ray cluster",
    )
    ray.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        default=None,
        help="the cluster to join (default: RAY_ADDRESS, or a new local one)",
    )
    ray.add_argument(
        "--workers",
        type=_whole(1),
        default=None,
        metavar="N",
        help="encoder actors (default: one per CPU, or per --gpus-per-worker GPUs)",
    )
    ray.add_argument(
        "--gpus-per-worker",
        type=float,
        default=0.0,
        metavar="G",
        help="GPUs per encoder actor (default 0: CPU)",
    )
    p.set_defaults(run=run)


def connection_from_args(args: argparse.Namespace) -> str:
    """The ``--chroma-*`` options exactly as given, for the commands quoted in messages."""
    if args.chroma_path:
        return f"--chroma-path {shlex.quote(args.chroma_path)}"
    if args.chroma_url:
        return f"--chroma-url {shlex.quote(args.chroma_url)}"
    if args.chroma_host:
        port = f" --chroma-port {args.chroma_port}" if args.chroma_port is not None else ""
        return f"--chroma-host {shlex.quote(args.chroma_host)}{port}"
    return "--chroma-path DB"


def _usage_error(message: str) -> int:
    print(f"autoembed swap: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Run ``autoembed swap``; 0 on success, 2 on a usage error."""
    name = args.collection
    if args.status:
        if name and name != args.status:
            return _usage_error(f"--status {args.status} and --collection {name} disagree")
        name = args.status
    if not name:
        return _usage_error("--collection NAME is required")
    ray_options = args.ray_address is not None or args.workers is not None or args.gpus_per_worker
    if args.engine != "ray" and ray_options:
        return _usage_error("--ray-address, --workers and --gpus-per-worker go with --engine ray")
    if args.gpus_per_worker < 0:
        return _usage_error(f"--gpus-per-worker must be >= 0, got {args.gpus_per_worker}")
    plain = not (args.undo or args.sync or args.drop_staging or args.status is not None)
    if plain and not args.model:
        return _usage_error(
            "--model is required (or pass --undo, --sync, --status, --drop-staging)"
        )
    if args.fusion_weight is not None and not plain:
        return _usage_error("--fusion-weight goes with --model hybrid:<model>+bm25")
    if args.json not in (None, "-"):
        from autoembedding.arguments import output_file

        output_file(args.json, "--json")
    from autoembedding.swap.function import register_function

    register_function()  # collections made with AutoEmbeddingFunction open from here on
    client = client_from_args(args)
    connection = connection_from_args(args)
    options: dict[str, Any] = {}
    if args.batch_size:
        options["batch_size"] = args.batch_size
    if args.status is not None:
        return _status(client, name, connection, out=args.json)
    if args.undo:
        from autoembedding.swap.undo import undo

        undone = undo(name, client=client, drop_new=args.drop_old)
        _print(undone.message, asdict(undone), args.json, done="The undo is done")
        return 0
    if args.drop_staging:
        from autoembedding.swap.status import swap_status
        from autoembedding.swap.undo import drop_staging

        dropped = drop_staging(name, client=client)
        what = ", ".join(dropped) if dropped else "none"
        now = swap_status(name, client=client, connection=connection).message
        print(f"Removed staging copies of {name!r}: {what}. Now: {now}", flush=True)
        return 0
    if args.sync:
        from autoembedding.swap.sync import sync_swap

        result = sync_swap(
            name, client=client, model=args.model, page_size=args.page_size, **options
        )
        _print(result.summary(), _as_json(result), args.json, done="The sync is done")
        return 0
    from autoembedding.swap import swap

    swapped = swap(
        name,
        args.model,
        client=client,
        page_size=args.page_size,
        drop_old=args.drop_old,
        verify_sample=args.verify_sample,
        progress=not args.no_progress and not args.json,
        engine=args.engine,
        ray_address=args.ray_address,
        workers=args.workers,
        gpus_per_worker=args.gpus_per_worker,
        fusion_weight=args.fusion_weight,
        **options,
    )
    swapped = replace(swapped, connection=connection)
    _print(swapped.summary(), _as_json(swapped), args.json, done="The swap itself finished")
    return 0


def _print(text: str, data: dict[str, Any], out: str | None, *, done: str | None = None) -> None:
    """Print ``text``, or write ``data`` as JSON to ``out`` (``"-"``: stdout).

    Args:
        text: The line for people.
        data: The same as JSON data.
        out: ``None`` (print ``text``), ``"-"`` (JSON on stdout) or a file path.
        done: What already happened (``"The swap finished"``), said when the output cannot be
            written; ``None`` for a command that changes nothing (``--status``).

    Raises:
        AutoEmbeddingError: If the output cannot be written (a full disk, ...): names the file,
            says that the work itself is done (quoting ``text``) and what to do.
    """
    if out is None or out == "-":
        body = text if out is None else json.dumps(data, indent=2)
        try:
            print(body, flush=True)
        except BrokenPipeError:
            raise
        except OSError as exc:
            _quiet_stdout()
            raise _output_error("standard output", exc, text, done, "--json OUT") from exc
        return
    from pathlib import Path

    target = Path(out).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise _output_error(
            str(target), exc, text, done, "--json OTHER_FILE (or --json -)"
        ) from exc
    print(f"{text} (JSON written to {target})", flush=True)


def _output_error(
    where: str, exc: OSError, text: str, done: str | None, other: str
) -> AutoEmbeddingError:
    """The error for an output that cannot be written, saying what was done and what to do."""
    reason = exc.strerror or str(exc)
    if exc.errno is not None:
        reason += f" (errno {exc.errno})"
    what = f"{done}: {text}" if done else f"Nothing was changed; the result was: {text}"
    return AutoEmbeddingError(
        f"Could not write the result to {where}: {reason}. {what.rstrip('.')}. To get it "
        f"written, free space there or choose another place with {other}; "
        "`autoembed swap --status --json OUT` writes where the collection stands at any time."
    )


def _quiet_stdout() -> None:
    """After a failed write to stdout, point it at /dev/null so the final flush is quiet."""
    import os

    try:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the exit
    except OSError:
        pass


def _as_json(result: Any) -> dict[str, Any]:
    """A swap or sync result as JSON-ready data, with its summary line."""
    data = {k: v for k, v in asdict(result).items() if k != "connection"}
    data["summary"] = result.summary()
    return data


def _status(client: Any, name: str, connection: str, *, out: str | None) -> int:
    from autoembedding.swap.status import swap_status

    state = swap_status(name, client=client, connection=connection)
    _print(state.message, state.to_dict(), out)
    return 0
