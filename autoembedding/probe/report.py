"""Turn a :class:`~autoembedding.candidates.ProbeReport` into JSON, a text table, or a page.

* :func:`report_to_dict` gives plain JSON-able data (what ``autoembed probe --json`` writes).
* :func:`format_table` gives a fixed-width table for a terminal.
* :func:`write_report` writes ``report.md`` and ``report.html`` (both with the candidates that
  were dropped or missed a target, and why) and the Pareto chart ``pareto.png``
  (:mod:`autoembedding.probe.pareto`) into a folder.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from autoembedding.candidates import CandidateResult, ProbeReport
from autoembedding.probe.pareto import plot_pareto

__all__ = [
    "format_table",
    "is_budget_cut",
    "plot_pareto",
    "report_to_dict",
    "swap_command",
    "why_not",
    "write_json",
    "write_report",
]


def _num(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def _status(result: CandidateResult, report: ProbeReport) -> str:
    if result is report.winner:
        return "WINNER"
    if result.error:
        return "skipped (budget)" if is_budget_cut(result.error) else "error"
    if result.dropped:
        return "dropped"
    if result.lexical.get("not_picked"):
        return "no gain"
    return "ok" if result.meets_targets else "misses targets"


def is_budget_cut(error: str) -> bool:
    """Whether ``error`` says the time budget, not the model, stopped the candidate."""
    return "skipped for budget_s=" in error or "cut by budget_s=" in error


def swap_command(
    report: ProbeReport, flags: str, result: CandidateResult | None = None
) -> str | None:
    """The ``autoembed swap`` command that serves the winner, copyable as is; ``None`` if none.

    A convex hybrid's command carries the dense weight the probe measured
    (``--fusion-weight``): without it the swap would use the default weight, not the one
    whose score the report shows.

    Args:
        report: The probe report.
        flags: The connection options (``--chroma-path DB`` ...) that reach the collection.
        result: Another candidate of the report to serve instead of the winner.
    """
    import shlex

    winner = result or report.winner
    if winner is None:
        return None
    command = f"autoembed swap {flags} --collection {shlex.quote(report.collection or 'NAME')}"
    command += f" --model {shlex.quote(winner.candidate.label)}"
    weight = winner.lexical.get("weight")
    if winner.lexical.get("fusion") == "convex" and weight is not None:
        command += f" --fusion-weight {float(weight):g}"
    return command


def _lexical(result: CandidateResult) -> dict[str, Any]:
    """A lexical or hybrid candidate's facts (tokenizer, index, fusion), rounded; else empty."""
    return {
        k: _num(v, 6) if isinstance(v, float) else v
        for k, v in result.lexical.items()
        if isinstance(v, (str, int, float, bool, list, dict)) or v is None
    }


def _lexical_line(row: dict[str, Any]) -> str | None:
    """One line on how a lexical or hybrid candidate was built, for the text table."""
    info = row.get("lexical") or {}
    if "tokenizer" not in info:
        return None
    source = (
        f"detected from {info.get('detected_from_docs', 0)} pool documents"
        if info.get("language") == "detected"
        else "forced"
    )
    index = (
        f"index {info.get('index_bytes_per_doc') or 0:.0f} B/doc over {info.get('index_docs')} "
        f"docs, built in {1000 * (info.get('build_s') or 0.0):.0f} ms"
    )
    if row["kind"] == "lexical":
        line = f"  {row['id']}: BM25, tokenizer {info['tokenizer']!r} ({source}), {index}"
    elif info.get("fusion") == "convex":
        line = (
            f"  {row['id']}: convex fusion, dense weight {info.get('weight')} chosen by "
            f"{info.get('folds')}-fold cross-validation (each query scored out of fold), "
            f"BM25 tokenizer {info['tokenizer']!r}"
        )
    else:
        line = f"  {row['id']}: RRF (k={info.get('k')}), BM25 tokenizer {info['tokenizer']!r}"
    if info.get("not_picked"):
        line += f"; not picked: {info['not_picked']}"
    return line


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
        "kind": cand.kind,
        "lexical": _lexical(result),
        "latency": dict(result.latency),  # as served on the whole collection (probe.latency)
    }


def report_to_dict(report: ProbeReport) -> dict[str, Any]:
    """Convert the whole report to JSON-able data; ``winner`` is the winner's label or ``None``."""
    return {
        "winner": report.winner.candidate.label if report.winner else None,
        "reason": report.reason,
        "collection": report.collection,
        "query_kind": report.query_kind,
        "n_queries": report.n_queries,
        "query_kinds": dict(report.query_kinds),
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
    lines += [line for row in data["candidates"] if (line := _lexical_line(row))]
    lines.append("")
    lines.append(f"Winner: {data['winner'] or 'none'}. {report.reason}")
    lines.append(
        f"({report.query_kind} queries: {report.n_queries}{_kinds(report)}, pool: "
        f"{report.n_docs} docs, {report.seconds:.1f} s)"
    )
    lines += [f"Note: {n}" for n in report.notes]
    return "\n".join(lines)


def _kinds(report: ProbeReport) -> str:
    """`` [ict 300, title 80, keyphrase 20]``: the queries of each kind (empty when unknown)."""
    if not report.query_kinds:
        return ""
    return " [" + ", ".join(f"{k} {n}" for k, n in report.query_kinds.items()) + "]"


def why_not(report: ProbeReport) -> list[tuple[str, str, str]]:
    """Every candidate that did not win, with its status and why, in report order.

    Returns:
        ``(label, status, reason)`` triples: the error that stopped it, why the race dropped
        it, the targets it missed, or (for one that met them) that another one was better.
    """
    out = []
    for row in report_to_dict(report)["candidates"]:
        if row["status"] == "WINNER":
            continue
        reason = row["error"] or row["dropped"] or "; ".join(row["failed_targets"].values())
        reason = reason or row["lexical"].get("not_picked")
        out.append((row["id"], row["status"], reason or "met the targets; another one won"))
    return out


def _markdown(report: ProbeReport, data: dict[str, Any]) -> str:
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
    details = [f"- `{label}` ({status}): {why}" for label, status, why in why_not(report)]
    if details:
        md += ["", "## Why the others did not win", "", *details]
    if report.notes:
        md += ["", "## Notes", "", *[f"- {n}" for n in report.notes]]
    return "\n".join(md) + "\n"


def _html(report: ProbeReport, data: dict[str, Any]) -> str:
    esc = html.escape
    header = [name for name, _ in _COLUMNS]
    rows = [_cells(r) for r in data["candidates"]]
    table = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    others = "".join(
        f"<tr><td><code>{esc(label)}</code></td><td>{esc(status)}</td><td>{esc(why)}</td></tr>"
        for label, status, why in why_not(report)
    )
    targets = ", ".join(f"<code>{esc(k)}={esc(str(v))}</code>" for k, v in data["targets"].items())
    return (
        "<!doctype html><meta charset='utf-8'><title>Embedding probe</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}</style>"
        f"<h1>Embedding probe: {esc(report.collection or 'documents')}</h1>"
        f"<p><b>Winner: {esc(data['winner'] or 'none')}.</b> {esc(report.reason)}</p>"
        f"<p>{report.n_queries} {esc(report.query_kind)} probe queries over a pool of "
        f"{report.n_docs} documents; the probe took {report.seconds:.1f} s.</p>"
        + (f"<p>Targets: {targets}</p>" if targets else "")
        + "<img src='pareto.png' alt='Pareto chart' style='max-width:100%'>"
        "<table><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in header)
        + f"</tr>{table}</table>"
        + (
            "<h2 id='why-not'>Why the others did not win</h2>"
            f"<table><tr><th>candidate</th><th>status</th><th>why</th></tr>{others}</table>"
            if others
            else ""
        )
        + (
            "<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in report.notes) + "</ul>"
            if report.notes
            else ""
        )  # fmt: skip
    )


def write_report(report: ProbeReport, folder: str | Path) -> Path:
    """Write ``report.md``, ``report.html``, ``pareto.png`` and ``report.json`` into ``folder``.

    Both pages list every candidate that did not win and why (its error, why the race dropped
    it, or the targets it missed).

    Returns:
        The path of ``report.md``.

    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plot_pareto(report, folder / "pareto.png")
    write_json(report, folder / "report.json")
    data = report_to_dict(report)
    (folder / "report.md").write_text(_markdown(report, data), encoding="utf-8")
    (folder / "report.html").write_text(_html(report, data), encoding="utf-8")
    return folder / "report.md"
