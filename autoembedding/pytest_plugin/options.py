"""The plugin's settings: ``autoembedding_*`` ini options and their ``--autoembedding-*`` flags.

The command line wins over the ini file. Relative paths are read from the folder pytest was
started in when given on the command line, and from the ini file's folder when set there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

__all__ = ["OPTIONS", "add_options", "candidate_ids", "int_option", "option", "path_option"]

# (ini name, command-line flag, help, default)
OPTIONS: tuple[tuple[str, str, str, str | None], ...] = (
    (
        "autoembedding_candidates",
        "--autoembedding-candidates",
        "embedding models to compare: catalog ids, aliases or local folders, separated by "
        "commas or spaces",
        None,
    ),
    (
        "autoembedding_texts",
        "--autoembedding-texts",
        "file of sample texts: .jsonl (one object a line) or .txt (one text a line)",
        None,
    ),
    ("autoembedding_text_field", "--autoembedding-text-field", "jsonl field with the text", None),
    (
        "autoembedding_collection",
        "--autoembedding-collection",
        "read texts from this Chroma collection instead of a file",
        None,
    ),
    (
        "autoembedding_chroma_path",
        "--autoembedding-chroma-path",
        "folder of a persistent Chroma (with --autoembedding-collection)",
        None,
    ),
    (
        "autoembedding_chroma_url",
        "--autoembedding-chroma-url",
        "URL of a Chroma server, e.g. http://localhost:8000 (with --autoembedding-collection)",
        None,
    ),
    (
        "autoembedding_sample_size",
        "--autoembedding-sample-size",
        "use at most this many texts (default 256)",
        "256",
    ),
    (
        "autoembedding_queries",
        "--autoembedding-queries",
        'jsonl of {"query": ..., "relevant": [ids of relevant texts]} for hit@k',
        None,
    ),
    ("autoembedding_k", "--autoembedding-k", "k of hit@k (default 10)", "10"),
)


def add_options(parser: pytest.Parser) -> None:
    """Register every ini option and its command-line flag in one ``autoembedding`` group."""
    group = parser.getgroup("autoembedding", "compare embedding models (autoembedding)")
    for ini, flag, help_text, default in OPTIONS:
        group.addoption(flag, dest=ini, default=None, help=help_text)
        parser.addini(ini, help=help_text, default=default)


def option(config: pytest.Config, name: str) -> str | None:
    """The option's text (command line first, then ini), or ``None`` when unset or blank."""
    value = config.getoption(name, default=None)
    if value in (None, ""):
        value = config.getini(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def path_option(config: pytest.Config, name: str) -> Path | None:
    """A path option: relative to the current folder on the command line, to the ini file's."""
    cli = config.getoption(name, default=None)
    raw = option(config, name)
    if raw is None:
        return None
    path = Path(raw).expanduser()
    if path.is_absolute():
        return path
    if cli not in (None, ""):
        return config.invocation_params.dir / path
    return (config.inipath.parent if config.inipath else config.rootpath) / path


def int_option(config: pytest.Config, name: str, *, most: int | None = None) -> int:
    """A positive integer option (at most ``most``).

    Raises:
        pytest.UsageError: If the value is not an integer in range.

    """
    raw = option(config, name)
    try:
        value = int(raw or 0)
    except ValueError as exc:
        raise pytest.UsageError(f"{name} must be a positive integer, got {raw!r}.") from exc
    if value < 1:
        raise pytest.UsageError(f"{name} must be a positive integer, got {raw!r}.")
    if most is not None and value > most:
        raise pytest.UsageError(f"{name} must be at most {most}, got {raw!r}.")
    return value


def candidate_ids(config: pytest.Config) -> list[str]:
    """Return the configured candidate models, in order, without duplicates."""
    raw = option(config, "autoembedding_candidates") or ""
    seen: dict[str, None] = {}
    for item in re.split(r"[,\s]+", raw):
        if item:
            seen.setdefault(item, None)
    return list(seen)
