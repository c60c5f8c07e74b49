"""A swap's written vectors do not depend on the batch sizes its tuner tried (real int8 model).

The swap's batch-size search (:class:`~autoembedding.swap.batching.BatchTuner`)
embeds its first pages at four sizes. With the model users get for ``minilm-int8`` (the int8
export ``get_adapter`` builds), every stored vector must equal the text's vector embedded alone:
otherwise a swap writes vectors that its own verification, and every later query, disagree with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::autoembedding.errors.TruncationWarning"),
]

MODEL = "minilm-int8"
#: The same floor as the shared batch-invariance test: a vector may move only by float rounding.
MIN_COSINE = 0.99999


def test_vectors_written_under_the_batch_size_search_equal_each_text_alone(
    chroma_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autoembedding.adapters import get_adapter
    from autoembedding.integrations.chroma import AutoEmbeddingFunction
    from autoembedding.swap import swap

    # Texts of very different lengths, so a page's padding differs with its batch split.
    words = "cells protein expression tumour growth signalling pathway mice patients".split()
    docs = [
        " ".join(words[(k + j) % len(words)] for j in range(3 + 9 * (k % 7))) for k in range(120)
    ]
    ids = [f"d{k:03d}" for k in range(120)]
    collection = chroma_client.create_collection(
        "docs",
        embedding_function=AutoEmbeddingFunction("minilm-l3"),
        metadata={"hnsw:space": "cosine"},
    )
    collection.add(ids=ids, documents=docs)

    adapter = get_adapter(MODEL)
    sizes: list[int] = []
    real = type(adapter).embed_documents

    def spy(self: Any, texts: Any, *args: Any, **kwargs: Any) -> Any:
        sizes.append(self.batch_size)
        return real(self, texts, *args, **kwargs)

    monkeypatch.setattr(type(adapter), "embed_documents", spy)
    result = swap("docs", MODEL, client=chroma_client, page_size=24, progress=False)
    monkeypatch.undo()
    assert len(set(sizes)) >= 3, f"the tuner tried too few batch sizes: {sizes}"

    got = chroma_client.get_collection("docs", embedding_function=None).get(include=["embeddings"])
    stored = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float64), strict=True))
    alone = np.asarray([adapter.embed_documents([text])[0] for text in docs], dtype=np.float64)
    vectors = np.stack([stored[i] for i in ids])
    cosine = np.sum(vectors * alone, axis=1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(alone, axis=1)
    )
    worst = int(np.argmin(cosine))
    assert cosine[worst] >= MIN_COSINE, (
        f"{ids[worst]}: stored vector vs alone cosine {cosine[worst]:.6f} "
        f"(batch sizes tried {sorted(set(sizes))}, kept {result.batch_size})"
    )
