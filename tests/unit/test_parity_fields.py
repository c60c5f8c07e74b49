"""Framework parity of the integration classes' constructors (issue 13, "What was found").

Each test fails on the old behaviour: misspelled fields dropped silently (LlamaIndex),
``model_name`` ignored (LlamaIndex auto-probed instead) or refused (Chroma function), copies
failing with ``cannot pickle '_thread.RLock'``, bad ids and candidates accepted until the first
embed.
"""

from __future__ import annotations

import copy
import pickle

import chromadb
import numpy as np
import pytest
from pydantic import ValidationError

from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.env import AUTO_ENV, MODEL_ENV
from autoembedding.errors import InvalidArgumentError, UnknownModelError
from autoembedding.integrations import langchain as lc
from autoembedding.integrations import llama_index as li
from autoembedding.integrations.chroma import AutoEmbeddingFunction, get_or_create_collection

CLASSES = [lc.AutoEmbedding, li.AutoEmbedding]
TEXTS = ["red apple pie", "blue car engine", "green tree leaf"]


@pytest.fixture(autouse=True)
def _clean(monkeypatch, tmp_path):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.delenv(AUTO_ENV, raising=False)
    monkeypatch.chdir(tmp_path)  # a saved choice lands here, not in the repository


def _docs(emb) -> list[list[float]]:
    if isinstance(emb, li.AutoEmbedding):
        return emb.get_text_embedding_batch(TEXTS)
    return emb.embed_documents(TEXTS)


def _query(emb, text: str) -> list[float]:
    if isinstance(emb, li.AutoEmbedding):
        return emb.get_query_embedding(text)
    return emb.embed_query(text)


# ---------------------------------------------------------------------------- unknown fields
def test_langchain_misspelled_field_raises_validation_error_like_huggingface_embeddings():
    with pytest.raises(ValidationError, match="did you mean 'precision'"):
        lc.AutoEmbedding(model="fake/a", precison="int8")


def test_llama_index_misspelled_field_raises_type_error_like_huggingface_embedding():
    with pytest.raises(TypeError, match="'precison' \\(did you mean 'precision'\\?\\)"):
        li.AutoEmbedding(model="fake/a", precison="int8")
    # model_validate (no __init__ check) is refused too
    with pytest.raises(ValidationError):
        li.AutoEmbedding.model_validate({"model": "fake/a", "precison": "int8"})


def test_chroma_function_misspelled_option_raises_type_error_like_chromas_functions():
    with pytest.raises(TypeError):
        AutoEmbeddingFunction("fake/a", precison="int8")


# ---------------------------------------------------------------------------- model_name
def test_llama_index_model_name_pins_the_model_without_probing():
    emb = li.AutoEmbedding(model_name="fake/named", embed_batch_size=4)
    assert emb.adapter is not None and emb.adapter.model_id == "fake/named"
    assert emb.choice.source == "pinned" and emb.model == "fake/named"
    assert emb.model_name == "fake/named"
    np.testing.assert_allclose(
        emb.get_query_embedding("red"),
        li.AutoEmbedding(model="fake/named").get_query_embedding("red"),
    )


def test_llama_index_model_name_and_model_must_agree():
    emb = li.AutoEmbedding(model="fake/x", model_name="fake/x", truncate_dim=16)
    assert emb.adapter.name == "fake/x@16"
    with pytest.raises(InvalidArgumentError, match="different models"):
        li.AutoEmbedding(model="fake/x", model_name="fake/y")


def test_llama_index_to_dict_round_trips_with_its_model_name():
    emb = li.AutoEmbedding(model="fake/x", truncate_dim=16, precision="int8")
    again = li.AutoEmbedding.from_dict(emb.to_dict())
    assert again.adapter.name == "fake/x@16:int8"
    assert again.get_query_embedding("a b") == emb.get_query_embedding("a b")


def test_chroma_function_takes_model_name_like_chromas_functions(tmp_path):
    function = AutoEmbeddingFunction(model_name="fake/cf")
    assert function.adapter.model_id == "fake/cf"
    with pytest.raises(InvalidArgumentError, match="different models"):
        AutoEmbeddingFunction("fake/a", model_name="fake/b")
    client = chromadb.PersistentClient(path=str(tmp_path / "db"))
    guarded = get_or_create_collection(client, "docs", model_name="fake/cf")
    assert guarded.record().model_id == "fake/cf"
    # reopened with another model_name: refused like model=
    with pytest.raises(Exception, match="fake/cf"):
        get_or_create_collection(client, "docs", model_name="fake/other")


def test_langchain_plural_alias_is_the_same_class():
    assert lc.AutoEmbeddings is lc.AutoEmbedding
    assert "AutoEmbeddings" in lc.__all__


# ---------------------------------------------------------------------------- construction
@pytest.mark.parametrize("cls", CLASSES)
def test_bad_model_id_fails_at_construction(cls):
    with pytest.raises(UnknownModelError, match="no-such-model"):
        cls(model="no-such-model")


def test_bad_model_name_fails_at_construction():
    with pytest.raises(UnknownModelError):
        li.AutoEmbedding(model_name="no-such-model")
    with pytest.raises(UnknownModelError):
        AutoEmbeddingFunction(model_name="no-such-model")


@pytest.mark.parametrize("cls", CLASSES)
def test_bad_candidates_and_targets_fail_at_construction(cls):
    with pytest.raises(UnknownModelError):
        cls(candidates=["fake/a", "no-such-model"])
    with pytest.raises(InvalidArgumentError, match="lexical"):
        cls(candidates=["fake/a", "bm25"])
    with pytest.raises(InvalidArgumentError, match="targets"):
        cls(targets={"min_hit_at_5": 0.8})


@pytest.mark.parametrize("cls", CLASSES)
def test_construction_does_not_load_weights(cls):
    emb = cls(model=OFFLINE_DEFAULT)
    assert emb.adapter.model_id == OFFLINE_DEFAULT
    assert emb.adapter.load_seconds is None  # nothing loaded yet


@pytest.mark.parametrize("cls", CLASSES)
def test_probe_budget_is_a_field_with_a_default_and_checked(cls):
    assert cls(model="fake/a").probe_budget_s == 120.0
    assert cls(model="fake/a", probe_budget_s=30).probe_budget_s == 30.0
    with pytest.raises(ValidationError):
        cls(model="fake/a", probe_budget_s=0)


# ---------------------------------------------------------------------------- copies
@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_copy_round_trip_embeds_the_same_vectors(cls, how):
    emb = cls(model="fake/c", truncate_dim=32, precision="int8")
    before_docs, before_query = _docs(emb), _query(emb, "red apple")
    again = pickle.loads(pickle.dumps(emb)) if how == "pickle" else copy.deepcopy(emb)
    assert again.adapter is not emb.adapter  # rebuilt, weights re-load lazily
    assert again.choice == emb.choice
    assert _docs(again) == before_docs
    assert _query(again, "red apple") == before_query


@pytest.mark.parametrize("cls", CLASSES)
def test_copy_keeps_an_auto_selected_choice(cls, monkeypatch):
    monkeypatch.setattr("autoembedding.integrations.auto.OFFLINE_DEFAULT", "fake/default")
    emb = cls(min_probe_docs=50)
    with pytest.warns(Warning):
        _docs(emb)  # 3 documents: the (fake) offline default, with a warning
    again = pickle.loads(pickle.dumps(emb))
    assert again.adapter.model_id == "fake/default" and again.choice.source == "default"
    assert _query(again, "red") == _query(emb, "red")


@pytest.mark.parametrize("cls", CLASSES)
def test_copy_of_a_collection_bound_embedding(cls, tmp_path):
    client = chromadb.PersistentClient(path=str(tmp_path / "db"))
    guarded = get_or_create_collection(client, "docs", model="fake/first")
    emb = cls(collection=guarded.collection)
    twin = copy.deepcopy(emb)
    assert twin.collection is emb.collection  # a live collection is shared, not copied
    assert twin.adapter.model_id == "fake/first"
    assert _query(twin, "red") == _query(emb, "red")
    with pytest.raises(TypeError, match="cannot be pickled.*deepcopy works"):
        pickle.dumps(emb)
