"""argparse ``type=`` checks for the CLI's numeric options, and the output-path checks.

A bad number fails while the command line is parsed (``autoembed probe: error: argument
--budget-s: must be a number > 0, got '0'``, exit code 2), before anything is opened or run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from autoembedding.arguments import expected, integer, number

__all__ = ["count", "fraction", "positive", "whole"]


def positive(text: str) -> float:
    """A number > 0 (a budget, a time-out, a latency or size ceiling)."""
    return _parse(text, float, minimum=0, exclusive=True)


def fraction(text: str) -> float:
    """A share within 0..1 (a hit@5 or nDCG@10 floor)."""
    return _parse(text, float, minimum=0, maximum=1)


def whole(text: str) -> int:
    """Any integer (a seed)."""
    return int(_parse(text, int))


def count(minimum: int) -> Callable[[str], int]:
    """An integer >= ``minimum`` (a sample size, a page size)."""

    def parse(text: str) -> int:
        return int(_parse(text, int, minimum=minimum))

    parse.__name__ = f"integer >= {minimum}"
    return parse


def _parse(
    text: str,
    kind: type[float] | type[int],
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
) -> float:
    wanted = expected(minimum, maximum, exclusive, kind is int)
    try:
        value = kind(text)
        if kind is int:
            integer(value, "value", minimum=None if minimum is None else int(minimum))
        else:
            number(value, "value", minimum=minimum, maximum=maximum, exclusive=exclusive)
    except ValueError:  # not a number, or out of range (InvalidArgumentError is a ValueError)
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
    return value
