"""The swap's batch size, chosen by measured throughput on its first pages.

The best number of texts per forward pass depends on the model, the backend and the machine: on
a 2-core CPU, paraphrase-MiniLM-L3-v2 in ONNX Runtime embeds 5-9% more abstracts a second in
batches of 8 than of 32 (less padding, warmer caches), while a GPU wants large batches. So the
copy phase measures instead of assuming. After a first page at the adapter's own batch size
(untimed: it loads the model and runs while nothing is written yet, faster than the pages after
it), :class:`BatchTuner` embeds the next pages at the adapter's own size, a quarter, half and
double of it (within :data:`MIN_BATCH` and :data:`MAX_BATCH`), one page each, and keeps the
fastest when it beats the adapter's own size by :data:`MIN_GAIN` (page timings vary by a few
percent). Every page is copied as usual (its vectors are written whatever the size), so the
search costs at most three pages at a slower size. Rates are characters per second, since pages
differ in length. The adapter's batch size is restored when the copy ends. Only a model the
swap builds from its id is searched: an adapter object passed in keeps its batch size (it may
have been set for a reason, such as a GPU's memory), and so does ``--batch-size``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from autoembedding.chroma.pages import Page

__all__ = ["MAX_BATCH", "MIN_BATCH", "MIN_GAIN", "BatchTuner"]

#: A size must embed this much faster than the adapter's own size to be taken.
MIN_GAIN = 1.03
#: The search stays within these sizes.
MIN_BATCH, MAX_BATCH = 4, 256


class BatchTuner:
    """Embeds the copy's pages, searching the adapter's batch size on the first ones.

    Args:
        adapter: The new model; tuned only when it has an integer ``batch_size`` attribute.
        embed: ``embed(adapter, page) -> vectors`` (the copy's :func:`~.copy.embed_page`).
        enabled: ``False`` keeps the adapter's batch size (an adapter passed to the swap, or a
            ``batch_size`` given by the user).
    """

    def __init__(self, adapter: Any, embed: Any, *, enabled: bool = True) -> None:
        self.adapter = adapter
        self._embed = embed
        size = getattr(adapter, "batch_size", None)
        self.start: int | None = (
            size if enabled and isinstance(size, int) and not isinstance(size, bool) else None
        )
        self.rates: dict[int, float] = {}
        self.best: int | None = self.start
        self._next: int | None = self.start
        self._warm = False

    @property
    def chosen(self) -> int | None:
        """The batch size kept, once the search ended (``None`` while searching or untuned)."""
        return self.best if self.start is not None and self._next is None else None

    def embed(self, page: Page) -> np.ndarray:
        """The page's vectors; while searching, at the size being measured."""
        size = self._next
        if size is None:
            return np.asarray(self._embed(self.adapter, page))
        if not self._warm:  # the first page runs alone (nothing to write yet): not timed
            self._warm = True
            return np.asarray(self._embed(self.adapter, page))
        self.adapter.batch_size = size
        started = time.perf_counter()
        vectors = np.asarray(self._embed(self.adapter, page))
        seconds = max(time.perf_counter() - started, 1e-9)
        chars = sum(len(doc or "") for doc in page.documents) + len(page.ids)
        self._record(size, chars / seconds)
        return vectors

    def _record(self, size: int, rate: float) -> None:
        """Keep ``size``'s rate and move to the next size to measure (or end the search)."""
        assert self.start is not None
        self.rates[size] = rate
        left = [c for c in self._candidates() if c not in self.rates]
        if left:
            self._next = left[0]
            return
        self._next = None
        fastest = max(self.rates, key=self.rates.__getitem__)
        if self.rates[fastest] > self.rates[self.start] * MIN_GAIN:
            self.best = fastest
        self.adapter.batch_size = self.best

    def _candidates(self) -> list[int]:
        """The sizes measured, in order: the adapter's own, a quarter, half and double of it."""
        assert self.start is not None
        sizes = [self.start, self.start // 4, self.start // 2, self.start * 2]
        return [s for s in dict.fromkeys(sizes) if MIN_BATCH <= s <= MAX_BATCH or s == self.start]

    def close(self) -> None:
        """Give the adapter its own batch size back."""
        if self.start is not None:
            self.adapter.batch_size = self.start
