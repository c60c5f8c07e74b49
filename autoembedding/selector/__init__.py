"""The selector: probe candidate models on a Chroma collection, pick one, swap it in.

Names are imported lazily so ``import autoembedding.selector`` stays cheap.

Example:
    >>> from autoembedding.selector import probe, Targets
    >>> report = probe(collection, targets=Targets(max_query_ms=20))  # doctest: +SKIP
    >>> report.winner.candidate.label  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from autoembedding.selector.probing import probe
    from autoembedding.selector.swapping import (
        SwapLockedError,
        SwapResult,
        SwapState,
        SyncResult,
        drop_staging,
        swap,
        swap_status,
        sync_swap,
        undo_swap,
    )
    from autoembedding.selector.types import Candidate, CandidateResult, ProbeReport, Targets

__all__ = [
    "Candidate",
    "CandidateResult",
    "ProbeReport",
    "SwapLockedError",
    "SwapResult",
    "SwapState",
    "SyncResult",
    "Targets",
    "drop_staging",
    "probe",
    "swap",
    "swap_status",
    "sync_swap",
    "undo_swap",
]

_LAZY = {
    "Candidate": "autoembedding.selector.types",
    "CandidateResult": "autoembedding.selector.types",
    "ProbeReport": "autoembedding.selector.types",
    "Targets": "autoembedding.selector.types",
    "probe": "autoembedding.selector.probing",
    "SwapLockedError": "autoembedding.selector.swapping",
    "SwapResult": "autoembedding.selector.swapping",
    "swap": "autoembedding.selector.swapping",
    "undo_swap": "autoembedding.selector.swapping",
    "SwapState": "autoembedding.selector.swapping",
    "SyncResult": "autoembedding.selector.swapping",
    "drop_staging": "autoembedding.selector.swapping",
    "swap_status": "autoembedding.selector.swapping",
    "sync_swap": "autoembedding.selector.swapping",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autoembedding.selector' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
