"""One progress reporter for the probe and the swap: nothing, a tqdm bar, or a user callable."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["Progress", "ProgressFn"]

#: A user callback: ``fn(message, fraction_done)`` with ``fraction_done`` in ``[0, 1]``.
ProgressFn = Callable[[str, float], None]


class Progress:
    """Report progress of a job of ``total`` units (documents for a swap, percent for a probe).

    Args:
        progress: ``False`` for silence, ``True`` for a tqdm bar on stderr (hidden when stderr is
            not a terminal), or a callable ``fn(message, fraction)``.
        total: Units of work in the whole job.
        desc: Label of the bar.
        unit: Name of one unit (``"doc"``); with ``unit=""`` the bar shows no rate and no ETA,
            which suits jobs whose units take very different times (the probe's stages).
        initial: Units already done (a resumed swap).
    """

    def __init__(
        self,
        progress: bool | ProgressFn,
        *,
        total: int,
        desc: str,
        unit: str = "",
        initial: int = 0,
    ) -> None:
        self._fn: ProgressFn | None = progress if callable(progress) else None
        self._bar: Any = None
        self.total = max(int(total), 1)
        self.done = int(initial)
        self.message = ""
        if progress is True:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm comes with the [selector] extra; print instead
                self._fn = _print_line(desc)
            else:
                fmt = None if unit else "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}]"
                self._bar = tqdm(
                    total=self.total,
                    initial=self.done,
                    desc=desc,
                    unit=unit or "it",
                    file=sys.stderr,
                    dynamic_ncols=True,
                    leave=False,
                    disable=None,  # off when stderr is not a terminal
                    bar_format=fmt,
                )

    @property
    def fraction(self) -> float:
        """Share of the job done, in ``[0, 1]``."""
        return min(max(self.done / self.total, 0.0), 1.0)

    def update(self, n: int, message: str | None = None) -> None:
        """Count ``n`` more units done, optionally with a new message."""
        self.done += int(n)
        if self._bar is not None:
            self._bar.update(n)
        self._report(message)

    def set(self, message: str, fraction: float) -> None:
        """Jump to ``fraction`` of the job with ``message`` (for jobs measured in stages)."""
        target = round(min(max(fraction, 0.0), 1.0) * self.total)
        delta, self.done = target - self.done, target
        if self._bar is not None and delta:
            self._bar.update(delta)
        self._report(message)

    def close(self) -> None:
        """Close the bar (the callable gets nothing more)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _report(self, message: str | None) -> None:
        if message is not None:
            self.message = message
            if self._bar is not None:
                self._bar.set_postfix_str(message[:50], refresh=False)
        if self._fn is not None:
            self._fn(self.message, self.fraction)


def _print_line(desc: str) -> ProgressFn:
    def show(message: str, fraction: float) -> None:
        print(f"[{desc} {fraction:4.0%}] {message}", file=sys.stderr, flush=True)

    return show
