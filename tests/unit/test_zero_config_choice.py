"""Issue 24, item 6: where a zero-config choice is saved never depends on the working directory.

The same app started from two folders uses the same model; the saved choice lives in the user's
cache (here the test's ``$AUTOEMBEDDING_CHOICE_DIR``, set by ``tests/conftest.py``), keyed by what
the ``AutoEmbedding`` knows (collection, candidates, targets); an older version's
``./.autoembedding/choice.json`` is moved there once.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import pytest

from autoembedding.adapters import get_adapter
from autoembedding.candidates import Candidate, CandidateResult, ProbeReport, Targets
from autoembedding.integrations.auto import ModelResolver
from autoembedding.integrations.choice import (
    CHOICE_DIR_ENV,
    LEGACY_CHOICE_PATH,
    ModelChoice,
    choice_key,
    load_choice,
    resolve_choice_path,
    save_choice,
)

DOCS = [f"document {i} about topic {i % 7} and colour {i % 5}" for i in range(60)]
CANDIDATES = ["fake/a", "fake/b"]


class _Probe:
    """Stands in for the probe: each call picks the next winner of ``winners``."""

    def __init__(self, *winners: str) -> None:
        self.winners = list(winners)
        self.calls = 0

    def __call__(self, *args: object, **kwargs: object) -> ProbeReport:
        winner = self.winners[self.calls % len(self.winners)]
        self.calls += 1
        result = CandidateResult(Candidate.parse(winner), meets_targets=True)
        return ProbeReport(results=[result], winner=result, reason="best nDCG@10")


@pytest.fixture
def fake_probe(monkeypatch: pytest.MonkeyPatch) -> _Probe:
    probe = _Probe("fake/a", "fake/b")  # a second probe would pick the other model
    monkeypatch.setattr(importlib.import_module("autoembedding.probe"), "probe", probe)
    return probe


def _start_app_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> ModelResolver:
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(folder)
    return ModelResolver(candidates=CANDIDATES)


def test_the_same_app_from_two_folders_uses_the_same_model(tmp_path, monkeypatch, fake_probe):
    first = _start_app_in(tmp_path / "one", monkeypatch)
    assert first.adapter_for_documents(DOCS).model_id == "fake/a"
    second = _start_app_in(tmp_path / "two", monkeypatch)
    assert second.adapter_for_query().model_id == "fake/a"  # not the default, not a new probe
    assert second.choice.source == "saved"
    third = _start_app_in(tmp_path / "three", monkeypatch)
    assert third.adapter_for_documents(DOCS).model_id == "fake/a"
    assert fake_probe.calls == 1
    for folder in ("one", "two", "three"):
        assert not (tmp_path / folder / ".autoembedding").exists()


def test_the_choice_is_in_the_user_cache_keyed_by_what_is_known(tmp_path, monkeypatch):
    monkeypatch.setenv(CHOICE_DIR_ENV, str(tmp_path / "cache"))
    bare = resolve_choice_path(None, choice_key())
    assert bare == tmp_path / "cache" / "auto.json"
    keys = {
        choice_key(),
        choice_key(candidates=CANDIDATES),
        choice_key(candidates=["fake/a"]),
        choice_key(targets=Targets(min_hit_at_5=0.5)),
    }
    assert len(keys) == 4
    assert choice_key(candidates=list(CANDIDATES)) == choice_key(candidates=CANDIDATES)


def test_the_user_cache_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv(CHOICE_DIR_ENV)
    monkeypatch.delenv("AUTOEMBEDDING_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "autoembedding" / "choices" / "auto.json"
    assert resolve_choice_path(None) == expected


def test_collections_get_their_own_choice(chroma_client, monkeypatch, fake_probe, tmp_path):
    monkeypatch.chdir(tmp_path)
    one = chroma_client.create_collection("one", embedding_function=None)
    two = chroma_client.create_collection("two", embedding_function=None)
    assert choice_key(one) != choice_key(two)
    assert ModelResolver(collection=one).adapter_for_documents(DOCS).model_id == "fake/a"
    assert ModelResolver(collection=two).adapter_for_documents(DOCS).model_id == "fake/b"
    assert load_choice(key=choice_key(one)).record.model_id == "fake/a"
    assert load_choice(key=choice_key(two)).record.model_id == "fake/b"


def test_an_older_versions_choice_is_moved_once(tmp_path, monkeypatch, fake_probe, caplog):
    old = tmp_path / "old"
    old.mkdir()
    monkeypatch.chdir(old)
    legacy = ModelChoice(get_adapter("fake/legacy").record(), "probe", "an older version")
    save_choice(legacy, LEGACY_CHOICE_PATH)
    with caplog.at_level(logging.WARNING, logger="autoembedding"):
        assert ModelResolver().adapter_for_query().model_id == "fake/legacy"
    assert "older versions saved it in the working directory" in caplog.text
    assert load_choice().record.model_id == "fake/legacy"  # now in the user cache
    elsewhere = _start_app_in(tmp_path / "new", monkeypatch)
    elsewhere_bare = ModelResolver()
    assert elsewhere_bare.adapter_for_documents(DOCS).model_id == "fake/legacy"
    assert elsewhere.adapter_for_documents(DOCS).model_id == "fake/a"  # its own key: a probe
    assert fake_probe.calls == 1


def test_an_explicit_path_is_one_file_for_every_key(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOEMBEDDING_CHOICE_PATH", str(tmp_path / "one.json"))
    assert resolve_choice_path(None, choice_key(candidates=CANDIDATES)) == tmp_path / "one.json"
    assert resolve_choice_path(tmp_path / "x.json", "auto") == tmp_path / "x.json"
