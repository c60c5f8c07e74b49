"""Unit tests of the shared model resolution (``integrations.auto``) on the fake adapter."""

from __future__ import annotations

import importlib
import json
import sys
import types
import warnings

import pytest

from autoembedding.adapters import get_adapter
from autoembedding.candidates import Candidate, CandidateResult, ProbeReport
from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.chroma.records import get_record, write_record
from autoembedding.errors import (
    AutoEmbeddingError,
    ChromaUnavailableError,
    CollectionError,
    ModelMismatchError,
)
from autoembedding.integrations.auto import (
    CHOICE_PATH_ENV,
    AutoSelectionWarning,
    ModelChoice,
    ModelResolver,
    load_choice,
    resolve_choice_path,
    save_choice,
)

DOCS = [f"document {i} about topic {i % 7} and colour {i % 5}" for i in range(60)]


class ProbeSpy:
    """Stands in for selector.probe: records calls, returns a chosen winner or raises."""

    def __init__(self, winner: str | None = "fake/winner", error: Exception | None = None):
        self.winner = winner
        self.error = error
        self.calls: list[dict] = []

    def __call__(
        self,
        collection=None,
        candidates=None,
        targets=None,
        queries=None,
        budget_s=None,
        *,
        documents=None,
        seed=0,
        progress=False,
        **options,
    ):
        self.calls.append(
            {
                "collection": collection,
                "candidates": candidates,
                "targets": targets,
                "documents": documents,
                "budget_s": budget_s,
                "progress": progress,
                **options,
            }
        )
        if self.error is not None:
            raise self.error
        results = [CandidateResult(Candidate(c)) for c in (candidates or ["fake/winner"])]
        winner = None
        if self.winner is not None:
            winner = CandidateResult(Candidate.parse(self.winner), meets_targets=True)
        return ProbeReport(
            results=results, winner=winner, reason="best hit@5" if winner else "hit@5 0.1 < 0.9"
        )


@pytest.fixture
def install_probe(monkeypatch):
    """Replace autoembedding.probe.probe (the real module if it exists, else a stand-in module)."""

    def install(spy: ProbeSpy) -> ProbeSpy:
        try:
            module = importlib.import_module("autoembedding.probe")
            monkeypatch.setattr(module, "probe", spy)
        except ImportError:
            module = types.ModuleType("autoembedding.probe")
            module.probe = spy
            monkeypatch.setitem(sys.modules, "autoembedding.probe", module)
        return spy

    return install


@pytest.fixture
def choice_file(tmp_path):
    return tmp_path / "choice" / "choice.json"


def _collection(chroma_client, name, docs=DOCS, embeddings_dim=64, documents=True):
    col = chroma_client.create_collection(name, embedding_function=None)
    if docs:
        adapter = get_adapter("fake/unknown", dim=embeddings_dim)
        col.add(
            ids=[str(i) for i in range(len(docs))],
            embeddings=adapter.embed_documents(docs),
            documents=list(docs) if documents else None,
        )
    return col


def test_pinned_model_is_used_and_not_saved(choice_file):
    resolver = ModelResolver("fake/pinned", choice_path=choice_file)
    assert resolver.adapter.name == "fake/pinned"
    assert resolver.adapter_for_documents(DOCS).name == "fake/pinned"
    assert resolver.choice.source == "pinned"
    assert not choice_file.exists()


def test_probe_on_first_batch_pins_and_saves(install_probe, choice_file):
    spy = install_probe(ProbeSpy("fake/winner@32"))
    resolver = ModelResolver(candidates=["fake/a", "fake/winner@32"], choice_path=choice_file)
    assert resolver.adapter is None
    adapter = resolver.adapter_for_documents(DOCS)
    assert adapter.name == "fake/winner@32" and adapter.dim == 32
    assert spy.calls[0]["documents"] == DOCS
    assert spy.calls[0]["candidates"] == ["fake/a", "fake/winner@32"]
    # pinned: later batches never re-probe
    assert resolver.adapter_for_documents(DOCS[:3]) is adapter
    assert len(spy.calls) == 1
    saved = json.loads(choice_file.read_text())
    assert saved["model_id"] == "fake/winner" and saved["truncate_dim"] == 32
    assert saved["source"] == "probe"


def test_saved_choice_is_reused_on_restart(install_probe, choice_file):
    install_probe(ProbeSpy("fake/winner"))
    ModelResolver(choice_path=choice_file).adapter_for_documents(DOCS)
    spy = install_probe(ProbeSpy("fake/other"))
    again = ModelResolver(choice_path=choice_file)
    assert again.adapter_for_documents(DOCS).name == "fake/winner"
    assert again.choice.source == "saved"
    assert spy.calls == []


def test_small_first_batch_uses_default_with_warning(install_probe, choice_file, monkeypatch):
    spy = install_probe(ProbeSpy("fake/winner"))
    monkeypatch.setattr("autoembedding.integrations.auto.OFFLINE_DEFAULT", "fake/default")
    resolver = ModelResolver(choice_path=choice_file, min_probe_docs=50)
    with pytest.warns(AutoSelectionWarning, match="fewer than the 50"):
        adapter = resolver.adapter_for_documents(DOCS[:10])
    assert adapter.model_id == "fake/default"
    assert spy.calls == []
    assert load_choice(choice_file).source == "default"


def test_probe_failure_falls_back_to_default(install_probe, choice_file, monkeypatch):
    install_probe(ProbeSpy(error=RuntimeError("engine crashed")))
    monkeypatch.setattr("autoembedding.integrations.auto.OFFLINE_DEFAULT", "fake/default")
    resolver = ModelResolver(choice_path=choice_file)
    with pytest.warns(AutoSelectionWarning, match="engine crashed"):
        assert resolver.adapter_for_documents(DOCS).model_id == "fake/default"


def test_no_winner_falls_back_to_default(install_probe, choice_file, monkeypatch):
    install_probe(ProbeSpy(winner=None))
    monkeypatch.setattr("autoembedding.integrations.auto.OFFLINE_DEFAULT", "fake/default")
    resolver = ModelResolver(choice_path=choice_file)
    with pytest.warns(AutoSelectionWarning, match="no candidate met the targets"):
        assert resolver.adapter_for_documents(DOCS).model_id == "fake/default"


def test_query_first_uses_default(choice_file, monkeypatch):
    monkeypatch.setattr("autoembedding.integrations.auto.OFFLINE_DEFAULT", "fake/default")
    resolver = ModelResolver(choice_path=choice_file)
    with pytest.warns(AutoSelectionWarning, match="query came before"):
        assert resolver.adapter_for_query().model_id == "fake/default"


def test_default_is_the_catalog_offline_default():
    assert OFFLINE_DEFAULT == "sentence-transformers/all-MiniLM-L6-v2"


def test_saved_choice_round_trips_every_vector_option(choice_file):
    record = get_adapter(
        "fake/x", truncate_dim=16, precision="int8", query_prompt="q: ", document_prompt="d: "
    ).record()
    save_choice(ModelChoice(record, "probe", "best hit@5"), choice_file)
    saved = json.loads(choice_file.read_text())
    assert saved == {**record.to_config(), "source": "probe", "reason": "best hit@5"}
    assert load_choice(choice_file) == ModelChoice(record, "probe", "best hit@5")
    resolver = ModelResolver(choice_path=choice_file)
    assert resolver.adapter_for_query().record() == record


def test_choice_path_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv(CHOICE_PATH_ENV, str(tmp_path / "x.json"))
    assert resolve_choice_path(None) == tmp_path / "x.json"
    assert resolve_choice_path(tmp_path / "y.json") == tmp_path / "y.json"


def test_corrupt_choice_file_says_what_to_do(choice_file):
    choice_file.parent.mkdir(parents=True)
    choice_file.write_text("{not json")
    with pytest.raises(AutoEmbeddingError, match="Delete it"):
        ModelResolver(choice_path=choice_file).adapter_for_documents(DOCS)


def test_collection_record_wins_over_probe(install_probe, chroma_client, choice_file):
    spy = install_probe(ProbeSpy("fake/winner"))
    col = _collection(chroma_client, "recorded")
    write_record(col, get_adapter("fake/recorded", precision="int8").record())
    resolver = ModelResolver(collection=col, candidates=["fake/winner"], choice_path=choice_file)
    assert resolver.adapter.name == "fake/recorded:int8"
    assert resolver.choice.source == "collection"
    assert spy.calls == []


def test_pinned_model_against_other_record_refuses(chroma_client, choice_file):
    col = _collection(chroma_client, "recorded")
    write_record(col, get_adapter("fake/recorded").record())
    with pytest.raises(ModelMismatchError, match="fake/recorded.*fake/other"):
        ModelResolver("fake/other", collection=col, choice_path=choice_file)


def test_unrecorded_collection_is_probed(install_probe, chroma_client, choice_file):
    spy = install_probe(ProbeSpy("fake/winner"))
    col = _collection(chroma_client, "plain")
    with pytest.warns(AutoSelectionWarning, match="no model record"):
        resolver = ModelResolver(collection=col, choice_path=choice_file)
    assert resolver.adapter.name == "fake/winner"
    assert spy.calls[0]["collection"] is col


def test_unrecorded_collection_dim_mismatch_refuses(install_probe, chroma_client, choice_file):
    install_probe(ProbeSpy("fake/winner"))  # 64-d
    col = _collection(chroma_client, "plain384", embeddings_dim=32)
    with pytest.raises(ModelMismatchError, match="32-d"):
        ModelResolver(collection=col, choice_path=choice_file)


def test_collection_without_documents_is_a_clear_error(install_probe, chroma_client, choice_file):
    spy = install_probe(ProbeSpy("fake/winner"))
    col = _collection(chroma_client, "nodocs", documents=False)
    with pytest.raises(CollectionError, match="no documents"):
        ModelResolver(collection=col, choice_path=choice_file)
    assert spy.calls == []


def test_empty_collection_probes_first_batch_and_records(install_probe, chroma_client, choice_file):
    install_probe(ProbeSpy("fake/winner"))
    col = _collection(chroma_client, "empty", docs=[])
    resolver = ModelResolver(collection=col, choice_path=choice_file)
    assert resolver.adapter is None
    resolver.adapter_for_documents(DOCS)
    assert get_record(col).model_id == "fake/winner"


def test_record_changed_underneath_refuses_before_embedding(chroma_client, choice_file):
    col = _collection(chroma_client, "swapped", docs=[])
    resolver = ModelResolver("fake/a", collection=col, choice_path=choice_file)
    resolver.adapter_for_documents(["x"])
    assert get_record(col).model_id == "fake/a"
    write_record(col, get_adapter("fake/b").record())  # someone swapped the collection
    with pytest.raises(ModelMismatchError):
        resolver.adapter_for_documents(["y"])
    with pytest.raises(ModelMismatchError):
        resolver.adapter_for_query()


def test_no_warning_when_pinned(choice_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AutoSelectionWarning)
        ModelResolver("fake/x", choice_path=choice_file).adapter_for_query()


def test_real_probe_picks_the_better_fake_model(choice_file):
    from autoembedding.adapters.fake import FakeAdapter

    good, bad = FakeAdapter("good"), FakeAdapter("bad", noise=0.97)
    resolver = ModelResolver(candidates=[bad, good], choice_path=choice_file, min_probe_docs=50)
    docs = [
        f"note {i}: {w} {v} measured in trial {i * 7 % 13}"
        for i, (w, v) in enumerate(
            zip(
                ["alpha", "beta", "gamma", "delta", "omega"] * 16,
                ["red", "green", "blue", "cyan"] * 20,
                strict=True,
            )
        )
    ]
    adapter = resolver.adapter_for_documents(docs)
    assert adapter is good
    assert resolver.choice.source == "probe"
    assert resolver.report is not None and resolver.report.winner.candidate.model_id == "fake/good"


class _DeadCollection:
    """A collection whose server went away: every read raises a connection error."""

    name = "gone"
    metadata = None

    def count(self):
        raise ConnectionError("connection refused")

    def get(self, **kwargs):
        raise ConnectionError("connection refused")


def test_unreachable_collection_is_a_clear_error(choice_file):
    # auto mode counts the collection; a pinned model checks a stored vector's dimension
    with pytest.raises(ChromaUnavailableError, match="Could not read collection 'gone'"):
        ModelResolver(collection=_DeadCollection(), choice_path=choice_file)
    with pytest.raises(ChromaUnavailableError, match="'gone': no Chroma server answers"):
        ModelResolver("fake/x", collection=_DeadCollection(), choice_path=choice_file)
