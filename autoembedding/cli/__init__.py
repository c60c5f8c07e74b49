"""The ``autoembed`` command line.

Each subcommand lives in its own module of this package, exposing ``add_parser(subparsers)`` and
``run(args) -> int``; :data:`SUBCOMMANDS` lists them in help order.

No traceback reaches a user: :func:`main` prints the message of every error the package raises
(exit code 1; 2 for a bad argument, as argparse does), of file-system errors (1) and of an
interrupt (130). Anything else is a bug: one line names it, and ``--debug`` (or
``AUTOEMBEDDING_DEBUG=1``) shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from autoembedding.errors import AutoEmbeddingError, InvalidArgumentError

__all__ = ["DEBUG_ENV", "SUBCOMMANDS", "build_parser", "main"]

#: Subcommand modules, in the order ``autoembed --help`` shows them.
SUBCOMMANDS: tuple[str, ...] = ("models", "demo", "probe", "swap", "export")
#: Set to ``1`` to get the traceback of an unexpected error (same as ``--debug``).
DEBUG_ENV = "AUTOEMBEDDING_DEBUG"

_DEBUG_HELP = f"show the traceback of an unexpected error (or set {DEBUG_ENV}=1)"


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    from autoembedding._version import __version__

    parser = argparse.ArgumentParser(
        prog="autoembed",
        description="Pick the embedding model that retrieves best on your own documents.",
    )
    parser.add_argument("--version", action="version", version=f"autoembed {__version__}")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"autoembedding.cli.{name}")
        module.add_parser(subparsers)
        # `autoembed probe --debug ...` works too; SUPPRESS keeps a top-level --debug.
        subparsers.choices[name].add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
        )
    return parser


def _debug_from_env() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


@contextmanager
def _plain_warnings(command: str) -> Iterator[None]:
    """Show the package's warnings as one line each, not as source lines of the library."""
    previous = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        print(f"autoembed {command}: warning: {message}", file=sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``autoembed``; returns the exit code.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        0 ok, 1 error, 2 bad usage or argument, 3 a probe without a winner, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    command = f"autoembed {args.command}"
    debug = bool(args.debug) or _debug_from_env()
    try:
        with _plain_warnings(args.command):
            return int(args.run(args))
    except InvalidArgumentError as exc:
        if debug:
            raise
        print(f"{command}: error: {exc}", file=sys.stderr)
        return 2
    except AutoEmbeddingError as exc:
        if debug:
            raise
        print(f"{command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `autoembed models --json | head`
        _silence_stdout()
        return 0
    except OSError as exc:  # the file system or the network, not a bug: no traceback
        if debug:
            raise
        print(f"{command}: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if debug:
            raise
        print(
            f"{command}: unexpected error: {type(exc).__name__}: {exc}\n"
            f"This is a bug in autoembedding; rerun with --debug (or {DEBUG_ENV}=1) to see "
            "the traceback, and report it.",
            file=sys.stderr,
        )
        return 1


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (e.g. captured in tests)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
