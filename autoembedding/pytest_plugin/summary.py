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

__all__ = ["Row", "benchmark_session", "format_row", "quality_rows", "write_table"]

_TITLE = "autoembedding: speed and correctness"


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
                source = Path(str(path)).stem[:24]
                name = str(bench.get("name"))
                rows.append(Row(source, name, median, info.get("texts_per_round"), info))
    if not rows and not current:
        for bench in recorded:
            info = getattr(bench, "extra_info", {}) or {}
            name = str(getattr(bench, "name", info.get("model")))
            rows.append(Row("NOW", name, None, info.get("texts_per_round"), info))
    return rows


def format_row(row: Row) -> str:
    """One table line: run, benchmark, median ms, texts/s and the hit@k values."""
    hits = ", ".join(f"{key}={value}" for key, value in row.info.items() if _is_hit(key))
    timed = isinstance(row.median, (int, float))
    ms = f"{row.median * 1000:10.2f}" if timed and row.median is not None else f"{'-':>10}"
    rate = (
        f"{row.per_round / row.median:9.1f}"
        if timed and row.median and row.per_round
        else f"{'-':>9}"
    )
    return f"{row.source:<24} {row.name[-64:]:<64} {ms} {rate}  {hits}"


def write_table(terminalreporter: Any, rows: Sequence[Row]) -> None:
    """Print the table under a separator line (nothing when there are no rows)."""
    if not rows:
        return
    terminalreporter.write_sep("-", _TITLE)
    header = f"{'run':<24} {'benchmark':<64} {'median ms':>10} {'texts/s':>9}  quality"
    terminalreporter.write_line(header)
    for row in rows:
        terminalreporter.write_line(format_row(row))
