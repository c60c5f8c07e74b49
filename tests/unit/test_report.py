"""Unit tests of the report writers and the ``autoembed probe`` CLI (fake adapters, real Chroma)."""

from __future__ import annotations

import json

import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.candidates import Candidate, CandidateResult, ProbeReport, Targets
from autoembedding.cli import main
from autoembedding.probe import probe
from autoembedding.probe.pareto import marker_sizes, pareto_figure, pareto_front, short_label
from autoembedding.probe.report import (
    format_table,
    plot_pareto,
    report_to_dict,
    why_not,
    write_report,
)

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
            "--max-bytes-per-vector",
            "1",
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


# --------------------------------------------------------------------------- report and chart
def _result(label, ndcg, ms, bpv=256.0, *, meets=True, dropped=None, error=None, failed=None):
    return CandidateResult(
        candidate=Candidate.parse(label),
        metrics={} if error else {"ndcg@10": ndcg, "hit@5": ndcg},
        intervals={} if error else {"ndcg@10": (ndcg - 0.05, ndcg + 0.05)},
        query_p95_ms=None if error else ms,
        bytes_per_vector=bpv,
        meets_targets=meets,
        dropped=dropped,
        error=error,
        failed_targets=failed or {},
    )


def _crowded_report(bytes_vary: bool = True) -> ProbeReport:
    """Twelve candidates, variants stacked at one latency, a 100x latency spread (log axis)."""
    results = [_result("fake/win", 0.80, 2.0, 256.0)]
    for k, (dim, prec) in enumerate([(32, "int8"), (16, "binary"), (48, "float32"), (16, "int8")]):
        bpv = {"int8": dim, "binary": dim / 8, "float32": dim * 4}[prec] if bytes_vary else 256.0
        results.append(_result(f"fake/win@{dim}:{prec}", 0.78 - 0.01 * k, 2.0, bpv))
    for k in range(5):
        results.append(_result(f"fake/other-model-{k}", 0.70 + 0.005 * k, 2.2 + 0.1 * k))
    results.append(
        _result(
            "fake/slow",
            0.85,
            250.0,
            meets=False,
            dropped="misses a hard target: query p95 250 ms > 50 ms",
            failed={"max_query_ms": "p95 250 ms > 50 ms"},
        )
    )
    results.append(_result("fake/crash", 0.0, 0.0, error="BackendError: it crashed"))
    return ProbeReport(
        results=results,
        winner=results[0],
        reason="best nDCG@10 under the targets",
        targets=Targets(max_query_ms=50, min_ndcg_at_10=0.6, min_hit_at_5=0.5),
        n_queries=40,
        n_docs=40,
        collection="notes",
    )


def test_pareto_front_is_the_non_dominated_staircase():
    pts = [
        _result("fake/a", 0.60, 1.0),
        _result("fake/b", 0.55, 2.0),  # slower and worse than a: dominated
        _result("fake/c", 0.70, 3.0),
        _result("fake/d", 0.70, 4.0),  # as good as c but slower: dominated
        _result("fake/e", 0.90, 9.0),
    ]
    front = pareto_front(pts)
    assert [r.candidate.label for r in front] == ["fake/a", "fake/c", "fake/e"]


def test_markers_are_sized_by_bytes_only_when_bytes_differ():
    same = [_result("fake/a", 0.6, 1.0, 256.0), _result("fake/b", 0.7, 2.0, 256.0)]
    assert len(set(marker_sizes(same, None))) == 1
    mixed = [_result("fake/a", 0.6, 1.0, 256.0), _result("fake/a@16:binary", 0.5, 1.0, 2.0)]
    big, small = marker_sizes(mixed, None)
    assert big > small


def _label_boxes(fig):
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    notes = [t for t in ax.texts if t.get_text() and t.get_text() != "no candidate produced"]
    boxes = []
    for note in notes:  # the text's own box (an Annotation's would include its leader line)
        note.update_positions(renderer)
        boxes.append(Text.get_window_extent(note, renderer))
    return ax, notes, boxes


@pytest.mark.parametrize("bytes_vary", [True, False])
def test_chart_labels_do_not_overlap_and_show_front_winner_targets(bytes_vary):
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection

    report = _crowded_report(bytes_vary)
    fig = pareto_figure(report)
    try:
        ax, notes, boxes = _label_boxes(fig)
        plotted = [r for r in report.results if r.error is None]
        assert len(notes) == len(plotted)  # one label per candidate with measures, no crash one
        assert ax.get_xscale() == "log"  # 2 ms .. 250 ms
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                overlap = a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1
                assert not overlap, (notes[i].get_text(), notes[j].get_text())
        frame = ax.get_window_extent(fig.canvas.get_renderer())
        assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 for b in boxes)
        winner = [t for t in notes if "(winner)" in t.get_text()]
        assert len(winner) == 1 and winner[0].get_fontweight() == "bold"
        assert any("(dropped)" in t.get_text() for t in notes)
        # the Pareto front: win (2 ms, 0.80) then slow (250 ms, 0.85)
        front = [ln for ln in ax.get_lines() if ln.get_label() == "Pareto front"]
        assert len(front) == 1
        assert list(front[0].get_xdata()) == [2.0, 250.0]
        # the target lines, at the target values
        xs = {ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"}
        ys = {ln.get_ydata()[0] for ln in ax.get_lines() if ln.get_linestyle() == ":"}
        assert 50 in xs and 0.6 in ys
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "max_query_ms = 50" in legend and "min_ndcg_at_10 = 0.6" in legend
        assert any("min_hit_at_5" in t and "not drawn" in t for t in legend)
        sizes = [c.get_sizes()[0] for c in ax.collections if isinstance(c, PathCollection)]
        non_winner = {round(s) for s in sizes if round(s) != round(max(sizes))}
        title = ax.get_title()
        if bytes_vary:
            assert len(non_winner) > 1 and "marker area = bytes per vector" in title
        else:
            assert len(non_winner) == 1 and "every candidate stores 256 bytes" in title
    finally:
        plt.close(fig)


def test_html_and_markdown_say_why_each_other_candidate_did_not_win(tmp_path):
    report = _crowded_report()
    write_report(report, tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "Why the others did not win" in page
    assert "misses a hard target: query p95 250 ms &gt; 50 ms" in page
    assert "BackendError: it crashed" in page
    assert "met the targets; another one won" in page
    md = (tmp_path / "report.md").read_text()
    assert "- `fake/slow` (dropped): misses a hard target" in md
    assert "- `fake/win` " not in md  # the winner is not among the others
    reasons = dict((label, why) for label, _, why in why_not(report))
    assert set(reasons) == {r.candidate.label for r in report.results[1:]}


def test_chart_with_no_measured_candidate_still_renders(tmp_path):
    report = ProbeReport(
        results=[_result("fake/crash", 0, 0, error="BackendError: x")], winner=None, reason="-"
    )
    png = plot_pareto(report, tmp_path / "p.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_the_chart_tells_rrf_from_convex_hybrids():
    """Both shortened to 'all-MiniLM-L6-v2+bm25' before (issue 24.11)."""
    convex = _result("hybrid:sentence-transformers/all-MiniLM-L6-v2+bm25", 0.8, 3.0)
    convex.lexical["weight"] = 0.6
    rrf = _result("hybrid-rrf:sentence-transformers/all-MiniLM-L6-v2+bm25", 0.7, 3.0)
    assert short_label(convex) == "convex w=0.6 all-MiniLM-L6-v2+bm25"
    assert short_label(rrf) == "RRF all-MiniLM-L6-v2+bm25"
    assert short_label(_result("sentence-transformers/all-MiniLM-L6-v2", 0.7, 3.0)) == (
        "all-MiniLM-L6-v2"
    )
