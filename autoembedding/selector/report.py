"""Turn a :class:`~autoembedding.selector.types.ProbeReport` into JSON, a text table, or a page.

* :func:`report_to_dict` gives plain JSON-able data (what ``autoembed probe --json`` writes).
* :func:`format_table` gives a fixed-width table for a terminal.
* :func:`write_report` writes ``report.md`` and ``report.html`` with a Pareto chart
  (``pareto.png``: nDCG@10 against query latency, marker area = bytes per vector, the winner
  highlighted) into a folder. matplotlib is imported only here, with the Agg backend.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from autoembedding.selector.types import CandidateResult, ProbeReport

__all__ = ["format_table", "report_to_dict", "write_json", "write_report"]


def _num(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def _status(result: CandidateResult, report: ProbeReport) -> str:
    if result is report.winner:
        return "WINNER"
    if result.error:
        return "error"
    if result.dropped:
        return "dropped"
    return "ok" if result.meets_targets else "misses targets"


def result_to_dict(result: CandidateResult, report: ProbeReport) -> dict[str, Any]:
    """One candidate's measures as JSON-able data."""
    cand = result.candidate
    return {
        "id": cand.label,
        "model_id": cand.model_id,
        "options": {"truncate_dim": cand.truncate_dim, "precision": cand.precision},
        "status": _status(result, report),
        **{name: _num(value) for name, value in result.metrics.items()},
        "intervals": {k: [_num(lo), _num(hi)] for k, (lo, hi) in result.intervals.items()},
        "n_queries": len(next(iter(result.per_query.values()), [])),
        "query_p50_ms": _num(result.query_p50_ms, 2),
        "query_p95_ms": _num(result.query_p95_ms, 2),
        "docs_per_s": _num(result.docs_per_s, 2),
        "load_s": _num(result.load_s, 3),
        "dim": result.dim,
        "bytes_per_vector": _num(result.bytes_per_vector, 1),
        "contradiction": _num(result.contradiction),
        "meets_targets": result.meets_targets,
        "failed_targets": dict(result.failed_targets),
        "dropped": result.dropped,
        "error": result.error,
    }


def report_to_dict(report: ProbeReport) -> dict[str, Any]:
    """Convert the whole report to JSON-able data; ``winner`` is the winner's label or ``None``."""
    return {
        "winner": report.winner.candidate.label if report.winner else None,
        "reason": report.reason,
        "collection": report.collection,
        "query_kind": report.query_kind,
        "n_queries": report.n_queries,
        "n_docs": report.n_docs,
        "seconds": _num(report.seconds, 2),
        "targets": {k: v for k, v in vars(report.targets).items() if v is not None},
        "notes": list(report.notes),
        "candidates": [result_to_dict(r, report) for r in report.results],
    }


def write_json(report: ProbeReport, path: str | Path) -> Path:
    """Write :func:`report_to_dict` to ``path`` (parents created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report_to_dict(report), indent=2) + "\n", encoding="utf-8")
    return path


_COLUMNS = (
    ("candidate", "id"),
    ("nDCG@10", "ndcg@10"),
    ("95% CI", "ci"),
    ("hit@5", "hit@5"),
    ("MRR@10", "mrr@10"),
    ("p95 ms", "query_p95_ms"),
    ("docs/s", "docs_per_s"),
    ("load s", "load_s"),
    ("B/vec", "bytes_per_vector"),
    ("contra", "contradiction"),
    ("status", "status"),
)


def _cells(row: dict[str, Any]) -> list[str]:
    def fmt(value: Any, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    ci = row["intervals"].get("ndcg@10")
    return [
        row["id"],
        fmt(row.get("ndcg@10"), ".3f"),
        f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci and None not in ci else "-",
        fmt(row.get("hit@5"), ".3f"),
        fmt(row.get("mrr@10"), ".3f"),
        fmt(row["query_p95_ms"], ".1f"),
        fmt(row["docs_per_s"], ".1f"),
        fmt(row["load_s"], ".1f"),
        fmt(row["bytes_per_vector"], ".0f"),
        fmt(row["contradiction"], ".2f"),
        row["status"],
    ]


def format_table(report: ProbeReport) -> str:
    """Format a fixed-width text table of every candidate, then the verdict and notes."""
    data = report_to_dict(report)
    rows = [_cells(r) for r in data["candidates"]]
    header = [name for name, _ in _COLUMNS]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) for row in rows]
    for row in data["candidates"]:
        if row["error"] or row["dropped"]:
            lines.append(f"  {row['id']}: {row['error'] or row['dropped']}")
    lines.append("")
    lines.append(f"Winner: {data['winner'] or 'none'}. {report.reason}")
    lines.append(
        f"({report.query_kind} queries: {report.n_queries}, pool: {report.n_docs} docs, "
        f"{report.seconds:.1f} s)"
    )
    lines += [f"Note: {n}" for n in report.notes]
    return "\n".join(lines)


def plot_pareto(report: ProbeReport, path: str | Path) -> Path:
    """Save the Pareto chart (nDCG@10 vs query p95 ms, area = bytes per vector) as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:
        from autoembedding.adapters import missing_extra

        raise missing_extra("matplotlib", "report", exc) from exc
    path = Path(path)
    points = [
        r
        for r in report.results
        if r.query_p95_ms is not None and "ndcg@10" in r.metrics and r.error is None
    ]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    biggest = max((r.bytes_per_vector or 1.0 for r in points), default=1.0)
    offsets = _label_offsets(points)
    for r, offset in zip(points, offsets, strict=True):
        size = 60 + 900 * math.sqrt((r.bytes_per_vector or 1.0) / biggest)
        win = r is report.winner
        color = "tab:red" if win else ("tab:blue" if r.meets_targets else "tab:gray")
        lo, hi = r.intervals.get("ndcg@10", (r.metrics["ndcg@10"],) * 2)
        x = float(r.query_p95_ms or 0.0)
        ax.errorbar(
            x,
            r.metrics["ndcg@10"],
            yerr=[[r.metrics["ndcg@10"] - lo], [hi - r.metrics["ndcg@10"]]],
            fmt="none",
            ecolor=color,
            alpha=0.5,
            capsize=3,
            zorder=1,
        )
        ax.scatter(
            [x],
            [r.metrics["ndcg@10"]],
            s=size,
            c=color,
            alpha=0.85 if win else 0.55,
            edgecolors="black" if win else "none",
            linewidths=2 if win else 0,
            zorder=3 if win else 2,
        )
        label = r.candidate.label.split("/")[-1]
        if win:
            label = "★ " + label
        if r.dropped:
            label += " (dropped)"
        ax.annotate(
            f"{label}\n{r.bytes_per_vector or 0:g} B/vec",
            (r.query_p95_ms, r.metrics["ndcg@10"]),
            textcoords="offset points",
            xytext=offset,
            fontsize=8,
            fontweight="bold" if win else "normal",
        )
    limit = report.targets.max_query_ms
    if limit is not None:
        ax.axvline(limit, color="tab:orange", linestyle="--", linewidth=1)
        ax.annotate(
            f"max_query_ms={limit:g}",
            (limit, 0.02),
            xycoords=("data", "axes fraction"),
            fontsize=8,
            color="tab:orange",
            rotation=90,
            xytext=(3, 0),
            textcoords="offset points",
        )
    floor = report.targets.min_ndcg_at_10
    if floor is not None:
        ax.axhline(floor, color="tab:orange", linestyle="--", linewidth=1)
    if any((r.query_p95_ms or 1) > 0 for r in points) and points:
        spread = max(r.query_p95_ms or 1 for r in points) / max(
            min(r.query_p95_ms or 1 for r in points), 1e-3
        )
        if spread > 20:
            ax.set_xscale("log")
    ax.margins(x=0.25, y=0.15)
    ax.set_xlabel("single-query latency p95 (ms, this machine) — lower is better")
    ax.set_ylabel("nDCG@10 on probe queries (bars: 95% CI) — higher is better")
    title = f"Probe of {report.collection}" if report.collection else "Probe"
    ax.set_title(
        f"{title}: {report.n_queries} {report.query_kind} queries, {report.n_docs} docs\n"
        "marker area = bytes per vector; red = winner, blue = meets targets, grey = not",
        fontsize=10,
    )
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _label_offsets(points: list[CandidateResult]) -> list[tuple[float, float]]:
    """Label offsets (points) that stack labels of nearby markers instead of overlapping."""
    if not points:
        return []
    xs = [math.log10(max(r.query_p95_ms or 1e-3, 1e-3)) for r in points]
    ys = [r.metrics["ndcg@10"] for r in points]
    xr = (max(xs) - min(xs)) or 1.0
    yr = (max(ys) - min(ys)) or 1.0
    placed: list[tuple[float, float, int]] = []
    out = []
    for x, y in zip(xs, ys, strict=True):
        near = [k for px, py, k in placed if abs(px - x) / xr < 0.12 and abs(py - y) / yr < 0.15]
        slot = max(near, default=-1) + 1 if near else 0
        placed.append((x, y, slot))
        out.append((9.0, 6.0 - 26.0 * slot))
    return out


def write_report(report: ProbeReport, folder: str | Path) -> Path:
    """Write ``report.md``, ``report.html``, ``pareto.png`` and ``report.json`` into ``folder``.

    Returns:
        The path of ``report.md``.

    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plot_pareto(report, folder / "pareto.png")
    write_json(report, folder / "report.json")
    data = report_to_dict(report)
    header = [name for name, _ in _COLUMNS]
    rows = [_cells(r) for r in data["candidates"]]
    md = [f"# Embedding probe: {report.collection or 'documents'}", ""]
    md.append(f"**Winner: {data['winner'] or 'none'}.** {report.reason}")
    md.append("")
    md.append(
        f"{report.n_queries} {report.query_kind} probe queries over a pool of {report.n_docs} "
        f"documents; the probe took {report.seconds:.1f} s. Latency and throughput are from this "
        "machine."
    )
    if data["targets"]:
        md.append("")
        md.append("Targets: " + ", ".join(f"`{k}={v}`" for k, v in data["targets"].items()))
    md += ["", "![Pareto chart](pareto.png)", ""]
    md.append("| " + " | ".join(header) + " |")
    md.append("|" + "---|" * len(header))
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    details = [
        f"- `{r['id']}`: {r['error'] or r['dropped'] or '; '.join(r['failed_targets'].values())}"
        for r in data["candidates"]
        if r["error"] or r["dropped"] or r["failed_targets"]
    ]
    if details:
        md += ["", "## Why candidates were dropped or missed targets", "", *details]
    if report.notes:
        md += ["", "## Notes", "", *[f"- {n}" for n in report.notes]]
    (folder / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    esc = html.escape
    table = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    page = (
        "<!doctype html><meta charset='utf-8'><title>Embedding probe</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd}</style>"
        f"<h1>Embedding probe: {esc(report.collection or 'documents')}</h1>"
        f"<p><b>Winner: {esc(data['winner'] or 'none')}.</b> {esc(report.reason)}</p>"
        "<img src='pareto.png' alt='Pareto chart' style='max-width:100%'>"
        "<table><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in header)
        + f"</tr>{table}</table>"
        + "".join(f"<p>Note: {esc(n)}</p>" for n in report.notes)
    )
    (folder / "report.html").write_text(page, encoding="utf-8")
    return folder / "report.md"
