"""Small data files bundled with the package (calibration texts, the demo corpus)."""

from __future__ import annotations

from importlib import resources

__all__ = ["calibration_texts"]


def calibration_texts() -> list[str]:
    """Varied short texts (several domains and languages) used to calibrate int8 ranges."""
    text = resources.files(__name__).joinpath("calibration.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]
