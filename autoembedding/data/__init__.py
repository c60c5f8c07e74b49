"""Small data files bundled with the package: calibration texts and the demo corpus.

The demo corpus (60 short how-to and reference passages written for this project, with titles,
and 8 questions with their answer passage) lets ``autoembed demo`` run with no data of your own.
"""

from __future__ import annotations

import json
from importlib import resources

__all__ = ["calibration_texts", "demo_corpus", "demo_queries"]


def _read(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def calibration_texts() -> list[str]:
    """Varied short texts (several domains and languages) used to calibrate int8 ranges."""
    return [line.strip() for line in _read("calibration.txt").splitlines() if line.strip()]


def demo_corpus() -> list[dict[str, str]]:
    """The demo passages: dicts with ``id``, ``title`` and ``text``."""
    return [json.loads(line) for line in _read("demo_corpus.jsonl").splitlines() if line]


def demo_queries() -> list[tuple[str, list[str]]]:
    """The demo questions with the ids of their answer passages."""
    rows = [json.loads(line) for line in _read("demo_queries.jsonl").splitlines() if line]
    return [(row["query"], list(row["relevant"])) for row in rows]
