"""``autoembed export MODEL``: build the int8 ONNX export for this CPU ahead of first use.

``MODEL`` is a sentence-transformers catalog model or an int8 entry naming one
(``minilm-int8``). The export lands in the user cache (``$AUTOEMBEDDING_CACHE`` or the platform
cache folder), in the folder the int8 entry loads from on this CPU, unless ``--out`` says
otherwise; an export already there is verified and kept (``--force`` rebuilds it). Needs
``pip install 'autoembedding[export]'``.

Example:
    autoembed export minilm-int8
    autoembed export sentence-transformers/all-MiniLM-L6-v2 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register ``autoembed export``."""
    from autoembedding.adapters.cpu import CPU_KINDS

    parser = subparsers.add_parser(
        "export",
        help="build the int8 ONNX export of a model for this CPU",
        description=(
            "Export a catalog model to int8 ONNX that runs integer kernels, quantised for this "
            "CPU, into the cache its int8 entry loads from (needs autoembedding[export])."
        ),
    )
    parser.add_argument("model", help="catalog id or alias, e.g. minilm-int8 or all-MiniLM-L6-v2")
    parser.add_argument("--out", type=Path, default=None, help="write here instead of the cache")
    parser.add_argument(
        "--cpu-kind",
        choices=CPU_KINDS,
        default=None,
        help="choose the settings for this CPU kind (default: the one detected here)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild an existing export")
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Export (or verify an existing export) and say where it is."""
    from autoembedding.adapters.cpu import describe_cpu
    from autoembedding.adapters.export import export_int8
    from autoembedding.adapters.export.cache import verify_export

    start = time.perf_counter()
    folder = export_int8(args.model, args.out, kind=args.cpu_kind, overwrite=args.force)
    manifest = verify_export(folder)
    seconds = time.perf_counter() - start
    if args.json:
        json.dump({"folder": str(folder), **manifest}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    cosine = manifest.get("cosine_to_pytorch", {})
    print(f"{manifest.get('model_id')} -> {folder}")
    print(f"  cpu: {describe_cpu()}; settings for: {manifest.get('cpu_kind')}")
    print(f"  settings: {json.dumps(manifest.get('config', {}), sort_keys=True)}")
    print(
        f"  cosine to PyTorch: mean {cosine.get('mean')}, min {cosine.get('min')} "
        f"({cosine.get('texts')} texts); model.onnx sha256 {manifest['files']['model.onnx'][:16]}"
    )
    print(f"  done in {seconds:.1f} s")
    return 0
