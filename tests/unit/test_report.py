"""Unit tests of the report writers and the ``autoembed probe`` CLI (fake adapters, real Chroma)."""

from __future__ import annotations

import json

import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.cli import main
from autoembedding.selector.probing import probe
from autoembedding.selector.report import format_table, report_to_dict, write_report
from autoembedding.selector.types import Targets

chromadb = pytest.importorskip("chromadb")

from tests.unit.test_probe import make_collection, make_docs  # noqa: E402


@pytest.fixture(scope="module")
def chroma_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("chroma-cli")
    make_collection(path, make_docs(80), "notes")
    return path


@pytest.fixture(scope="module")
def report(chroma_dir):
    col = chromadb.PersistentClient(path=str(chroma_dir)).get_collection("notes")
    return probe(
        col,
        candidates=[FakeAdapter("good"), FakeAdapter("noisy", noise=0.9), "fake/good@16:int8"],
        targets=Targets(max_query_ms=1000),
        sample_size=60,
    )


def test_report_dict_and_table(report):
    data = report_to_dict(report)
    assert data["winner"] == "fake/good"
    json.dumps(data)  # JSON-able
    row = next(c for c in data["candidates"] if c["id"] == "fake/good@16:int8")
    assert row["options"] == {"truncate_dim": 16, "precision": "int8"}
    for key in ("ndcg@10", "hit@5", "query_p95_ms", "docs_per_s", "meets_targets"):
        assert key in row
    table = format_table(report)
    assert "fake/noisy" in table and "Winner: fake/good." in table


def test_write_report_files(report, tmp_path):
    md = write_report(report, tmp_path / "out")
    text = md.read_text()
    assert "![Pareto chart](pareto.png)" in text and "| fake/good |" in text
    png = (tmp_path / "out" / "pareto.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "<table>" in (tmp_path / "out" / "report.html").read_text()


def test_cli_probe_json_and_report(chroma_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(
        [
            "probe",
            "--chroma-path",
            str(chroma_dir),
            "--collection",
            "notes",
            "--candidates",
            "fake/a,fake/a@32:binary",
            "--max-query-ms",
            "500",
            "--json",
            str(out),
            "--report",
            str(tmp_path / "rep"),
            "--seed",
            "1",
            "--no-progress",
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert data["winner"] in ("fake/a", "fake/a@32:binary")
    assert {c["id"] for c in data["candidates"]} == {"fake/a", "fake/a@32:binary"}
    assert (tmp_path / "rep" / "pareto.png").is_file()
    assert "Winner:" in capsys.readouterr().out


def test_cli_no_winner_exit_code_and_missing_collection(chroma_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(
        [
            "probe",
            "--chroma-path",
            str(chroma_dir),
            "--collection",
            "notes",
            "--candidates",
            "fake/a",
            "--min-hit-at-5",
            "1.01",
            "--json",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 3 and json.loads(out.read_text())["winner"] is None
    code = main(
        [
            "probe",
            "--chroma-path",
            str(chroma_dir),
            "--collection",
            "nope",
            "--candidates",
            "fake/a",
            "--no-progress",
        ]
    )
    assert code == 1 and "nope" in capsys.readouterr().err
