"""``benchmarks/int8_speed.py``'s arithmetic and verdicts, without models (milliseconds).

The figures in docs/benchmarks.md come from the script's side-by-side run on real models; these
tests pin the parts that decide PASS/FAIL: nDCG@10 with binary gains, the goals per CPU kind,
and the fallback to the bundled data sets.
"""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def script(monkeypatch):
    """The benchmark module, imported from ``benchmarks/``."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    sys.modules.pop("int8_speed", None)
    yield importlib.import_module("int8_speed")
    sys.modules.pop("int8_speed", None)


def test_ndcg_at_10_binary_gains(script):
    docs = np.eye(4)  # doc i points along axis i
    ids = ["a", "b", "c", "d"]
    # Query 0 ranks a first (relevant): 1. Query 1 ranks b, then a: its relevant doc is second.
    queries = np.array([[1.0, 0.1, 0.0, 0.0], [0.5, 1.0, 0.0, 0.0]])
    score = script.ndcg_at_10(docs, queries, ids, [{"a"}, {"a"}])
    assert score == pytest.approx((1.0 + 1.0 / math.log2(3)) / 2)
    # Two relevant documents, both found first and second: ideal.
    assert script.ndcg_at_10(docs, queries[1:], ids, [{"a", "b"}]) == pytest.approx(1.0)


def _result(ours_docs_s: float, ours_p50: float, cosine: float, ndcg_diff: float) -> dict:
    peer, ours = script_names()
    return {
        "speed": {
            peer: {"docs_per_s": 10.0, "query_p50_ms": 10.0},
            ours: {"docs_per_s": ours_docs_s, "query_p50_ms": ours_p50},
        },
        "cosine": {"mean": cosine, "min": cosine},
        "ndcg10": {
            peer: {"scifact": 0.6, "cmrc2018-zh": 0.2},
            ours: {"scifact": 0.6 + ndcg_diff, "cmrc2018-zh": 0.2},
        },
    }


def script_names() -> tuple[str, str]:
    module = sys.modules["int8_speed"]
    return module.PEER, module.OURS


def test_verdicts_use_the_goal_of_the_cpu_kind(script):
    result = _result(ours_docs_s=15.0, ours_p50=2.0, cosine=0.996, ndcg_diff=0.004)
    avx2 = script.verdicts(result, "avx2")
    assert avx2[0].startswith("PASS docs/s 1.50x") and "1.3x on avx2" in avx2[0]
    vnni = script.verdicts(result, "avx512_vnni")
    assert vnni[0].startswith("FAIL docs/s 1.50x") and "2.2x on avx512_vnni" in vnni[0]
    assert script.verdicts(result, "arm64")[0].startswith("n/a")
    assert all(line.startswith("PASS") for line in avx2[1:]), avx2


def test_verdicts_fail_each_missed_goal(script):
    result = _result(ours_docs_s=30.0, ours_p50=4.0, cosine=0.994, ndcg_diff=-0.006)
    lines = script.verdicts(result, "avx2")
    assert [line.split()[0] for line in lines] == ["PASS", "FAIL", "FAIL", "FAIL", "PASS"]


def test_missing_shared_data_falls_back_to_the_bundled_subsets(script, tmp_path, capsys):
    assert script._data_root(tmp_path) == ROOT / "tests" / "data"
    assert "bundled" in capsys.readouterr().out
    assert script._data_root(ROOT / "tests" / "data") == ROOT / "tests" / "data"
