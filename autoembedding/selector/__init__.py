"""The selector: probe candidate models on a Chroma collection, pick one, swap it in.

Names are imported lazily so ``import autoembedding.selector`` stays cheap.

Example:
    >>> from autoembedding.selector import probe, Targets
    >>> report = probe(collection, targets=Targets(max_query_ms=20))  # doctest: +SKIP
    >>> report.winner.candidate.label  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Candidate",
    "CandidateResult",
    "ProbeReport",
    "Targets",
    "probe",
    "swap",
    "undo_swap",
]

_LAZY = {
    "Candidate": "autoembedding.selector.types",
    "CandidateResult": "autoembedding.selector.types",
    "ProbeReport": "autoembedding.selector.types",
    "Targets": "autoembedding.selector.types",
    "probe": "autoembedding.selector.probing",
    "swap": "autoembedding.selector.swapping",
    "undo_swap": "autoembedding.selector.swapping",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autoembedding.selector' has no attribute {name!r}")
