"""Issue 24, item 7: a zero-config probe is planned up front, picks the same on a rerun, logs.

* :func:`plan_zero_config` races only models within ``COST_CAP`` of the default's cost (one form
  per set of weights) on a sample sized from their costs: nothing there reads a clock.
* The same data, probed twice by fake models whose latency differs between the runs, gives the
  same candidates, the same sample and the same pick; a probe the budget did cut says so.
* While it runs, the probe writes a line on the ``autoembedding`` logger every few seconds.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from pathlib import Path

import pytest

from autoembedding.candidates import Candidate, CandidateResult, ProbeReport
from autoembedding.errors import AutoSelectionWarning
from autoembedding.integrations import _progress
from autoembedding.integrations._zero_config import (
    COST_CAP,
    MIN_SAMPLE,
    plan_zero_config,
    relative_cost,
)
from autoembedding.integrations.auto import ModelResolver

CORPUS = Path(__file__).resolve().parents[1] / "data" / "scifact" / "corpus.jsonl"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_INT8 = "sentence-transformers/all-MiniLM-L6-v2:onnx-int8"
MINILM_L3 = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"
E5_Q4 = "intfloat/multilingual-e5-small:q4"


def _abstracts(n: int) -> list[str]:
    with CORPUS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for _, line in zip(range(n), handle, strict=False)]
    return [f"{row['title']}. {row['text']}" for row in rows]


# ---------------------------------------------------------------------------- the plan
def test_the_plan_keeps_cheap_models_one_form_each_and_sizes_the_sample():
    available = [Candidate(E5_Q4), Candidate(MINILM), Candidate(MINILM_L3), Candidate(MINILM_INT8)]
    plan = plan_zero_config(200, available)
    assert plan.labels == [MINILM_L3, MINILM_INT8]  # cheapest first
    assert relative_cost(E5_Q4) > COST_CAP
    assert any(E5_Q4 in why and "cost" in why for why in plan.left_out)
    assert any(why.startswith(MINILM + " (same weights") for why in plan.left_out)
    # half of what embedding the 200 documents with the default costs
    expected = int(0.5 * 200 / (relative_cost(MINILM_L3) + relative_cost(MINILM_INT8)))
    assert plan.sample_size == expected
    assert plan_zero_config(200, list(reversed(available))) == plan  # order given is irrelevant


def test_the_plan_never_races_nothing_and_never_oversamples():
    assert plan_zero_config(200, [Candidate(E5_Q4)]).labels == [E5_Q4]  # the only one is kept
    assert plan_zero_config(30, [Candidate("fake/a")]).sample_size == 30
    assert plan_zero_config(100, [Candidate("fake/a")]).sample_size == MIN_SAMPLE
    assert plan_zero_config(10_000, [Candidate("fake/a")]).sample_size == 200


# ---------------------------------------------------------------------------- determinism
def _fakes(latency_good: float, latency_bad: float) -> list[Candidate]:
    return [
        Candidate("fake/good", options=(("latency_ms", latency_good),)),
        Candidate("fake/bad", options=(("latency_ms", latency_bad), ("noise", 0.9))),
    ]


def test_the_same_data_gives_the_same_pick_whatever_the_latency(monkeypatch):
    probing = importlib.import_module("autoembedding.probe")
    candidates_module = importlib.import_module("autoembedding.probe.candidates")
    real_probe = probing.probe
    calls: list[dict] = []

    def recording_probe(*args, **kwargs):
        calls.append(
            {"labels": [c.label for c in kwargs["candidates"]], "sample": kwargs["sample_size"]}
        )
        return real_probe(*args, **kwargs)

    monkeypatch.setattr(probing, "probe", recording_probe)
    docs = _abstracts(50)
    picks = []
    for good_ms, bad_ms in ((0.0, 1.0), (1.0, 0.0)):  # the other model is the slow one
        monkeypatch.setattr(
            candidates_module, "default_candidates", lambda g=good_ms, b=bad_ms: _fakes(g, b)
        )
        resolver = ModelResolver(save=False)
        picks.append(resolver.adapter_for_documents(docs).model_id)
    assert picks == ["fake/good", "fake/good"]
    assert calls[0] == calls[1]  # same candidates, same sample: nothing read the clock


def _report(notes: list[str]) -> ProbeReport:
    winner = CandidateResult(Candidate("fake/a"), meets_targets=True)
    return ProbeReport(results=[winner], winner=winner, reason="best", notes=notes)


def test_a_probe_the_budget_stopped_is_reported(monkeypatch):
    probing = importlib.import_module("autoembedding.probe")
    stopped = (
        "Stopped after stage 1 of 3: the next stage (~9 s) would overrun budget_s=5 (4 s spent)."
    )
    monkeypatch.setattr(probing, "probe", lambda *a, **k: _report([stopped]))
    with pytest.warns(AutoSelectionWarning, match="time budget .*a rerun may pick another"):
        ModelResolver(candidates=["fake/a"], save=False).adapter_for_documents(_abstracts(60))


def test_a_probe_the_data_stopped_is_not_reported(monkeypatch, recwarn):
    probing = importlib.import_module("autoembedding.probe")
    done = "Stopped after stage 2 of 3: fake/a is significantly ahead."
    monkeypatch.setattr(probing, "probe", lambda *a, **k: _report([done]))
    ModelResolver(candidates=["fake/a"], save=False).adapter_for_documents(_abstracts(60))
    assert not [w for w in recwarn if issubclass(w.category, AutoSelectionWarning)]


# ---------------------------------------------------------------------------- the log
def test_a_running_probe_logs_a_line_every_few_seconds(monkeypatch, caplog):
    probing = importlib.import_module("autoembedding.probe")
    monkeypatch.setattr(_progress, "PROBE_LOG_EVERY_S", 0.05)
    seen: list[tuple[str, float]] = []

    def slow_probe(*args, progress, **kwargs):
        progress("stage 1/3: fake/a", 0.3)
        time.sleep(0.4)
        return _report([])

    monkeypatch.setattr(probing, "probe", slow_probe)
    resolver = ModelResolver(
        candidates=["fake/a"], save=False, progress=lambda m, f: seen.append((m, f))
    )
    with caplog.at_level(logging.INFO, logger="autoembedding"):
        resolver.adapter_for_documents(_abstracts(60))
    lines = [r.getMessage() for r in caplog.records if "auto-selection on" in r.getMessage()]
    beats = [line for line in lines if "stage 1/3: fake/a (30%" in line]
    assert len(beats) >= 3, lines
    assert lines[0].endswith("started") and "ended after" in lines[-1]
    assert seen == [("stage 1/3: fake/a", 0.3)]  # the user's callable still gets the probe's
