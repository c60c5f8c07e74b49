"""Argument checks shared by the Python API and the CLI, so both refuse bad input the same way.

Every check raises :class:`~autoembedding.errors.InvalidArgumentError` whose message names the
argument, what it takes and what it got, *before* any work starts (no model loads, no collection
read, no probe run that a bad output path would then throw away).

Example:
    >>> number(0.5, "min_hit_at_5", minimum=0, maximum=1)
    0.5
    >>> number(0, "budget_s", minimum=0, exclusive=True)
    Traceback (most recent call last):
    ...
    autoembedding.errors.InvalidArgumentError: budget_s must be a number > 0, got 0.
"""

from __future__ import annotations

import math
import os
import tempfile
from numbers import Real
from pathlib import Path
from typing import Any

from autoembedding.errors import InvalidArgumentError

__all__ = ["expected", "integer", "number", "output_dir", "output_file"]


def expected(
    minimum: float | None,
    maximum: float | None = None,
    exclusive: bool = False,
    integer: bool = False,
) -> str:
    """What a range check accepts, in words: ``"a number > 0"``, ``"an integer >= 5"``."""
    kind = "an integer" if integer else "a number"
    if minimum is not None and maximum is not None:
        return f"{kind} within {minimum:g}..{maximum:g}"
    if minimum is not None:
        return f"{kind} {'>' if exclusive else '>='} {minimum:g}"
    if maximum is not None:
        return f"{kind} <= {maximum:g}"
    return kind


def number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
) -> float:
    """Check that ``value`` is a finite real number within a range.

    Args:
        value: What the caller passed.
        name: The argument's name, as the caller wrote it (``"budget_s"``, ``"--budget-s"``).
        minimum: Smallest allowed value (``None``: no lower bound).
        maximum: Largest allowed value, inclusive (``None``: no upper bound).
        exclusive: ``minimum`` itself is not allowed (``> minimum``).

    Returns:
        ``value`` as a float.

    Raises:
        InvalidArgumentError: If ``value`` is not a number (a ``bool`` or a string is not), is
            NaN or infinite, or is out of range.
    """
    wanted = expected(minimum, maximum, exclusive, False)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidArgumentError(
            f"{name} must be {wanted}, got {value!r:.60} ({type(value).__name__}).", argument=name
        )
    result = float(value)
    if (
        math.isnan(result)
        or math.isinf(result)
        or (minimum is not None and (result <= minimum if exclusive else result < minimum))
        or (maximum is not None and result > maximum)
    ):
        raise InvalidArgumentError(f"{name} must be {wanted}, got {value!r}.", argument=name)
    return result


def integer(
    value: Any,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Check that ``value`` is an ``int`` (not a ``bool``, a float or a string) within a range.

    Args:
        value: What the caller passed.
        name: The argument's name.
        minimum: Smallest allowed value.
        maximum: Largest allowed value.

    Returns:
        ``value`` as an ``int``.

    Raises:
        InvalidArgumentError: If ``value`` is not an integer or is out of range.
    """
    wanted = expected(minimum, maximum, False, True)
    # int and numpy integers (they have __index__) are fine; bool, float, str and None are not.
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise InvalidArgumentError(
            f"{name} must be {wanted}, got {value!r:.60} ({type(value).__name__}).",
            argument=name,
        )
    result = int(value)
    if (minimum is not None and result < minimum) or (maximum is not None and result > maximum):
        raise InvalidArgumentError(f"{name} must be {wanted}, got {value!r}.", argument=name)
    return result


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists."""
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def _check_can_create_in(folder: Path, target: Path, name: str) -> None:
    """Refuse when no file can be created in ``folder`` (tried, not guessed: root ignores modes)."""
    if not folder.is_dir():
        raise InvalidArgumentError(
            f"{name}: cannot write {target}: {folder} is a file, not a folder.", argument=name
        )
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InvalidArgumentError(
            f"{name}: cannot write {target}: {folder} is not writable ({exc.strerror or exc}).",
            argument=name,
        ) from exc


def output_file(path: str | os.PathLike[str], name: str) -> Path:
    """Check, before any work, that a file can be written at ``path`` (parents may be missing).

    Nothing is left behind: missing parent folders are not created here, and the write test
    uses an anonymous temporary file.

    Args:
        path: Where the caller wants the file.
        name: The argument's name (``"--json"``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        InvalidArgumentError: If ``path`` is empty or a folder, an ancestor is a file, or the
            folder it would go in is not writable.
    """
    if not str(path).strip():
        raise InvalidArgumentError(f"{name} needs a file path, got an empty string.", argument=name)
    target = Path(path).expanduser()
    if target.is_dir():
        raise InvalidArgumentError(
            f"{name}: {target} is a folder; give a file path such as {target / 'report.json'}.",
            argument=name,
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise InvalidArgumentError(f"{name}: {target} is not writable.", argument=name)
    _check_can_create_in(_nearest_existing(target.parent), target, name)
    return target


def output_dir(path: str | os.PathLike[str], name: str) -> Path:
    """Check, before any work, that ``path`` is (or can become) a writable folder.

    Args:
        path: The folder the caller wants files written into.
        name: The argument's name (``"--report"``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        InvalidArgumentError: If ``path`` is empty or an existing file, an ancestor is a file,
            or the folder is not writable.
    """
    if not str(path).strip():
        raise InvalidArgumentError(
            f"{name} needs a folder path, got an empty string.", argument=name
        )
    target = Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise InvalidArgumentError(
            f"{name}: {target} is a file; give a folder to write the report into.", argument=name
        )
    _check_can_create_in(_nearest_existing(target), target, name)
    return target
