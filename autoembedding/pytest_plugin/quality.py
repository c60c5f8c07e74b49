"""hit@k of a model on the plugin's corpus and queries, computed by the probe's own metrics.

The ranking and the metric are :func:`autoembedding.metrics.per_query_metrics`,
the function the probe reports with, so the plugin and ``autoembed probe`` agree on what a hit is
(cosine similarity, ties broken by corpus order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from autoembedding.pytest_plugin.data import Corpus, LabelledQuery

if TYPE_CHECKING:
    import numpy as np

    from autoembedding.adapters.base import BaseAdapter

__all__ = ["HitAtKRecorder", "hit_at_k"]


def hit_at_k(
    adapter: BaseAdapter,
    corpus: Corpus,
    queries: Sequence[LabelledQuery],
    k: int = 10,
    *,
    doc_vectors: np.ndarray | None = None,
) -> float:
    """Share of queries with at least one relevant text among the ``k`` nearest (cosine).

    Args:
        adapter: The model (anything with ``embed_documents`` and ``embed_queries``/
            ``embed_query``).
        corpus: The texts searched.
        queries: Labelled queries; those whose relevant ids are all outside the corpus are
            skipped (they cannot be hit).
        k: How many nearest texts count (``k >= 1``).
        doc_vectors: The corpus already embedded by ``adapter`` (saves re-embedding).

    Returns:
        hit@k in ``0..1``.

    Raises:
        ValueError: If no query has a relevant text inside the corpus, or ``k < 1``.

    """
    import numpy as np

    from autoembedding.adapters.quantize import l2_normalize
    from autoembedding.metrics import first_relevant_rank

    if k < 1:
        raise ValueError(f"k of hit@k must be at least 1, got {k}.")
    inside = set(corpus.ids)
    usable = [q for q in queries if q.relevant & inside]
    if not usable:
        raise ValueError(
            f"None of the {len(queries)} queries has a relevant id among the {len(corpus)} texts "
            f"of {corpus.source or 'the corpus'}; raise autoembedding_sample_size or check ids."
        )
    docs = doc_vectors if doc_vectors is not None else adapter.embed_documents(list(corpus.texts))
    if hasattr(adapter, "embed_queries"):
        qs = np.asarray(adapter.embed_queries([q.text for q in usable]), dtype=np.float32)
    else:
        qs = np.stack([np.asarray(adapter.embed_query(q.text)) for q in usable])
    scores = l2_normalize(qs) @ l2_normalize(np.asarray(docs)).T
    ranks = first_relevant_rank(scores, corpus.ids, [q.relevant for q in usable])
    return float(np.mean((ranks >= 1) & (ranks <= k)))


class HitAtKRecorder:
    """Computes hit@k for an adapter and writes it into ``benchmark.extra_info``.

    The ``autoembedding_hit_at_k`` fixture returns one, bound to the configured corpus and
    queries. Corpus vectors are computed once per model per session.
    """

    def __init__(
        self,
        corpus: Corpus,
        queries: Sequence[LabelledQuery],
        k: int,
        cache: dict[str, np.ndarray],
        recorded: list[Any],
    ) -> None:
        self.corpus = corpus
        self.queries = list(queries)
        self.k = k
        self._cache = cache
        self._recorded = recorded

    def __call__(
        self,
        benchmark: Any,
        adapter: BaseAdapter,
        *,
        k: int | None = None,
        texts_per_round: int | None = None,
    ) -> float:
        """Record hit@k of ``adapter`` beside ``benchmark``'s timings.

        Args:
            benchmark: pytest-benchmark's ``benchmark`` fixture (or any object with an
                ``extra_info`` dict, or ``None`` to only compute the value).
            adapter: The model that was timed.
            k: Override ``autoembedding_k``.
            texts_per_round: Texts embedded per timed call; when given, the summary shows
                texts/s.

        Returns:
            hit@k in ``0..1``.

        """
        k = k or self.k
        key = getattr(adapter, "name", None) or repr(adapter)
        if key not in self._cache:
            self._cache[key] = adapter.embed_documents(list(self.corpus.texts))
        value = hit_at_k(adapter, self.corpus, self.queries, k, doc_vectors=self._cache[key])
        info = getattr(benchmark, "extra_info", None)
        if isinstance(info, dict):
            info["model"] = key
            info["dim"] = int(getattr(adapter, "dim", 0) or 0)
            info[f"hit@{k}"] = round(value, 4)
            info["queries"] = len(self.queries)
            info["corpus"] = len(self.corpus)
            if texts_per_round:
                info["texts_per_round"] = int(texts_per_round)
            self._recorded.append(benchmark)
        return value
