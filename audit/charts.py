"""The scorecard's charts: Plotly figures built in Python, drawn in the browser by the partial
plotly.js bundle served from static/vendor (bar and scatter traces only, so the basic bundle
suffices). Each chart also has a table or text alternative in its template.

A figure is written as the plain JSON document plotly.js reads ({"data": [...], "layout": {...}}),
not built with plotly's Python graph objects: those validate every property on every call, which
cost a director's scorecard more than its queries. tests/test_charts.py loads each figure into
`plotly.graph_objects.Figure`, so a property plotly does not know still fails a test.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

BRAND = "#1f5fa8"
MUTED = "#9aa5b1"
THRESHOLD = "#b3261e"
CONFIG = {"displayModeBar": False, "responsive": True}
AXIS = {"automargin": True, "gridcolor": "#e3e7ec"}

Figure = dict[str, Any]
"""{"data": [trace, ...], "layout": {...}}, as plotly.js reads it."""


def _figure(data: list[dict[str, Any]], height: int = 300, xaxis: dict[str, Any] | None = None,
            yaxis: dict[str, Any] | None = None, **extra: Any) -> Figure:
    layout: dict[str, Any] = {
        "legend": {"orientation": "h", "y": -0.2}, "height": height, "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, sans-serif", "size": 13},
        "xaxis": {**AXIS, **(xaxis or {})}, "yaxis": {**AXIS, **(yaxis or {})}, **extra}
    return {"data": data, "layout": layout}


def as_json(fig: Figure) -> Markup:
    """The figure as JSON that is safe inside a <script type="application/json"> element."""
    text = json.dumps({"data": fig["data"], "layout": fig["layout"], "config": CONFIG},
                      separators=(",", ":"), ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c"))  # "<" escaped: no "</script>" can end the block


def channels(labels: Sequence[str], scores: Sequence[float | None], medians: Sequence[float | None],
             mine: str, median: str) -> Figure:
    """Score per channel against the category's median (percent); horizontal, so labels fit a phone."""
    return _figure(
        [{"type": "bar", "name": median, "y": list(labels), "x": [_pct(m) for m in medians], "orientation": "h",
          "marker": {"color": MUTED}, "hovertemplate": "%{y}: %{x:.0f}%<extra></extra>"},
         {"type": "bar", "name": mine, "y": list(labels), "x": [_pct(s) for s in scores], "orientation": "h",
          "marker": {"color": BRAND}, "text": [f"{_pct(s):.0f}%" if s is not None else "" for s in scores],
          "textposition": "inside", "hovertemplate": "%{y}: %{x:.0f}%<extra></extra>"}],
        height=80 + 56 * len(labels), barmode="group",
        xaxis={"range": [0, 100], "ticksuffix": "%"}, yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "traceorder": "reversed"})


def sections(labels: Sequence[str], shares: Sequence[float], limit: int = 8) -> Figure:
    """The weakest rubric sections by share of points achieved, weakest at the top."""
    pairs = sorted(zip(labels, shares, strict=True), key=lambda p: p[1])[:limit]
    return _figure(
        [{"type": "bar", "x": [_pct(s) for _, s in pairs], "y": [_short(label) for label, _ in pairs],
          "orientation": "h", "customdata": [label for label, _ in pairs],
          "text": [f"{_pct(s):.0f}%" for _, s in pairs], "textposition": "inside",
          "marker": {"color": [THRESHOLD if s < 0.6 else BRAND for _, s in pairs]},
          "hovertemplate": "%{customdata}: %{x:.0f}%<extra></extra>"}],
        height=60 + 40 * len(pairs), xaxis={"range": [0, 100], "ticksuffix": "%"},
        yaxis={"autorange": "reversed", "tickfont": {"size": 11}})


def _short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def trend(years: Sequence[int], points: Sequence[float | None], thresholds: Sequence[float],
          mine: str, threshold: str) -> Figure:
    """Ranking points across editions, with each edition's licence threshold."""
    return _figure(
        [{"type": "scatter", "name": mine, "x": [str(y) for y in years], "y": list(points),
          "mode": "lines+markers+text", "text": [f"{p:.1f}" if p is not None else "" for p in points],
          "textposition": "top center", "line": {"color": BRAND, "width": 3}, "marker": {"size": 10}},
         {"type": "scatter", "name": threshold, "x": [str(y) for y in years], "y": list(thresholds),
          "mode": "lines", "line": {"color": THRESHOLD, "dash": "dash"}}],
        yaxis={"range": [0, 1000]}, xaxis={"type": "category"})


def distribution(points: Sequence[float], mine: float | None, threshold: float, label_mine: str,
                 label_others: str, bin_width: float = 50.0, label_threshold: str | None = None) -> Figure:
    """The category's ranking points in bins, the institution's bin marked, the threshold drawn.

    The threshold is a dashed line named in the legend (`label_threshold`), not a label on the plot,
    where on a phone it would lie over the arrow marking the institution."""
    bins = [i * bin_width for i in range(int(1000 // bin_width) + 1)]
    counts = [0] * len(bins)
    for p in points:
        counts[min(int(p // bin_width), len(bins) - 1)] += 1
    mine_bin = min(int(mine // bin_width), len(bins) - 1) if mine is not None else None
    used = [i for i, n in enumerate(counts) if n] or [0]
    lo, hi = max(0, min(used) - 1), min(len(bins) - 1, max([*used, mine_bin or 0]) + 1)
    top = max(counts) if counts else 1
    data: list[dict[str, Any]] = [
        {"type": "bar", "x": [bins[i] + bin_width / 2 for i in range(lo, hi + 1)], "y": counts[lo:hi + 1],
         "width": bin_width * 0.9, "name": label_others,
         "marker": {"color": [BRAND if i == mine_bin else MUTED for i in range(lo, hi + 1)]},
         "customdata": [[bins[i], bins[i] + bin_width] for i in range(lo, hi + 1)],
         "hovertemplate": "%{customdata[0]:.0f}–%{customdata[1]:.0f}: %{y}<extra></extra>"},
        {"type": "scatter", "x": [threshold, threshold], "y": [0, top], "mode": "lines",
         "line": {"color": THRESHOLD, "dash": "dash"}, "hoverinfo": "skip",
         "name": label_threshold or "", "showlegend": label_threshold is not None},
    ]
    annotations = [] if mine is None else [
        {"x": mine, "y": top, "text": label_mine, "showarrow": True, "arrowhead": 2, "ay": -30,
         "font": {"color": BRAND}}]
    return _figure(data, yaxis={"dtick": 1, "rangemode": "tozero"}, bargap=0.05, annotations=annotations)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)
