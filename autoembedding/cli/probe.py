"""`autoembed probe` (being built)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    p = subparsers.add_parser("probe", help="(not yet available)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Not yet available."""
    print("autoembed probe is not available yet", flush=True)
    return 1
