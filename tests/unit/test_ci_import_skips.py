"""In CI a skip for a missing dependency fails the run; locally it stays a skip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

MODULE_SKIP = """
import pytest
pytest.importorskip("autoembedding_no_such_module")

def test_never_runs():
    assert False
"""

TEST_SKIP = """
import pytest

def test_needs_missing():
    pytest.importorskip("autoembedding_no_such_module")

def test_plain_skip():
    pytest.skip("not applicable here")
"""


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None) -> Any:
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_module_skip=MODULE_SKIP, test_call_skip=TEST_SKIP)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    return pytester.runpytest("-p", "no:cacheprovider", "--continue-on-collection-errors")


def test_ci_fails_on_a_missing_dependency(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, "true")
    # The module-level importorskip is a collection error, the in-test one a failure; the plain
    # skip (not about a dependency) stays a skip.
    result.assert_outcomes(failed=1, errors=1, skipped=1)
    result.stdout.fnmatch_lines(["*a missing dependency fails the run*"])


def test_local_run_keeps_the_skip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(pytester, monkeypatch, None).assert_outcomes(skipped=3)
