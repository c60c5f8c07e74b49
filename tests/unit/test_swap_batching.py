"""Issue 14: the swap chooses its batch size by measured throughput (BatchTuner)."""

from __future__ import annotations

import numpy as np
import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.chroma.pages import Page
from autoembedding.swap import batching
from autoembedding.swap.batching import BatchTuner


def page(n: int = 10, length: int = 50) -> Page:
    return Page(
        offset=0,
        ids=[f"i{k}" for k in range(n)],
        documents=["x" * length] * n,
        metadatas=[None] * n,
    )


class Clock:
    """A fake ``perf_counter`` for which a page at batch size ``b`` takes ``cost[b]`` seconds."""

    def __init__(self, cost: dict[int, float]) -> None:
        self.cost, self.now, self.sizes = cost, 0.0, []

    def perf_counter(self) -> float:
        return self.now

    def embed(self, adapter, p: Page) -> np.ndarray:
        self.sizes.append(adapter.batch_size)
        self.now += self.cost[adapter.batch_size]
        return np.zeros((len(p.ids), adapter.dim), dtype=np.float32)


def run(cost: dict[int, float], start: int, pages: int, monkeypatch, **kwargs):
    clock = Clock(cost)
    monkeypatch.setattr(batching, "time", clock)
    adapter = FakeAdapter("m", batch_size=start)
    tuner = BatchTuner(adapter, clock.embed, **kwargs)
    for _ in range(pages):
        tuner.embed(page())
    return tuner, adapter, clock.sizes


def test_the_fastest_of_a_quarter_half_own_and_double_is_kept(monkeypatch) -> None:
    cost = {8: 0.8, 16: 0.9, 32: 1.0, 64: 1.1}
    tuner, adapter, sizes = run(cost, 32, 6, monkeypatch)
    assert sizes == [32, 32, 8, 16, 64, 8]  # an untimed first page, one each, then the fastest
    assert tuner.chosen == 8
    tuner.close()
    assert adapter.batch_size == 32  # the adapter's own size is given back


def test_larger_batches_win_when_they_are_faster(monkeypatch) -> None:
    tuner, _, sizes = run({8: 1.2, 16: 1.1, 32: 1.0, 64: 0.7}, 32, 6, monkeypatch)
    assert sizes == [32, 32, 8, 16, 64, 64] and tuner.chosen == 64


def test_a_size_must_beat_the_own_size_by_the_margin(monkeypatch) -> None:
    cost = {8: 1.0, 16: 0.99, 32: 1.0, 64: 0.995}
    tuner, _, sizes = run(cost, 32, 6, monkeypatch)
    assert sizes == [32, 32, 8, 16, 64, 32] and tuner.chosen == 32


def test_sizes_stay_within_the_bounds(monkeypatch) -> None:
    tuner, _, sizes = run({4: 1.0, 8: 0.5, 2: 0.1}, 4, 4, monkeypatch)
    assert sizes == [4, 4, 8, 8] and tuner.chosen == 8  # no 1 or 2: below MIN_BATCH


def test_rates_count_characters_so_long_pages_do_not_look_slow(monkeypatch) -> None:
    clock = Clock({32: 1.0, 8: 1.0})
    monkeypatch.setattr(batching, "time", clock)
    tuner = BatchTuner(FakeAdapter("m", batch_size=32), clock.embed)
    tuner.embed(page())  # untimed
    tuner.embed(page(length=50))
    tuner.embed(page(length=100))  # the same seconds for twice the text: 8 is faster
    assert tuner.rates[8] > tuner.rates[32] * 1.9


def test_a_batch_size_given_by_the_user_is_not_searched(monkeypatch) -> None:
    tuner, adapter, sizes = run({32: 1.0, 16: 0.1}, 32, 3, monkeypatch, enabled=False)
    assert sizes == [32, 32, 32] and tuner.chosen is None


@pytest.mark.parametrize("pages", [1, 4])
def test_too_few_pages_end_without_a_choice_and_restore_the_size(monkeypatch, pages) -> None:
    tuner, adapter, _ = run({32: 1.0, 16: 0.5, 8: 0.4, 64: 1.0}, 32, pages, monkeypatch)
    assert tuner.chosen is None
    tuner.close()
    assert adapter.batch_size == 32


def test_a_swap_searches_the_batch_size_of_a_model_it_builds(chroma_client, monkeypatch) -> None:
    from autoembedding.adapters.fake import FakeAdapter as Fake
    from autoembedding.swap import swap

    docs = [f"document number {k} " * (1 + k % 5) for k in range(60)]
    col = chroma_client.create_collection("docs", embedding_function=None)
    col.add(
        ids=[f"d{k}" for k in range(60)],
        documents=docs,
        embeddings=Fake("old", dim=8).embed_documents(docs),
    )
    seen: list[int] = []
    real = Fake._encode_all

    def spy(self, texts, *, is_query):
        seen.append(self.batch_size)
        return real(self, texts, is_query=is_query)

    monkeypatch.setattr(Fake, "_encode_all", spy)
    result = swap("docs", "fake/new", client=chroma_client, page_size=10, progress=False)
    assert seen[:5] == [32, 32, 8, 16, 64]  # untimed, its own size, a quarter, half, double
    assert result.batch_size is not None and 8 <= result.batch_size <= 64
    assert f"batch size {result.batch_size} by measured throughput" in result.summary()


def test_an_adapter_passed_in_keeps_its_batch_size(chroma_client) -> None:
    from autoembedding.swap import swap

    docs = [f"document number {k}" for k in range(40)]
    col = chroma_client.create_collection("docs", embedding_function=None)
    col.add(
        ids=[f"d{k}" for k in range(40)],
        documents=docs,
        embeddings=FakeAdapter("old", dim=8).embed_documents(docs),
    )
    adapter = FakeAdapter("new", dim=24, batch_size=16)
    seen: list[int] = []
    real = adapter._encode_all

    def spy(texts, *, is_query):
        seen.append(adapter.batch_size)
        return real(texts, is_query=is_query)

    adapter._encode_all = spy  # type: ignore[method-assign]
    result = swap("docs", adapter, client=chroma_client, page_size=10, progress=False)
    assert set(seen) == {16} and result.batch_size is None
    assert "measured throughput" not in result.summary()
