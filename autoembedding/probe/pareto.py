"""The probe's Pareto chart: retrieval quality against query latency, the winner, the targets.

What a reader should see at a glance:

* every candidate that produced measures, at (query p95 latency, nDCG@10) with its 95% interval;
* the **Pareto front** as a staircase: the candidates no other one beats on both axes;
* the **winner** (a red star), who met the targets (blue) and who did not (grey); dropped
  candidates hollow;
* the **target lines** (``max_query_ms``, ``min_ndcg_at_10``) with the side that misses shaded;
* marker area for bytes per vector only when candidates differ in it (otherwise the subtitle
  says the one value);
* labels that do not overlap one another or the markers, placed greedily around each point in
  screen space (so it works on a log axis too), with a leader line when pushed away.

matplotlib is imported only here, with the Agg backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autoembedding.candidates import CandidateResult, ProbeReport

__all__ = ["marker_sizes", "pareto_figure", "pareto_front", "plot_pareto", "short_label"]

#: Rings of label positions tried around a marker, nearest first: gap (points) past its edge.
_RINGS = (4.0, 16.0, 30.0, 46.0, 64.0)
_COLORS = {"winner": "tab:red", "meets": "tab:blue", "misses": "tab:gray"}
_TARGET_COLOR = "tab:orange"
_FRONT_COLOR = "tab:green"


def pareto_front(points: Sequence[CandidateResult]) -> list[CandidateResult]:
    """The candidates no other candidate beats on both latency and nDCG@10, fastest first.

    Args:
        points: Results with ``query_p95_ms`` and ``metrics["ndcg@10"]``.

    Returns:
        The non-dominated results, sorted by latency (so their nDCG@10 rises).
    """
    front: list[CandidateResult] = []
    best = -math.inf
    for r in sorted(points, key=lambda r: (r.query_p95_ms or 0.0, -r.metrics["ndcg@10"])):
        if r.metrics["ndcg@10"] > best:
            front.append(r)
            best = r.metrics["ndcg@10"]
    return front


def _plotted(report: ProbeReport) -> list[CandidateResult]:
    return [
        r
        for r in report.results
        if r.error is None and r.query_p95_ms is not None and "ndcg@10" in r.metrics
    ]


def short_label(r: CandidateResult) -> str:
    """The candidate's label without hub organisations; a hybrid says its fusion.

    ``hybrid:org/model+bm25`` and ``hybrid-rrf:org/model+bm25`` would both shorten to
    ``model+bm25``: the chart writes ``convex w=0.6 model+bm25`` and ``RRF model+bm25``.
    """
    cand = r.candidate
    if cand.kind != "hybrid":
        return cand.label.split("/")[-1]
    parts = "+".join(p.label.split("/")[-1] for p in cand.parts)
    if cand.fusion == "rrf":
        return f"RRF {parts}"
    weight = r.lexical.get("weight")
    return f"convex w={float(weight):g} {parts}" if weight is not None else f"convex {parts}"


def _label(r: CandidateResult, winner: bool, show_bytes: bool) -> str:
    text = short_label(r)
    if show_bytes and r.bytes_per_vector is not None:
        text += f" · {r.bytes_per_vector:g} B"
    if winner:
        text = "★ " + text + " (winner)"
    elif r.dropped:
        text += " (dropped)"
    return text


def _overlaps(box: Any, others: list[Any], pad: float = 2.0) -> bool:
    return any(
        box.x0 < o.x1 + pad and box.x1 > o.x0 - pad and box.y0 < o.y1 + pad and box.y1 > o.y0 - pad
        for o in others
    )


def _offsets(radius: float) -> list[tuple[float, float, bool]]:
    """Label offsets (points) around a marker of ``radius`` points, nearest ring first.

    Each is ``(dx, dy, leader)``: ``leader`` is set past the first ring, where a thin line ties
    the label to its marker.
    """
    out = []
    for ring, gap in enumerate(_RINGS):
        d = radius + gap
        for dx, dy in (
            (d, 0),
            (-d, 0),
            (0, d + 4),
            (0, -d - 4),
            (d, d),
            (-d, d),
            (d, -d),
            (-d, -d),
        ):
            out.append((dx, dy, ring > 0))
    return out


def _place_labels(
    ax: Any,
    points: list[CandidateResult],
    texts: list[str],
    radii: list[float],
    winner: CandidateResult | None,
) -> None:
    """Annotate each point where its label hits no other label, marker, the legend or the edge.

    Positions are tried in rings around the point (:data:`_OFFSETS`), measured in screen space,
    so crowded points on a log axis still get separate labels; a label pushed away from its
    marker gets a thin leader line.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    centres = [ax.transData.transform((r.query_p95_ms, r.metrics["ndcg@10"])) for r in points]
    px = fig.dpi / 72.0
    taken = [
        Bbox.from_extents(x - rad * px, y - rad * px, x + rad * px, y + rad * px)
        for (x, y), rad in zip(centres, radii, strict=True)
    ]
    legend = ax.get_legend()
    if legend is not None:
        taken.append(legend.get_window_extent(renderer))
    # the winner first (it gets the nearest spot), then from the top down
    order = sorted(range(len(points)), key=lambda i: (points[i] is not winner, -centres[i][1]))
    for i in order:
        r = points[i]
        xy = (r.query_p95_ms, r.metrics["ndcg@10"])
        style = {
            "fontsize": 8,
            "fontweight": "bold" if r is winner else "normal",
            "va": "center",
            "zorder": 6,
        }
        offsets = _offsets(radii[i])
        chosen, chosen_box = offsets[-1], None
        for dx, dy, leader in offsets:
            ha = "left" if dx > 0 else ("right" if dx < 0 else "center")
            trial = ax.annotate(
                texts[i], xy, textcoords="offset points", xytext=(dx, dy), ha=ha, **style
            )
            box = trial.get_window_extent(renderer)
            trial.remove()
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1
            if inside and frame.y0 <= box.y0 and box.y1 <= frame.y1 and not _overlaps(box, taken):
                chosen, chosen_box = (dx, dy, leader), box
                break
        dx, dy, leader = chosen
        note = ax.annotate(
            texts[i],
            xy,
            textcoords="offset points",
            xytext=(dx, dy),
            ha="left" if dx > 0 else ("right" if dx < 0 else "center"),
            arrowprops={"arrowstyle": "-", "color": "0.4", "lw": 0.7, "shrinkA": 1, "shrinkB": 2}
            if leader or chosen_box is None
            else None,
            **style,
        )
        taken.append(chosen_box or note.get_window_extent(renderer))


def _draw_targets(ax: Any, report: ProbeReport) -> list[Any]:
    """Target lines with the missing side shaded; returns legend handles."""
    from matplotlib.lines import Line2D

    handles = []
    limit, floor = report.targets.max_query_ms, report.targets.min_ndcg_at_10
    if limit is not None:
        ax.axvline(limit, color=_TARGET_COLOR, linestyle="--", linewidth=1.2, zorder=1)
        handles.append(
            Line2D([], [], color=_TARGET_COLOR, ls="--", label=f"max_query_ms = {limit:g}")
        )
    if floor is not None:
        ax.axhline(floor, color=_TARGET_COLOR, linestyle=":", linewidth=1.2, zorder=1)
        handles.append(
            Line2D([], [], color=_TARGET_COLOR, ls=":", label=f"min_ndcg_at_10 = {floor:g}")
        )
    xlim, ylim = ax.get_xlim(), ax.get_ylim()  # now including the target lines
    if limit is not None and limit < xlim[1]:
        ax.axvspan(limit, xlim[1], color=_TARGET_COLOR, alpha=0.07, zorder=0)
    if floor is not None and floor > ylim[0]:
        ax.axhspan(ylim[0], floor, color=_TARGET_COLOR, alpha=0.07, zorder=0)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    shown = {"max_query_ms", "min_ndcg_at_10"}
    for name, value in vars(report.targets).items():
        if value is not None and name not in shown:  # a target these axes cannot show
            handles.append(Line2D([], [], ls="", label=f"target {name} = {value:g} (not drawn)"))
    return handles


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:
        from autoembedding.adapters import missing_extra

        raise missing_extra("matplotlib", "report", exc) from exc
    return plt


def marker_sizes(points: Sequence[CandidateResult], winner: CandidateResult | None) -> list[float]:
    """Marker areas (points²): by bytes per vector only when the candidates differ in it."""
    sizes = {r.bytes_per_vector for r in points if r.bytes_per_vector is not None}
    biggest = max(sizes, default=1.0) or 1.0
    return [
        (40 + 500 * math.sqrt((r.bytes_per_vector or biggest) / biggest) if len(sizes) > 1 else 90)
        * (3.0 if r is winner else 1.0)
        for r in points
    ]


def _draw_points(
    ax: Any, points: list[CandidateResult], sizes: list[float], winner: CandidateResult | None
) -> None:
    # biggest markers first, so a small one at the same spot stays visible on top
    for k in sorted(range(len(points)), key=lambda k: -sizes[k]):
        r = points[k]
        win = r is winner
        color = _COLORS["winner" if win else ("meets" if r.meets_targets else "misses")]
        y, x = r.metrics["ndcg@10"], float(r.query_p95_ms or 0.0)
        lo, hi = r.intervals.get("ndcg@10", (y, y))
        ax.errorbar(x, y, yerr=[[y - lo], [hi - y]], fmt="none", ecolor=color, alpha=0.45,
                    capsize=3, zorder=2)  # fmt: skip
        ax.scatter(
            [x],
            [y],
            s=sizes[k],
            marker="*" if win else "o",
            facecolors="none" if r.dropped and not win else color,
            edgecolors="black" if win else color,
            linewidths=1.2,
            alpha=0.9 if win else 0.6,
            zorder=4 if win else 3,
            label=r.candidate.label,
        )


def _legend(ax: Any, points: list[CandidateResult], report: ProbeReport, front: bool) -> list[Any]:
    from matplotlib.lines import Line2D

    present = {
        "winner": report.winner in points,
        "meets": any(r.meets_targets and r is not report.winner for r in points),
        "misses": any(not r.meets_targets for r in points),
        "dropped": any(r.dropped for r in points),
        "front": front,
    }
    return [
        handle
        for key, handle in (
            ("winner", Line2D([], [], marker="*", ls="", color=_COLORS["winner"], mec="black",
                              ms=12, label="winner")),
            ("meets", Line2D([], [], marker="o", ls="", color=_COLORS["meets"],
                             label="meets the targets")),
            ("misses", Line2D([], [], marker="o", ls="", color=_COLORS["misses"],
                              label="misses a target")),
            ("dropped", Line2D([], [], marker="o", ls="", mfc="none", color="0.3",
                               label="dropped early (hollow)")),
            ("front", Line2D([], [], color=_FRONT_COLOR,
                             label="Pareto front (none faster and better)")),
        )
        if present[key]
    ]  # fmt: skip


def pareto_figure(report: ProbeReport) -> Any:
    """Draw the Pareto chart of a probe (the caller saves and closes the figure).

    Args:
        report: The probe's report.

    Returns:
        A matplotlib ``Figure`` with one axes.

    Raises:
        MissingExtraError: If matplotlib is not installed (the ``report`` extra).
    """
    plt = _pyplot()
    points = _plotted(report)
    fig, ax = plt.subplots(figsize=(10.5, 6), dpi=120)
    sizes = marker_sizes(points, report.winner)
    _draw_points(ax, points, sizes, report.winner)
    front = pareto_front(points)
    if len(front) > 1:
        ax.step(
            [float(r.query_p95_ms or 0.0) for r in front],
            [r.metrics["ndcg@10"] for r in front],
            where="post",
            color=_FRONT_COLOR,
            linewidth=1.3,
            alpha=0.8,
            zorder=1,
            label="Pareto front",
        )
    if points:
        lat = [float(r.query_p95_ms or 0.0) for r in points]
        if min(lat) > 0 and max(lat) / min(lat) > 20:
            ax.set_xscale("log")
    ax.margins(x=0.15, y=0.15)
    handles = _legend(ax, points, report, len(front) > 1) + _draw_targets(ax, report)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_xlabel("single-query latency p95, ms (this machine) — lower is better")
    ax.set_ylabel("nDCG@10 on the probe queries (bars: 95% CI) — higher is better")
    title = f"Probe of {report.collection}" if report.collection else "Probe"
    stored = {r.bytes_per_vector for r in points if r.bytes_per_vector is not None}
    vary = len(stored) > 1
    storage = (
        "marker area = bytes per vector"
        if vary
        else (f"every candidate stores {next(iter(stored)):g} bytes per vector" if stored else "")
    )
    ax.set_title(
        f"{title}: {report.n_queries} {report.query_kind} queries, {report.n_docs} documents\n"
        + storage,
        fontsize=10,
    )
    ax.grid(True, alpha=0.3, which="both")
    if not points:
        ax.text(0.5, 0.5, "no candidate produced measures", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    texts = [_label(r, r is report.winner, vary) for r in points]
    _place_labels(ax, points, texts, [math.sqrt(s) / 2 for s in sizes], report.winner)
    return fig


def plot_pareto(report: ProbeReport, path: str | Path) -> Path:
    """Save the Pareto chart of a probe (:func:`pareto_figure`) as a PNG.

    Args:
        report: The probe's report.
        path: Where to write the PNG (parent folders are created).

    Returns:
        ``path``.

    Raises:
        MissingExtraError: If matplotlib is not installed (the ``report`` extra).
    """
    plt = _pyplot()
    path = Path(path)
    fig = pareto_figure(report)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
