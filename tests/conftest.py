"""Shared pytest options: ``--run-slow`` turns on tests marked ``slow``."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The shared data sets (``../shared/data`` beside the project root).
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: pass --run-slow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; tests that need it fail loudly if it is missing."""
    assert SHARED_DATA.is_dir(), f"expected the shared data sets at {SHARED_DATA}"
    return SHARED_DATA
