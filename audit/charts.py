"""The scorecard's charts: Plotly figures built in Python, drawn in the browser by the partial
plotly.js bundle served from static/vendor (bar and scatter traces only, so the basic bundle
suffices). Each chart also has a table or text alternative in its template.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import plotly.graph_objects as go
from markupsafe import Markup

BRAND = "#1f5fa8"
MUTED = "#9aa5b1"
THRESHOLD = "#b3261e"
CONFIG = {"displayModeBar": False, "responsive": True}


def _layout(fig: go.Figure, height: int = 300, **extra: object) -> go.Figure:
    settings: dict[str, object] = {"legend": {"orientation": "h", "y": -0.2}, **extra}
    fig.update_layout(height=height, margin={"l": 8, "r": 8, "t": 8, "b": 8}, paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="rgba(0,0,0,0)", font={"family": "system-ui, sans-serif", "size": 13}, **settings)
    fig.update_yaxes(automargin=True, gridcolor="#e3e7ec")
    fig.update_xaxes(automargin=True, gridcolor="#e3e7ec")
    return fig


def as_json(fig: go.Figure) -> Markup:
    """The figure as JSON that is safe inside a <script type="application/json"> element."""
    data = fig.to_plotly_json()
    text = json.dumps({"data": data["data"], "layout": data["layout"], "config": CONFIG},
                      separators=(",", ":"), ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c"))  # "<" escaped: no "</script>" can end the block


def channels(labels: Sequence[str], scores: Sequence[float | None], medians: Sequence[float | None],
             mine: str, median: str) -> go.Figure:
    """Score per channel against the category's median (percent); horizontal, so labels fit a phone."""
    fig = go.Figure([
        go.Bar(name=median, y=list(labels), x=[_pct(m) for m in medians], orientation="h", marker_color=MUTED,
               hovertemplate="%{y}: %{x:.0f}%<extra></extra>"),
        go.Bar(name=mine, y=list(labels), x=[_pct(s) for s in scores], orientation="h", marker_color=BRAND,
               text=[f"{_pct(s):.0f}%" if s is not None else "" for s in scores], textposition="inside",
               hovertemplate="%{y}: %{x:.0f}%<extra></extra>"),
    ])
    return _layout(fig, height=80 + 56 * len(labels), barmode="group",
                   xaxis={"range": [0, 100], "ticksuffix": "%"}, yaxis={"autorange": "reversed"},
                   legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "traceorder": "reversed"})


def sections(labels: Sequence[str], shares: Sequence[float], limit: int = 8) -> go.Figure:
    """The weakest rubric sections by share of points achieved, weakest at the top."""
    pairs = sorted(zip(labels, shares, strict=True), key=lambda p: p[1])[:limit]
    fig = go.Figure(go.Bar(
        x=[_pct(s) for _, s in pairs], y=[_short(label) for label, _ in pairs], orientation="h",
        customdata=[label for label, _ in pairs], text=[f"{_pct(s):.0f}%" for _, s in pairs], textposition="inside",
        marker_color=[THRESHOLD if s < 0.6 else BRAND for _, s in pairs],
        hovertemplate="%{customdata}: %{x:.0f}%<extra></extra>"))
    return _layout(fig, height=60 + 40 * len(pairs), xaxis={"range": [0, 100], "ticksuffix": "%"},
                   yaxis={"autorange": "reversed", "tickfont": {"size": 11}})


def _short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def trend(years: Sequence[int], points: Sequence[float | None], thresholds: Sequence[float],
          mine: str, threshold: str) -> go.Figure:
    """Ranking points across editions, with each edition's licence threshold."""
    fig = go.Figure([
        go.Scatter(name=mine, x=[str(y) for y in years], y=list(points), mode="lines+markers+text",
                   text=[f"{p:.1f}" if p is not None else "" for p in points], textposition="top center",
                   line={"color": BRAND, "width": 3}, marker={"size": 10}),
        go.Scatter(name=threshold, x=[str(y) for y in years], y=list(thresholds), mode="lines",
                   line={"color": THRESHOLD, "dash": "dash"}),
    ])
    return _layout(fig, yaxis={"range": [0, 1000]}, xaxis={"type": "category"})


def distribution(points: Sequence[float], mine: float | None, threshold: float, label_mine: str,
                 label_others: str, bin_width: float = 50.0) -> go.Figure:
    """The category's ranking points in bins, the institution's bin marked, the threshold drawn."""
    bins = [i * bin_width for i in range(int(1000 // bin_width) + 1)]
    counts = [0] * len(bins)
    for p in points:
        counts[min(int(p // bin_width), len(bins) - 1)] += 1
    mine_bin = min(int(mine // bin_width), len(bins) - 1) if mine is not None else None
    used = [i for i, n in enumerate(counts) if n] or [0]
    lo, hi = max(0, min(used) - 1), min(len(bins) - 1, max([*used, mine_bin or 0]) + 1)
    xs = [bins[i] + bin_width / 2 for i in range(lo, hi + 1)]
    fig = go.Figure(go.Bar(
        x=xs, y=counts[lo:hi + 1], width=bin_width * 0.9, name=label_others,
        marker_color=[BRAND if i == mine_bin else MUTED for i in range(lo, hi + 1)],
        customdata=[[bins[i], bins[i] + bin_width] for i in range(lo, hi + 1)],
        hovertemplate="%{customdata[0]:.0f}–%{customdata[1]:.0f}: %{y}<extra></extra>"))
    fig.add_vline(x=threshold, line={"color": THRESHOLD, "dash": "dash"})
    if mine is not None:
        fig.add_annotation(x=mine, y=max(counts) if counts else 1, text=label_mine, showarrow=True, arrowhead=2,
                           ay=-30, font={"color": BRAND})
    return _layout(fig, yaxis={"dtick": 1, "rangemode": "tozero"}, bargap=0.05)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)
