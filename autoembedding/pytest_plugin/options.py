"""The plugin's settings: ``autoembedding_*`` ini options and their ``--autoembedding-*`` flags.

The command line wins over the ini file. Relative paths are read from the folder pytest was
started in when given on the command line, and from the ini file's folder when set there.

pytest finds its rootdir and ini file *before* it loads plugins, so it reads the value of
``--autoembedding-chroma-path ../x`` (two argv elements) as a test path, and an existing ``../x``
moves the rootdir and loses the project's ``pyproject.toml`` settings. The plugin cannot undo
that (pytest has no public way to redo it), so :func:`check_separate_values` refuses such a run
with the fix: ``--autoembedding-chroma-path=../x``, which pytest always reads right.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "OPTIONS",
    "add_options",
    "candidate_ids",
    "check_separate_values",
    "int_option",
    "option",
    "path_option",
]

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


def _separate_values(args: list[str]) -> list[tuple[str, str]]:
    """``(flag, value)`` for each of our flags given with its value as the next argv element."""
    flags = {flag for _, flag, _, _ in OPTIONS}
    return [
        (arg, args[i + 1])
        for i, arg in enumerate(args[:-1])
        if arg in flags and not args[i + 1].startswith("-")
    ]


def _setup_without(config: pytest.Config) -> tuple[Path, Path | None] | None:
    """The rootdir and ini file pytest finds when our flags' values are not read as paths.

    Returns ``None`` when pytest's (private) ``determine_setup`` cannot be called as expected.
    """
    try:
        from _pytest.config.findpaths import determine_setup

        ns: Any = config.known_args_namespace  # parsed again once plugins are loaded
        found = determine_setup(
            inifile=ns.inifilename,
            override_ini=ns.override_ini,
            args=[str(a) for a in ns.file_or_dir],
            rootdir_cmd_arg=ns.rootdir or None,
            invocation_dir=config.invocation_params.dir,
        )
    except Exception:  # noqa: BLE001 - pytest internals changed: assume the worst
        return None
    return found[0], found[1]


def check_separate_values(config: pytest.Config) -> None:
    """Refuse a run whose rootdir or ini file moved because a flag's value was read as a path.

    Args:
        config: The early config (plugins loaded, conftests not yet).

    Raises:
        pytest.UsageError: When an ``--autoembedding-*`` value given as its own argv element is an
            existing path and pytest's rootdir or ini file differ from what they are without it;
            the message gives the ``--flag=value`` form to use.
    """
    pairs = _separate_values([str(a) for a in config.invocation_params.args])
    here = config.invocation_params.dir
    pairs = [(flag, value) for flag, value in pairs if (here / value).expanduser().exists()]
    if not pairs:
        return
    right = _setup_without(config)
    if right is not None and right == (config.rootpath, config.inipath):
        return
    fixes = " ".join(f"{flag}={value}" for flag, value in pairs)
    shown = ", ".join(f"{value!r} (the value of {flag})" for flag, value in pairs)
    ini = f"; the settings in {right[1]} would be lost" if right and right[1] else ""
    raise pytest.UsageError(
        f"pytest read {shown} as a test path before the autoembedding plugin was loaded, so it "
        f"chose rootdir {config.rootpath} and ini file {config.inipath}{ini}. Write the flag "
        f"and its value as one argument: {fixes}"
    )
