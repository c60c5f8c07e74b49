"""The probe's last line is the exact ``autoembed swap`` command that serves its pick (#24.11)."""

from __future__ import annotations

import shlex
import warnings

import pytest

from autoembedding.cli import main
from autoembedding.probe import probe
from autoembedding.probe.report import is_budget_cut, swap_command
from autoembedding.record import ModelRecord

chromadb = pytest.importorskip("chromadb")

from tests.unit.test_probe import make_collection, make_docs  # noqa: E402


def _printed_command(out: str) -> str:
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Serve the winner"))
    return lines[at + 1].strip()


def test_the_printed_command_serves_the_pick(tmp_path, capsys):
    """Copied as printed, the command swaps the collection to the winner (before: none)."""
    make_collection(tmp_path / "db", make_docs(60), "notes")
    args = ["probe", "--chroma-path", str(tmp_path / "db"), "--collection", "notes"]
    args += ["--candidates", "fake/a", "--no-progress", "--sample-size", "40"]
    assert main(args) == 0
    words = shlex.split(_printed_command(capsys.readouterr().out))
    assert words[:2] == ["autoembed", "swap"] and words[words.index("--model") + 1] == "fake/a"
    assert main([*words[1:], "--no-progress"]) == 0
    client = chromadb.PersistentClient(path=str(tmp_path / "db"))
    record = ModelRecord.from_metadata(client.get_collection("notes").metadata)
    assert record is not None and record.model_id == "fake/a"


def test_a_convex_hybrids_command_carries_the_weight_the_probe_scored(tmp_path):
    """``--model hybrid:...`` alone swaps with the default weight 0.5, not the probe's."""
    collection = make_collection(tmp_path / "db", make_docs(60), "notes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(collection, candidates=["hybrid:fake/a+bm25"], sample_size=40)
    row = next(r for r in report.results if r.candidate.fusion == "convex")
    weight = row.lexical["weight"]
    assert weight != 0.5  # the default: a weight the probe picked proves the command carried it
    command = swap_command(report, f"--chroma-path {tmp_path / 'db'}", row)
    assert command is not None and f"--fusion-weight {weight:g}" in command
    assert main([*shlex.split(command)[1:], "--no-progress"]) == 0
    client = chromadb.PersistentClient(path=str(tmp_path / "db"))
    record = ModelRecord.from_metadata(client.get_collection("notes").metadata)
    assert record is not None and record.retrieval == "hybrid"
    assert record.fusion_weight == pytest.approx(float(f"{weight:g}"))


def test_budget_cuts_are_labelled_skipped_not_error():
    assert is_budget_cut("TimeoutError: skipped for budget_s=30: needs 40 s")
    assert is_budget_cut("TimeoutError: cut by budget_s=30: ran past its share")
    assert not is_budget_cut("BackendError: the model crashed")
