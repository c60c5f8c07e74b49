"""``autoembed models``: the catalog as a table, or as JSON with ``--json``.

The table's last column lists each model's aliases: any of them works wherever an id does
(``--candidates``, ``--model``, ``get_adapter``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from autoembedding.catalog import ModelSpec, iter_specs
from autoembedding.offline import is_available

__all__ = ["add_parser", "model_rows", "run"]


def add_parser(subparsers: Any) -> None:
    """Register ``autoembed models``."""
    parser = subparsers.add_parser(
        "models",
        help="list the model catalog",
        description="List the catalog; 'available' means loadable right now with no network.",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--available", action="store_true", help="only models that load now, offline"
    )
    parser.set_defaults(run=run)


def _row(spec: ModelSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "backend": spec.backend,
        "dim": spec.dim,
        "matryoshka_dims": list(spec.matryoshka_dims),
        "available": is_available(spec),
        "family": spec.family,
        "languages": list(spec.languages),
        "parameters_m": spec.parameters,
        "max_tokens": spec.max_tokens,
        "size_mb": spec.size_mb,
        "license": spec.license,
        "needs_gpu": spec.needs_gpu,
        "trust_remote_code": spec.trust_remote_code,
        "query_prompt": spec.query_prompt,
        "document_prompt": spec.document_prompt,
        "offline_package": spec.offline.pypi if spec.offline else None,
        "aliases": list(spec.aliases),
        "description": spec.description,
    }


def model_rows(only_available: bool = False) -> list[dict[str, Any]]:
    """One dict per catalog model, as ``--json`` prints them."""
    rows = [_row(spec) for spec in iter_specs()]
    return [row for row in rows if row["available"]] if only_available else rows


def _table(rows: list[dict[str, Any]]) -> str:
    columns = [
        ("id", "id"),
        ("backend", "backend"),
        ("dim", "dim"),
        ("mrl", "matryoshka_dims"),
        ("lang", "languages"),
        ("params(M)", "parameters_m"),
        ("MB", "size_mb"),
        ("licence", "license"),
        ("avail", "available"),
        ("aliases (also accepted as ids)", "aliases"),
    ]

    def cell(row: dict[str, Any], key: str) -> str:
        value = row[key]
        if key == "available":
            return "yes" if value else "-"
        if key in ("matryoshka_dims", "aliases"):
            return ",".join(map(str, value)) if value else "-"
        if key == "languages":
            return "multi" if "multilingual" in value else ",".join(value)
        if isinstance(value, float):
            return f"{value:g}" if value else "-"
        return str(value)

    cells = [[cell(row, key) for _, key in columns] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (h, _) in enumerate(columns)]
    lines = ["  ".join(h.ljust(w) for (h, _), w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    """Print the catalog."""
    rows = model_rows(args.available)
    if args.json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(_table(rows))
        print(
            f"\n{sum(r['available'] for r in rows)} of {len(rows)} load now without a network "
            "(avail). Others need the Hugging Face hub, an API key, or a GPU."
        )
        from autoembedding.adapters.cpu import describe_cpu

        print(
            f"This CPU: {describe_cpu()}. The int8 entries run an int8 export quantised for it, "
            "built on first use (or ahead with `autoembed export MODEL`)."
        )
    return 0
