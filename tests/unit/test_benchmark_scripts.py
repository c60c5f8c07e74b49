"""The quality benchmarks' wiring, on the bundled SciFact subset and a fake model (seconds).

The numbers in docs/benchmarks.md come from these scripts on ../shared; here they run on 300
bundled abstracts so a broken import, label or column shows up in the unit run.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "scifact"


@pytest.fixture
def scripts(tmp_path, monkeypatch):
    """The benchmark modules, with their vector cache in ``tmp_path``."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    for name in ("selection_quality", "retrieval_quality"):
        sys.modules.pop(name, None)
    selection = importlib.import_module("selection_quality")
    monkeypatch.setattr(selection, "CACHE", tmp_path / "cache")
    retrieval = importlib.import_module("retrieval_quality")
    yield selection, retrieval
    for name in ("selection_quality", "retrieval_quality"):
        sys.modules.pop(name, None)


def test_retrieval_quality_rows_cover_every_candidate(scripts):
    _, retrieval = scripts
    rows = retrieval.run(DATA, ["fake/a"], ["und", "auto"], timed=5)
    by_label = {r["candidate"]: r for r in rows}
    assert set(by_label) == {
        "fake/a",
        "bm25 (und)",
        "bm25 (en, detected)",
        "hybrid:fake/a+bm25",
        "hybrid-rrf:fake/a+bm25",
    }
    for row in rows:
        assert 0.0 <= row["ndcg@10"] <= 1.0
        assert row["queries"] == 59 and row["docs"] == 300
    # Stemmed English BM25 finds the judged abstracts better than the fake hashing model.
    assert by_label["bm25 (en, detected)"]["ndcg@10"] > by_label["fake/a"]["ndcg@10"] + 0.2
    # Every served mode was timed through the Searcher; plain-word BM25 is not served.
    for label in ("fake/a", "bm25 (en, detected)", "hybrid:fake/a+bm25", "hybrid-rrf:fake/a+bm25"):
        assert by_label[label]["p50_ms"] > 0
        assert by_label[label]["p95_ms"] >= by_label[label]["p50_ms"]
    assert by_label["bm25 (und)"]["p50_ms"] != by_label["bm25 (und)"]["p50_ms"]  # NaN
    assert by_label["hybrid:fake/a+bm25"]["note"].startswith("w=")


def test_selection_quality_tau_leaves_out_unmade_hybrids(scripts, capsys):
    selection, _ = scripts
    code = selection.main(
        [
            str(DATA),
            "--harness",
            "--models",
            "fake/a",
            "fake/b",
            "--gt-docs",
            "300",
            "--gt-queries",
            "59",
            "--n-docs",
            "100",
            "--n-queries",
            "40",
        ]
    )
    out = capsys.readouterr().out
    # Exit 1 is the verdict FAIL (tau or regret missed on two fake models), not a crash: the
    # code must be the verdict the printed tau and regret give.
    tau = float(re.search(r"kendall tau (-?[\d.]+|nan) over the", out).group(1))
    regret = float(re.search(r"regret (-?[\d.]+|nan) ", out).group(1))
    verdict = tau >= 0.6 and regret <= 0.01
    assert out.rstrip().splitlines()[-1] == ("PASS" if verdict else "FAIL")
    assert code == (0 if verdict else 1)
    assert "over the 7 candidates the probe scored" in out
    assert "over all 7, those it never made tied last" in out
