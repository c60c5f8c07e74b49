"""What ``show_progress`` means for auto-selection and for batch embedding.

``show_progress`` takes ``None`` (default: a bar while auto-selection probes, on a terminal
only), ``True`` (a bar, forced: printed as plain lines when stderr is not a terminal, so it
also reaches logs and notebooks' captured output; batch embedding shows one too), ``False``
(nothing) or a callable ``fn(message, fraction_done)`` (called for the probe and for batch
embedding). Everything goes through :class:`autoembedding.progress.Progress`.

Whatever ``show_progress`` says, a probe inside ``AutoEmbedding`` also logs a line on the
``autoembedding`` logger (``INFO``) when it starts, every :data:`PROBE_LOG_EVERY_S` seconds while
it runs (its stage and model, share done, seconds so far) and when it ends (:func:`probe_log`),
so a service's logs show what its first ``add_texts`` is doing.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from autoembedding.adapters.base import BaseAdapter
from autoembedding.progress import Progress, ProgressFn

__all__ = ["PROBE_LOG_EVERY_S", "ShowProgress", "embed_documents", "probe_log", "progress_arg"]

logger = logging.getLogger("autoembedding")

#: Seconds between two progress lines of a running probe in the log.
PROBE_LOG_EVERY_S = 5.0

#: The type of the ``show_progress`` field.
ShowProgress = bool | Callable[[str, float], None] | None

#: Texts per progress step of batch embedding (in batches of ``batch_size`` inside).
_BATCHES_PER_STEP = 8


def progress_arg(show_progress: Any, *, default: bool = True) -> bool | ProgressFn:
    """The ``progress=`` to hand :class:`~autoembedding.progress.Progress`.

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


@contextmanager
def probe_log(progress: bool | ProgressFn, desc: str) -> Iterator[bool | ProgressFn]:
    """Log a probe's progress (see the module) while the ``with`` body runs it.

    Args:
        progress: What the probe was to get (``progress_arg``'s result).
        desc: What is probed (``"the first 200 documents"``), for the lines.

    Yields:
        The ``progress=`` to hand the probe: a callable that records the probe's messages and
        passes them on to ``progress`` when that is a callable; ``progress`` itself when it is
        ``True`` (the bar; the log lines then say the seconds and the share done only).
    """
    state: dict[str, Any] = {"message": "running", "fraction": 0.0}

    def record(message: str, fraction: float) -> None:
        state["message"], state["fraction"] = message, fraction
        if callable(progress):
            progress(message, fraction)

    start = time.perf_counter()
    done = threading.Event()

    def beat() -> None:
        while not done.wait(PROBE_LOG_EVERY_S):
            logger.info(
                "AutoEmbedding auto-selection on %s: %s (%.0f%%, %.0f s)",
                desc,
                state["message"],
                100.0 * float(state["fraction"]),
                time.perf_counter() - start,
            )

    logger.info("AutoEmbedding auto-selection on %s: started", desc)
    thread = threading.Thread(target=beat, name="autoembedding-probe-log", daemon=True)
    thread.start()
    try:
        yield progress if progress is True else record
    finally:
        done.set()
        thread.join()
        logger.info(
            "AutoEmbedding auto-selection on %s: ended after %.1f s",
            desc,
            time.perf_counter() - start,
        )
