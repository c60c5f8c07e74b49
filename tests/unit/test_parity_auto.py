"""Auto-selection a user can watch and bound (issue 13, "What was found").

Each test fails on the old behaviour: no ``show_progress``, no default time budget, the whole
first batch handed to the probe with BM25 allowed to win, no environment variable to pin the
model or turn auto mode off, warnings pointing at internal lines and logged as well as warned.
"""

from __future__ import annotations

import importlib
import logging
import warnings

import chromadb
import pytest

from autoembedding.adapters import get_adapter
from autoembedding.adapters.fake import FakeAdapter
from autoembedding.candidates import Candidate, CandidateResult, ProbeReport
from autoembedding.chroma.records import write_record
from autoembedding.env import AUTO_ENV, MODEL_ENV
from autoembedding.errors import AutoSelectionWarning, InvalidArgumentError, UnknownModelError
from autoembedding.integrations import langchain as lc
from autoembedding.integrations import llama_index as li
from autoembedding.integrations._progress import progress_arg
from autoembedding.integrations._zero_config import plan_zero_config
from autoembedding.integrations.auto import PROBE_SAMPLE_SIZE, ModelResolver
from autoembedding.integrations.chroma import AutoEmbeddingFunction, get_or_create_collection

CLASSES = [lc.AutoEmbedding, li.AutoEmbedding]
WORDS = ["alpha", "beta", "gamma", "delta", "omega"]
DOCS = [f"note {i}: {WORDS[i % 5]} measured in trial {i * 7 % 13}" for i in range(80)]


@pytest.fixture(autouse=True)
def _clean(monkeypatch, tmp_path):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.delenv(AUTO_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("autoembedding.integrations.auto.OFFLINE_DEFAULT", "fake/default")


class ProbeSpy:
    """Stands in for autoembedding.probe.probe: records its keyword arguments, picks a winner."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, collection=None, candidates=None, targets=None, queries=None,
                 budget_s=None, **kwargs):  # fmt: skip
        self.calls.append({"budget_s": budget_s, **kwargs})
        winner = CandidateResult(Candidate("fake/winner"), meets_targets=True)
        return ProbeReport(results=[winner], winner=winner, reason="best")


@pytest.fixture
def spy(monkeypatch) -> ProbeSpy:
    probe = ProbeSpy()
    monkeypatch.setattr(importlib.import_module("autoembedding.probe"), "probe", probe)
    return probe


def _embed_docs(emb, texts):
    if isinstance(emb, li.AutoEmbedding):
        return emb.get_text_embedding_batch(texts)
    return emb.embed_documents(texts)


# ---------------------------------------------------------------------------- bounded probe
@pytest.mark.parametrize("cls", CLASSES)
def test_probe_gets_the_default_budget_a_capped_sample_and_no_bm25(cls, spy):
    emb = cls()
    _embed_docs(emb, [f"{d} copy {k}" for k in range(3) for d in DOCS])  # 240 documents
    (call,) = spy.calls
    assert call["budget_s"] == 120.0
    # issue 24.7: the zero-config sample is sized up front from the catalog's cost figures
    assert call["sample_size"] == plan_zero_config(240).sample_size <= PROBE_SAMPLE_SIZE == 200
    assert call["lexical"] is False  # an embedding cannot use a BM25 winner
    assert emb.adapter.model_id == "fake/winner"


def test_probe_budget_is_configurable_and_small_batches_are_not_oversampled(spy):
    emb = lc.AutoEmbedding(probe_budget_s=15)
    emb.embed_documents(DOCS)
    assert spy.calls[0]["budget_s"] == 15 and spy.calls[0]["sample_size"] <= len(DOCS)


def test_candidate_models_are_released_after_the_probe(monkeypatch):
    import gc
    import weakref

    built: list[weakref.ref] = []
    real_init = FakeAdapter.__init__

    def tracking_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        built.append(weakref.ref(self))

    monkeypatch.setattr(FakeAdapter, "__init__", tracking_init)
    emb = lc.AutoEmbedding(candidates=["fake/good", "fake/other"], save_choice=False)
    emb.embed_documents(DOCS)
    gc.collect()
    alive = [ref() for ref in built if ref() is not None]
    assert alive == [emb.adapter]  # only the winner's adapter is left


# ---------------------------------------------------------------------------- progress
def test_show_progress_callable_watches_the_probe_and_batch_embedding():
    seen: list[tuple[str, float]] = []
    good, bad = FakeAdapter("good", batch_size=4), FakeAdapter("bad", noise=0.97)
    emb = lc.AutoEmbedding(
        candidates=[bad, good], show_progress=lambda m, f: seen.append((m, f)), batch_size=4
    )
    emb.embed_documents(DOCS)
    assert emb.adapter is good
    probe_steps = [f for m, f in seen if "texts" not in m]
    assert len(probe_steps) >= 3 and probe_steps[-1] == 1.0
    seen.clear()
    emb.embed_documents(DOCS)  # batch embedding reports its steps too
    assert [f for _, f in seen][-1] == 1.0 and len(seen) == 3  # 80 texts, steps of 32


def test_show_progress_reaches_the_probe(spy):
    lc.AutoEmbedding(show_progress=False, save_choice=False).embed_documents(DOCS)
    lc.AutoEmbedding(save_choice=False).embed_documents(DOCS)
    quiet, default = (c["progress"] for c in spy.calls)
    assert default is True  # default: a bar on a terminal
    assert callable(quiet) and quiet("stage 1", 0.5) is None  # records for the log, shows nothing


def test_show_progress_true_forces_lines_when_not_a_terminal(capsys):
    report = progress_arg(True)  # pytest's stderr is not a terminal
    assert callable(report)
    report("stage 1", 0.25)
    report("stage 1", 0.26)  # same message, same 10 % step: not repeated
    assert capsys.readouterr().err.count("stage 1") == 1
    assert progress_arg(None) is True and progress_arg(False) is False


def test_llama_index_show_progress_field_drives_its_batch_bar(monkeypatch):
    from llama_index.core.base.embeddings.base import BaseEmbedding

    seen: list[bool] = []
    real = BaseEmbedding.get_text_embedding_batch

    def spy_batch(self, texts, show_progress=False, **kwargs):
        seen.append(show_progress)
        return real(self, texts, show_progress=False, **kwargs)

    monkeypatch.setattr(BaseEmbedding, "get_text_embedding_batch", spy_batch)
    li.AutoEmbedding(model="fake/a", show_progress=True).get_text_embedding_batch(["x"])
    li.AutoEmbedding(model="fake/a").get_text_embedding_batch(["x"])
    assert seen == [True, False]


# ---------------------------------------------------------------------------- env vars
@pytest.mark.parametrize("cls", CLASSES)
def test_env_model_pins_everywhere_a_model_is_not_given(cls, spy, monkeypatch, tmp_path):
    monkeypatch.setenv(MODEL_ENV, "fake/env")
    emb = cls(truncate_dim=32)
    assert emb.adapter.name == "fake/env@32" and emb.choice.source == "env"
    _embed_docs(emb, DOCS)
    assert spy.calls == []  # no probe
    assert cls(model="fake/given").adapter.model_id == "fake/given"  # a given model wins
    assert AutoEmbeddingFunction().adapter.model_id == "fake/env"
    client = chromadb.PersistentClient(path=str(tmp_path / "db"))
    assert get_or_create_collection(client, "new").record().model_id == "fake/env"


def test_env_model_does_not_override_a_collection_record(monkeypatch, tmp_path):
    client = chromadb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("recorded", embedding_function=None)
    write_record(col, get_adapter("fake/recorded").record())
    monkeypatch.setenv(MODEL_ENV, "fake/env")
    with pytest.warns(AutoSelectionWarning, match="AUTOEMBEDDING_MODEL='fake/env' is not used"):
        emb = lc.AutoEmbedding(collection=col)
    assert emb.adapter.model_id == "fake/recorded"


@pytest.mark.parametrize("cls", CLASSES)
def test_bad_env_model_fails_at_construction_naming_the_variable(cls, monkeypatch):
    monkeypatch.setenv(MODEL_ENV, "no-such-model")
    with pytest.raises(UnknownModelError, match="AUTOEMBEDDING_MODEL='no-such-model'"):
        cls()


@pytest.mark.parametrize("cls", CLASSES)
def test_auto_off_uses_the_default_without_probing_with_one_warning(cls, spy, monkeypatch):
    monkeypatch.setenv(AUTO_ENV, "0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb = cls()
        _embed_docs(emb, DOCS)
        _embed_docs(emb, DOCS)
    assert emb.adapter.model_id == "fake/default"
    assert spy.calls == []
    auto = [w for w in caught if issubclass(w.category, AutoSelectionWarning)]
    assert len(auto) == 1 and "AUTOEMBEDDING_AUTO=0" in str(auto[0].message)
    assert auto[0].filename == __file__
    assert not (emb.choice and (emb.choice.source == "probe"))


def test_auto_env_with_a_bad_value_fails_at_construction(monkeypatch):
    monkeypatch.setenv(AUTO_ENV, "maybe")
    with pytest.raises(InvalidArgumentError, match="AUTOEMBEDDING_AUTO"):
        lc.AutoEmbedding()


# ---------------------------------------------------------------------------- warnings
def _fallback_warnings(call) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, AutoSelectionWarning)]


def test_fallback_warning_points_at_the_users_line_langchain():
    emb = lc.AutoEmbedding()
    (w,) = _fallback_warnings(lambda: emb.embed_documents(["only", "three", "docs"]))
    assert w.filename == __file__ and "fewer than the 50" in str(w.message)


def test_fallback_warning_points_at_the_users_line_through_langchain_chroma():
    from langchain_chroma import Chroma

    store = Chroma("zero-config", embedding_function=lc.AutoEmbedding())
    (w,) = _fallback_warnings(lambda: store.add_texts(["only", "three", "docs"]))
    assert w.filename == __file__


def test_fallback_warning_points_at_the_users_line_llama_index():
    emb = li.AutoEmbedding()
    (w,) = _fallback_warnings(lambda: emb.get_query_embedding("a query first"))
    assert w.filename == __file__ and "query came before" in str(w.message)


def test_unrecorded_collection_warning_points_at_the_constructor_line(spy, tmp_path):
    client = chromadb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("plain", embedding_function=None)
    col.add(
        ids=["1"], documents=["x"], embeddings=get_adapter("fake/winner").embed_documents(["x"])
    )
    (w,) = _fallback_warnings(lambda: lc.AutoEmbedding(collection=col))
    assert w.filename == __file__ and "no model record" in str(w.message)


def test_warning_is_not_also_logged_and_shown_once_per_line(caplog):
    emb = lc.AutoEmbedding()
    with caplog.at_level(logging.WARNING, logger="autoembedding"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")  # Python's default: once per line and message
            for _ in range(3):
                emb.embed_query("q")  # the first pins the default; the rest reuse it
            for _ in range(3):
                ModelResolver(save=False).adapter_for_query()  # same message, same line
    lines = [w.lineno for w in caught if issubclass(w.category, AutoSelectionWarning)]
    assert len(lines) == 2 and len(set(lines)) == 2  # one per line of this test
    assert not [r for r in caplog.records if "offline default" in r.getMessage()]


class _CuttingAdapter(FakeAdapter):
    """Cuts one text of every batch (as the ONNX/static backends count their cuts)."""

    def _encode(self, texts, *, is_query):
        self._add_truncated(1)
        return super()._encode(texts, is_query=is_query)


def test_truncation_warning_counts_every_batch_of_a_call():
    from autoembedding.errors import TruncationWarning

    adapter = _CuttingAdapter("cut", batch_size=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        adapter.embed_documents(["a", "b", "c", "d", "e", "f"])  # 3 batches, one cut in each
    (w,) = [w for w in caught if issubclass(w.category, TruncationWarning)]
    assert str(w.message).startswith("3 text(s) exceeded")
