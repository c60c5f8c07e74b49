"""The journal of a swap on Ray: which record ranges are in the staging collection.

The single-machine swap writes pages in order, so one offset (``swap_offset``) says what is
done. On Ray, pages finish out of order. This module extends the journal compatibly:

* ``swap_offset`` keeps its meaning: every record before it is in the staging collection (the
  done *prefix*). The single-machine engine can resume a copy the Ray engine started, and the
  other way round;
* ``swap_done`` (new) lists the finished record ranges past the prefix, as ``start-end`` pairs
  (end exclusive) joined by commas, e.g. ``"2560-2816,3072-3584"``. Pages finish roughly in order,
  so this string stays short: about one range per page in flight.

Only the driver writes the journal (one writer, so no update is lost), at most once per
:data:`FLUSH_S` seconds and at the end; pages finished after the last write are embedded again
by a rerun. That is harmless: pages are written with idempotent upserts by id, so redoing a page
cannot duplicate a record, and the verify phase checks every id anyway.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable

from autoembedding.errors import SwapError
from autoembedding.swap.journal import K_DONE, K_OFFSET, Journal

__all__ = ["FLUSH_S", "K_DONE", "DoneRanges", "split_pages"]

#: The driver writes the journal at most this often while pages finish.
FLUSH_S = 1.0


class DoneRanges:
    """A set of finished record ranges ``[start, end)``, kept sorted and merged.

    Example:
        >>> done = DoneRanges.parse(0, "")
        >>> done.add(256, 512); done.add(0, 256)
        >>> done.prefix, done.encode()
        (512, '')
    """

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in ranges:
            self.add(start, end)

    @classmethod
    def parse(cls, offset: int, text: str | None) -> DoneRanges:
        """The ranges a journal holds: ``[0, offset)`` plus the ``swap_done`` string.

        Raises:
            SwapError: If ``text`` is not ``start-end[,start-end...]``.
        """
        done = cls([(0, offset)] if offset > 0 else [])
        for part in (text or "").split(","):
            if not part.strip():
                continue
            try:
                start, end = (int(x) for x in part.split("-"))
            except ValueError as exc:
                raise SwapError(
                    f"The swap journal key {K_DONE!r} holds {text!r}, not 'start-end,...'; "
                    "delete the staging collection to copy afresh."
                ) from exc
            done.add(start, end)
        return done

    @classmethod
    def of(cls, journal: Journal) -> DoneRanges:
        """The finished ranges recorded in ``journal``."""
        raw = journal.metadata.get(K_DONE)
        return cls.parse(journal.offset, None if raw is None else str(raw))

    def add(self, start: int, end: int) -> None:
        """Mark records ``[start, end)`` done, merging with neighbouring ranges."""
        if end <= start:
            return
        i = bisect.bisect_left(self._ends, start)  # first range that ends at or after start
        j = bisect.bisect_right(self._starts, end)  # ranges before j start at or before end
        if i < j:
            start = min(start, self._starts[i])
            end = max(end, self._ends[j - 1])
        self._starts[i:j] = [start]
        self._ends[i:j] = [end]

    @property
    def prefix(self) -> int:
        """Every record before this offset is done."""
        return self._ends[0] if self._starts and self._starts[0] == 0 else 0

    @property
    def count(self) -> int:
        """Records done in all."""
        return sum(e - s for s, e in zip(self._starts, self._ends, strict=True))

    def encode(self) -> str:
        """The ranges past the prefix, as stored under :data:`K_DONE`."""
        skip = 1 if self.prefix else 0
        pairs = zip(self._starts[skip:], self._ends[skip:], strict=True)
        return ",".join(f"{s}-{e}" for s, e in pairs)

    def missing(self, total: int) -> list[tuple[int, int]]:
        """The ranges of ``[0, total)`` not done yet, in order."""
        gaps, at = [], 0
        for start, end in zip(self._starts, self._ends, strict=True):
            if start >= total:
                break
            if start > at:
                gaps.append((at, start))
            at = max(at, end)
        if at < total:
            gaps.append((at, total))
        return gaps

    def journal_changes(self) -> dict[str, int | str]:
        """The journal keys that record these ranges (``swap_offset`` and ``swap_done``)."""
        return {K_OFFSET: self.prefix, K_DONE: self.encode()}


def split_pages(ranges: Iterable[tuple[int, int]], page_size: int) -> list[tuple[int, int]]:
    """Cut record ranges into pages: ``(offset, count)`` with ``count <= page_size``.

    Raises:
        ValueError: If ``page_size`` is not positive.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}.")
    pages = []
    for start, end in ranges:
        for k in range(math.ceil((end - start) / page_size)):
            offset = start + k * page_size
            pages.append((offset, min(page_size, end - offset)))
    return pages
