"""The plugin's end-of-run table: speed and hit@k side by side.

Everything that reads pytest-benchmark's internals lives here and nowhere else: its session
object (``config._benchmarksession``), the ``benchmarks`` it ran (``name``, ``stats.median``,
``extra_info``) and the runs loaded by ``--benchmark-compare`` (``compared_mapping``, plain dicts
as saved in the JSON files). pytest-benchmark has no public API for these; if a release renames
them, this module is the one to change, and without pytest-benchmark the table is built from
what the hit@k recorder saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "HIT_DECIMALS",
    "Row",
    "benchmark_session",
    "fit",
    "format_hit",
    "format_row",
    "quality_rows",
    "write_table",
]

_TITLE = "autoembedding: speed and correctness"
#: Decimals of every hit@k value in the table (this run's and the saved runs' alike).
HIT_DECIMALS = 3
#: Widest benchmark and run columns; longer names are shortened in the middle.
NAME_WIDTH = 80
RUN_WIDTH = 40
_ELLIPSIS = "..."


@dataclass(frozen=True)
class Row:
    """One line of the table.

    Attributes:
        source: ``NOW`` for this run, else the stem of the saved run's file.
        name: The benchmark's name (test id).
        median: Median seconds per round, if timed.
        per_round: Texts embedded per round, if the test said so.
        info: The benchmark's ``extra_info`` (holds ``hit@k``).

    """

    source: str
    name: str
    median: float | None
    per_round: Any
    info: dict[str, Any]


def benchmark_session(config: Any) -> Any:
    """pytest-benchmark's session object of this pytest run, or ``None`` without the plugin."""
    return getattr(config, "_benchmarksession", None)


def _is_hit(key: object) -> bool:
    return str(key).startswith("hit@")


def _has_quality(info: dict[str, Any]) -> bool:
    return any(_is_hit(key) for key in info)


def quality_rows(config: Any, recorded: Iterable[Any] = ()) -> list[Row]:
    """Rows of benchmarks that recorded hit@k: this run's, then the compared runs'.

    Args:
        config: The pytest config.
        recorded: The objects the hit@k recorder wrote into; used only when pytest-benchmark
            ran no benchmark (e.g. it is not installed).

    Returns:
        The rows, in run order.

    """
    rows: list[Row] = []
    session = benchmark_session(config)
    current = list(getattr(session, "benchmarks", None) or [])
    for bench in current:
        info = getattr(bench, "extra_info", None) or {}
        if _has_quality(info):
            median = getattr(getattr(bench, "stats", None), "median", None)
            rows.append(Row("NOW", str(bench.name), median, info.get("texts_per_round"), info))
    for path, mapping in (getattr(session, "compared_mapping", None) or {}).items():
        for bench in mapping.values():
            info = bench.get("extra_info") or {}
            if _has_quality(info):
                median = (bench.get("stats") or {}).get("median")
                source = Path(str(path)).stem
                name = str(bench.get("name"))
                rows.append(Row(source, name, median, info.get("texts_per_round"), info))
    if not rows and not current:
        for bench in recorded:
            info = getattr(bench, "extra_info", {}) or {}
            name = str(getattr(bench, "name", info.get("model")))
            rows.append(Row("NOW", name, None, info.get("texts_per_round"), info))
    return rows


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters in the middle, keeping its start and its end.

    Benchmark names differ at the end (``test_embed[<model>]``) and saved runs at the start
    (``0001_<commit>...``), so both ends are kept and ``...`` marks what was left out.

    Example:
        >>> fit("test_embed[sentence-transformers/all-MiniLM-L6-v2:onnx-int8]", 40)
        'test_embed...all-MiniLM-L6-v2:onnx-int8]'
    """
    if len(text) <= width:
        return text
    keep = max(width - len(_ELLIPSIS), 2)
    head = keep // 4 + 1 if keep >= 8 else keep // 2
    return text[:head] + _ELLIPSIS + text[len(text) - (keep - head) :]


def format_hit(value: Any) -> str:
    """A hit@k value with :data:`HIT_DECIMALS` decimals (anything else as it is)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):.{HIT_DECIMALS}f}"
    return str(value)


def format_row(row: Row, name_width: int = NAME_WIDTH, run_width: int = RUN_WIDTH) -> str:
    """One table line: run, benchmark, median ms, texts/s and the hit@k values.

    Args:
        row: The row.
        name_width: Width of the benchmark column (longer names are cut in the middle).
        run_width: Width of the run column (likewise).

    Returns:
        The line.
    """
    hits = ", ".join(
        f"{key}={format_hit(value)}" for key, value in row.info.items() if _is_hit(key)
    )
    timed = isinstance(row.median, (int, float))
    ms = f"{row.median * 1000:10.2f}" if timed and row.median is not None else f"{'-':>10}"
    rate = (
        f"{row.per_round / row.median:9.1f}"
        if timed and row.median and row.per_round
        else f"{'-':>9}"
    )
    source = fit(row.source, run_width)
    name = fit(row.name, name_width)
    return f"{source:<{run_width}} {name:<{name_width}} {ms} {rate}  {hits}"


def write_table(terminalreporter: Any, rows: Sequence[Row]) -> None:
    """Print the table under a separator line (nothing when there are no rows).

    The run and benchmark columns are as wide as their longest entry (at most
    :data:`RUN_WIDTH` and :data:`NAME_WIDTH`; longer entries are cut in the middle).
    """
    if not rows:
        return
    run_width = min(max(len("run"), *(len(r.source) for r in rows)), RUN_WIDTH)
    name_width = min(max(len("benchmark"), *(len(r.name) for r in rows)), NAME_WIDTH)
    terminalreporter.write_sep("-", _TITLE)
    header = (
        f"{'run':<{run_width}} {'benchmark':<{name_width}} {'median ms':>10} {'texts/s':>9}"
        "  quality"
    )
    terminalreporter.write_line(header)
    for row in rows:
        terminalreporter.write_line(format_row(row, name_width, run_width))
