"""Figures for the KPI report."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..catalog.models import Kpi
from ..present import DASH, fmt_value, kpi_kind
from ..present import table as styled_table
from . import STATUS_COLORS, utc_x


def threshold_range(values: np.ndarray, thresholds: list[float], reach: float = 3.0):
    """A y range for ``values`` that includes each threshold only when it lies within ``reach`` data-spans of
    the data (a 30 s alert line beside 0.3 s durations would squash the data flat). Returns (lo, hi, [shown per
    threshold], any_off_scale); lo/hi None without data."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return None, None, [True] * len(thresholds), False
    dlo, dhi = float(v.min()), float(v.max())
    span = (dhi - dlo) or abs(dhi) or 1.0
    shown = [dlo - reach * span <= t <= dhi + reach * span for t in thresholds]
    lo = min([dlo] + [t for t, sh in zip(thresholds, shown) if sh])
    hi = max([dhi] + [t for t, sh in zip(thresholds, shown) if sh])
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1
    return lo - pad, hi + pad, shown, not all(shown)


@lru_cache(maxsize=64)
def _stacked_layout_json(rows: int) -> str:
    skeleton = make_subplots(rows=max(rows, 1), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                             subplot_titles=[str(i) for i in range(rows)] or None)
    layout = skeleton.layout.to_plotly_json()
    layout.pop("template", None)  # each figure names its own
    return json.dumps(layout)


def stacked_layout(rows: int) -> dict:
    """``make_subplots(rows, 1, shared_xaxes=True, vertical_spacing=0.06, subplot_titles=…)``'s layout as a new
    dict (axes, domains, one title annotation per row to fill in; no template), computed once per row count:
    make_subplots builds and validates a whole figure (template included) on every call."""
    return json.loads(_stacked_layout_json(rows))


def kpi_group_figure(series: pd.DataFrame, table: pd.DataFrame, kpis: dict[str, Kpi], group: str,
                     title: str | None = None) -> go.Figure:
    """One panel per KPI of ``group``: the per-period series, the target (dashed) and alert threshold (dotted)."""
    rows = table[table["group"] == group]
    names = list(rows["kpi"])
    # the figure is assembled as plain dicts and validated once (go.Figure): plotly re-validates the whole
    # figure on every add_hline/add_trace/update call (0.5 s of the KPI report's 1.5 s for 7 panels)
    layout = stacked_layout(len(names))
    titles = layout.get("annotations", [])
    for note, n, s in zip(titles, names, rows["status"]):
        note["text"] = f"{kpis[n].title} ({kpis[n].unit}) — {s}"
    traces, shapes, notes = [], [], []
    for i, n in enumerate(names, start=1):
        k = kpis[n]
        s = series[n]
        xa, ya = f"x{'' if i == 1 else i}", f"y{'' if i == 1 else i}"
        color = STATUS_COLORS.get(rows.iloc[i - 1]["status"], "#1565c0")
        traces.append(dict(type="scatter", x=utc_x(s.index), y=s.to_numpy(), mode="lines", name=k.title,
                           line=dict(width=1.2), connectgaps=False, xaxis=xa, yaxis=ya,
                           hovertemplate="%{x|%Y-%m-%d %H:%M}Z<br>%{y:.4g}"))
        finite = s[np.isfinite(s)]
        lines = [(k.target.value, f"target {k.target}", dict(color="#2e7d32", dash="dash", width=1), "bottom"),
                 (k.alert.value, f"alert {k.alert}", dict(color="#c62828", dash="dot", width=1), "top")]
        lo, hi, shown, off = threshold_range(finite.to_numpy(), [v for v, *_ in lines])
        for (v, text, line, yanchor), show in zip(lines, shown):
            if show:  # what add_hline draws: a line across the panel, its label at the left above/below it
                shapes.append(dict(type="line", xref=f"{xa} domain", x0=0, x1=1, yref=ya, y0=v, y1=v, line=line))
                notes.append(dict(text=text, xref=f"{xa} domain", x=0, yref=ya, y=v, xanchor="left",
                                  yanchor=yanchor, showarrow=False))
        if off:  # a threshold far from the data is named, not drawn: it would squash the data to a flat line
            notes.append(dict(text=" · ".join(f"{t} {k.unit}: off this scale" for (v, t, *_), sh in zip(lines, shown)
                                              if not sh), xref=f"{xa} domain", yref=f"{ya} domain", x=1, y=1.0,
                              xanchor="right", yanchor="bottom", showarrow=False, font=dict(size=10, color="#666")))
        if lo is not None:
            layout.setdefault(f"yaxis{'' if i == 1 else i}", {})["range"] = [lo, hi]
        if i - 1 < len(titles):
            titles[i - 1].setdefault("font", {})["color"] = color
    layout.update(annotations=titles + notes, shapes=shapes, height=260 * max(len(names), 1), showlegend=False,
                  margin=dict(l=60, r=20, t=60, b=40), title=dict(text=title or group.replace("_", " ").title()),
                  template="plotly_white")  # in the one validation, not a second pass over the layout
    return go.Figure(data=traces, layout=layout)


def status_table_style(table: pd.DataFrame):
    """A pandas Styler colouring the status column (text HTML-escaped: a Styler does not escape by default)."""
    cols = ["title", "value", "unit", "target", "alert_threshold", "status", "measurement"]
    t = table[cols].rename(columns={"alert_threshold": "alert threshold"})

    def color(v):
        return f"color: {STATUS_COLORS.get(v, '#000')}; font-weight: 600"

    t = t.copy()
    # each row its own unit: the value formatted as people read it (99.92 %, 793 ms, 2,857 req/h)
    t["value"] = [_fmt_kpi(v, u) for v, u in zip(t["value"], t["unit"])]
    return styled_table(t.drop(columns=["unit"]), units={"value": "text"},
                 na={"value": "no data in the window"}).map(color, subset=["status"])


def _fmt_kpi(v, unit):
    kind, suffix = kpi_kind(unit)
    txt = fmt_value(v, kind)
    return None if txt == DASH else txt + (f" {suffix}" if suffix else "")
