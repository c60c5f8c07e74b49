"""What ``show_progress`` means for auto-selection and for batch embedding.

``show_progress`` takes ``None`` (default: a bar while auto-selection probes, on a terminal
only), ``True`` (a bar, forced: printed as plain lines when stderr is not a terminal, so it
also reaches logs and notebooks' captured output; batch embedding shows one too), ``False``
(nothing) or a callable ``fn(message, fraction_done)`` (called for the probe and for batch
embedding). Everything goes through :class:`autoembedding.selector.progress.Progress`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autoembedding.adapters.base import BaseAdapter
from autoembedding.selector.progress import Progress, ProgressFn

__all__ = ["ShowProgress", "embed_documents", "progress_arg"]

#: The type of the ``show_progress`` field.
ShowProgress = bool | Callable[[str, float], None] | None

#: Texts per progress step of batch embedding (in batches of ``batch_size`` inside).
_BATCHES_PER_STEP = 8


def progress_arg(show_progress: Any, *, default: bool = True) -> bool | ProgressFn:
    """The ``progress=`` to hand :class:`~autoembedding.selector.progress.Progress`.

    Args:
        show_progress: The field's value (see the module).
        default: What ``None`` means (``True``: a bar on a terminal only).
    """
    if show_progress is None:
        return default
    if callable(show_progress):
        return show_progress  # type: ignore[no-any-return]
    if show_progress is True and not _stderr_is_terminal():
        return _LinePrinter("autoembedding")
    return bool(show_progress)


def embed_documents(adapter: BaseAdapter, texts: Sequence[str], show_progress: Any) -> np.ndarray:
    """Embed documents, reporting progress when ``show_progress`` is ``True`` or a callable.

    With ``None``/``False`` this is ``adapter.embed_documents(texts)``. Otherwise the texts go
    to the adapter in steps of several batches (each step still sorted by length inside the
    adapter), and each step is reported.
    """
    if show_progress is None or show_progress is False:
        return adapter.embed_documents(texts)
    step = max(adapter.batch_size, 1) * _BATCHES_PER_STEP
    reporter = Progress(
        progress_arg(show_progress), total=len(texts), desc="embedding", unit="text"
    )
    try:
        parts = []
        for start in range(0, len(texts), step):
            chunk = texts[start : start + step]
            parts.append(adapter.embed_documents(chunk))
            reporter.update(len(chunk), f"{start + len(chunk)}/{len(texts)} texts")
    finally:
        reporter.close()
    if not parts:
        return adapter.embed_documents(texts)
    return np.concatenate(parts, axis=0)


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


class _LinePrinter:
    """Progress as plain lines on stderr: one per new message or 10 % step (no bar)."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self._last: tuple[str, int] | None = None

    def __call__(self, message: str, fraction: float) -> None:
        key = (message, int(fraction * 10))
        if key != self._last:
            self._last = key
            print(f"[{self.desc} {fraction:4.0%}] {message}", file=sys.stderr, flush=True)
