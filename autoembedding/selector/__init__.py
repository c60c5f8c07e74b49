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
    from autoembedding.candidates import Candidate, CandidateResult, ProbeReport, Targets
    from autoembedding.probe import probe
    from autoembedding.swap import (
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
    "Candidate": "autoembedding.candidates",
    "CandidateResult": "autoembedding.candidates",
    "ProbeReport": "autoembedding.candidates",
    "Targets": "autoembedding.candidates",
    "probe": "autoembedding.probe",
    "SwapLockedError": "autoembedding.swap",
    "SwapResult": "autoembedding.swap",
    "swap": "autoembedding.swap",
    "undo_swap": "autoembedding.swap",
    "SwapState": "autoembedding.swap",
    "SyncResult": "autoembedding.swap",
    "drop_staging": "autoembedding.swap",
    "swap_status": "autoembedding.swap",
    "sync_swap": "autoembedding.swap",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autoembedding.selector' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
