"""CloudWatch dashboard bodies (the console's JSON) as queries and plotly figures laid out as on the console.

Understood: metric widgets with the ``"."`` repeat shorthand (a ``.`` repeats the previous row's value at that
position), per-metric options (``stat, period, label, color, yAxis, visible, region, id``), metric math rows
(``[{"expression": ...}]``, shown as an explained placeholder: they are evaluated by CloudWatch only), widget
``stat``/``period``/``region`` defaults, ``view`` (timeSeries, singleValue, bar, pie), ``stacked``, ``yAxis``
bounds, horizontal annotations, and text widgets (Markdown shown as escaped text). Any other widget type is drawn
as a labelled placeholder, never a crash. Layout: the console's 24-column grid (``x, y, width, height``).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html

Note what the seed's fourth widget shows: ``RealTechee/Business`` metrics are published with dimensions
(``LeadSource``/``QuoteValue``/``Environment``), so a query without dimensions matches no metric — the widget is
empty on the console too. The renderer says so instead of drawing zeros.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .errors import CatalogError
from .names import short_labels
from .queries import MetricQuery, normalize_stat

ROW_PX = 48


@dataclass
class WidgetMetric:
    query: MetricQuery | None
    options: dict
    expression: str | None = None


@dataclass
class Widget:
    index: int
    type: str
    x: int
    y: int
    width: int
    height: int
    properties: dict
    metrics: list[WidgetMetric] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.properties.get("title") or f"{self.type} widget {self.index + 1}")


def expand_metrics(rows: list, where: str) -> list[tuple[list, dict]]:
    """Resolve the repeat shorthands: ``(values, options)`` per row.

    * ``"."`` (documented) repeats the previous row's value at that position;
    * ``"..."`` first in a row (what console exports write) repeats the previous row's namespace, metric name
      and dimensions, the row's remaining items replacing the trailing ones: ``["...", "stocklist"]`` changes
      the last dimension value, ``["...", "Operation", "Query"]`` the last pair, ``["...", {"stat": "p99"}]``
      only the options."""
    out, prev = [], []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            raise CatalogError(where, f"metrics[{i}]", "each metric is a non-empty list")
        opts = row[-1] if isinstance(row[-1], dict) else {}
        vals = row[:-1] if isinstance(row[-1], dict) else row
        if vals and vals[0] == "...":
            if not prev:
                raise CatalogError(where, f"metrics[{i}][0]", '"..." repeats the previous row, and there is none')
            tail = list(vals[1:])
            if len(tail) > len(prev):
                raise CatalogError(where, f"metrics[{i}]", f'"..." with {len(tail)} items replaces more than the '
                                   f"previous row has ({len(prev)})")
            resolved = list(prev[:len(prev) - len(tail)]) + tail
            out.append((resolved, opts))
            prev = resolved
            continue
        resolved = []
        for j, v in enumerate(vals):
            if v == ".":
                if j >= len(prev):
                    raise CatalogError(where, f"metrics[{i}][{j}]", '"." repeats the previous row, which has no value '
                                       "at this position")
                resolved.append(prev[j])
            else:
                resolved.append(v)
        out.append((resolved, opts))
        if resolved:
            prev = resolved
    return out


def parse(body: dict | str, where: str = "dashboard") -> list[Widget]:
    """A dashboard body into widgets with their queries; errors name the widget and field."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as e:
            raise CatalogError(where, None, f"not JSON: {e}") from None
    widgets = body.get("widgets") if isinstance(body, dict) else None
    if not isinstance(widgets, list):
        raise CatalogError(where, "widgets", "a dashboard body needs a 'widgets' list")
    out = []
    for i, w in enumerate(widgets):
        if not isinstance(w, dict) or "type" not in w:
            raise CatalogError(where, f"widgets[{i}]", "each widget needs a 'type'")
        props = w.get("properties") or {}
        wd = Widget(i, w["type"], int(w.get("x", 0)), int(w.get("y", 0)), int(w.get("width", 6)),
                    int(w.get("height", 6)), props)
        if w["type"] == "metric":
            wstat = props.get("stat", "Average")
            wperiod = int(props.get("period", 300))
            for vals, opts in expand_metrics(props.get("metrics", []), f"{where}: widgets[{i}]"):
                if "expression" in opts:
                    wd.metrics.append(WidgetMetric(None, opts, opts["expression"]))
                    continue
                if len(vals) < 2 or len(vals) % 2 != 0:
                    raise CatalogError(where, f"widgets[{i}].metrics", f"{vals}: namespace, metric name, then "
                                       "dimension name/value pairs")
                dims = dict(zip(vals[2::2], vals[3::2]))
                try:
                    stat = normalize_stat(opts.get("stat", wstat))
                except ValueError as e:
                    raise CatalogError(where, f"widgets[{i}].metrics", str(e)) from None
                label = opts.get("label") or f"{vals[1]}" + (f" {' '.join(dims.values())}" if dims else "")
                q = MetricQuery(vals[0], vals[1], dims, stat, int(opts.get("period", wperiod)),
                                label=f"w{i}:{len(wd.metrics)}:{label}")
                wd.metrics.append(WidgetMetric(q, opts))
        out.append(wd)
    return out


def load_dashboard(path: Path | str) -> tuple[dict, list[Widget]]:
    path = Path(path)
    try:
        body = json.loads(path.read_text())
    except ValueError as e:
        raise CatalogError(str(path), None, f"not JSON: {e}") from None
    return body, parse(body, str(path))


def query_table(widgets: list[Widget]) -> pd.DataFrame:
    rows = []
    for w in widgets:
        for m in w.metrics:
            q = m.query
            rows.append({"widget": w.title, "namespace": q.namespace if q else "", "metric": q.metric if q else "",
                         "dimensions": ", ".join(f"{k}={v}" for k, v in q.dimensions) if q else "",
                         "stat": q.stat if q else "", "period": q.period if q else "",
                         "expression": m.expression or ""})
    return pd.DataFrame(rows)


def fetch(widgets: list[Widget], source, window) -> pd.DataFrame:
    qs = [m.query for w in widgets for m in w.metrics if m.query is not None]
    frames = []
    for p in sorted({q.period for q in qs}):
        frames.append(source.metrics([q for q in qs if q.period == p], window))
    return pd.concat(frames, axis=1) if frames else pd.DataFrame()


def figure(widgets: list[Widget], data: pd.DataFrame, title: str = "", window=None) -> go.Figure:
    """All widgets in one figure, each in its grid cell (24 columns), as the console draws them: the title on
    top, the chart, its time axis, and the widget's own legend under it (plotly's multiple legends), so no
    title, date or legend of one widget runs into another."""
    fig = go.Figure()
    rows = max((w.y + w.height for w in widgets), default=6)
    pad_x = 0.012
    TITLE, TICKS, LINE = 26, 36, 20  # pixels: title, date ticks, one legend line

    all_names = {m.query.label: m.query.label.split(":", 2)[2] for w in widgets for m in w.metrics
                 if m.query is not None}
    names = short_labels(all_names)  # "Contacts", not "Contacts-aqnq…-NONE"; the full name on hover

    def shown(w):
        return [m for m in w.metrics if m.query is not None and m.options.get("visible", True)
                and m.query.label in data and data[m.query.label].notna().sum() > 0]

    def legend_lines(w) -> tuple[int, int]:
        ms = shown(w) if w.type == "metric" and w.properties.get("view", "timeSeries") != "singleValue" else []
        if not ms:
            return 0, 1
        return len(ms), 1  # one entry a line, under the widget: nothing to wrap into the next widget

    row_px = max([ROW_PX] + [(TITLE + TICKS + LINE * legend_lines(w)[0] + 130) / max(w.height, 1)
                             for w in widgets])
    P = row_px * rows  # the plotting area's height in pixels: paper coordinates are fractions of it

    def py(px: float) -> float:  # pixels from the top of the grid → paper y
        return 1 - px / P

    layout: dict[str, Any] = {}
    notes = []
    for n, w in enumerate(widgets, start=1):
        x0, x1 = w.x / 24 + pad_x, (w.x + w.width) / 24 - pad_x
        top, bottom = w.y * row_px, (w.y + w.height) * row_px
        lines, _ = legend_lines(w)
        y1, y0 = py(top + TITLE), py(bottom - TICKS - LINE * lines - 4)
        ax = "" if n == 1 else str(n)
        leg = "legend" if n == 1 else f"legend{n}"
        notes.append(dict(text=f"<b>{html.escape(w.title)}</b>", x=x0, y=py(top + 4), xref="paper", yref="paper",
                          showarrow=False, font=dict(size=12), xanchor="left", yanchor="top"))
        if w.type != "metric":
            text = html.escape(str(w.properties.get("markdown", ""))).replace("\n", "<br>") if w.type == "text" \
                else f"widget type '{html.escape(w.type)}' is not rendered here"
            notes.append(dict(text=text, x=x0, y=y1 - 0.01, xref="paper", yref="paper", showarrow=False,
                              align="left", xanchor="left", yanchor="top", font=dict(size=11, color="#555")))
            layout[f"xaxis{ax}"] = dict(domain=[x0, x1], visible=False, anchor=f"y{ax}")
            layout[f"yaxis{ax}"] = dict(domain=[y0, y1], visible=False, anchor=f"x{ax}")
            continue
        props = w.properties
        view = props.get("view", "timeSeries")
        stacked = bool(props.get("stacked", False))
        layout[f"xaxis{ax}"] = dict(domain=[x0, x1], anchor=f"y{ax}", type="date", showgrid=True)
        if window is not None:
            layout[f"xaxis{ax}"]["range"] = [window.start, window.end]
        yl = props.get("yAxis", {}).get("left", {})
        ydef = dict(domain=[y0, y1], anchor=f"x{ax}", rangemode="tozero")
        if "min" in yl or "max" in yl:
            ydef["range"] = [yl.get("min", 0), yl.get("max", None)]
        layout[f"yaxis{ax}"] = ydef
        if lines:
            layout[leg] = dict(x=x0, y=py(bottom - LINE * lines - 2), xref="paper", yref="paper", xanchor="left",
                               yanchor="top", orientation="v", font=dict(size=10), bgcolor="rgba(0,0,0,0)",
                               tracegroupgap=0, itemsizing="constant")
        empty = []
        for k, m in enumerate(w.metrics):
            if m.query is None:
                empty.append(f"metric math {m.expression!r}: computed by CloudWatch, not here")
                continue
            if not m.options.get("visible", True):
                continue
            s = data[m.query.label] if m.query.label in data else pd.Series(dtype=float)
            full = all_names[m.query.label]
            name = names[m.query.label]
            if s.notna().sum() == 0:
                empty.append(f"{name}: no data")
                continue
            color = m.options.get("color")
            if view == "singleValue":
                last = s.dropna().iloc[-1]
                notes.append(dict(text=f"{html.escape(name)}<br><b>{last:.4g}</b>", x=x0 + (k + 0.5) * (x1 - x0) /
                                  max(len(w.metrics), 1), y=(y0 + y1) / 2, xref="paper", yref="paper",
                                  showarrow=False, font=dict(size=14)))
                continue
            right = m.options.get("yAxis") == "right"
            yref = f"y{ax}" if not right else f"y{n + 100}"
            if right and f"yaxis{n + 100}" not in layout:
                layout[f"yaxis{n + 100}"] = dict(overlaying=f"y{ax}" if ax else "y", side="right", anchor=f"x{ax}",
                                                 showgrid=False)
            tr = dict(x=s.index, y=s.to_numpy(), name=html.escape(name), xaxis=f"x{ax}", yaxis=yref, legend=leg,
                      hovertemplate="%{x|%Y-%m-%d %H:%M}Z<br>%{y:.4g}<extra>" + html.escape(full) + "</extra>")
            if view == "bar":
                fig.add_trace(go.Bar(**tr, marker_color=color))
            else:
                fig.add_trace(go.Scatter(**tr, mode="lines", line=dict(color=color, width=1.3), connectgaps=False,
                                         stackgroup=f"s{n}" if stacked else None))
        for h in props.get("annotations", {}).get("horizontal", []):
            if "value" in h:
                fig.add_shape(type="line", xref=f"x{ax} domain", x0=0, x1=1, yref=f"y{ax}", y0=h["value"],
                              y1=h["value"], line=dict(color=h.get("color", "#c62828"), dash="dash", width=1))
                notes.append(dict(text=html.escape(str(h.get("label", ""))), xref=f"x{ax} domain", x=1,
                                  yref=f"y{ax}", y=h["value"], showarrow=False, xanchor="right", yanchor="bottom",
                                  font=dict(size=10, color=h.get("color", "#c62828"))))
        if empty:  # said inside the widget, briefly; the table below the grid says why
            more = f"<br>… {len(empty) - 6} more" if len(empty) > 6 else ""
            notes.append(dict(text="<br>".join(html.escape(e) for e in empty[:6]) + more, x=x0 + 0.005,
                              y=y1 - 0.01, xref="paper", yref="paper", showarrow=False, align="left",
                              xanchor="left", yanchor="top", font=dict(size=10, color="#c62828"),
                              bgcolor="rgba(255,255,255,0.85)"))
    fig.update_layout(**layout, annotations=notes, height=int(P) + 100, template="plotly_white",
                      title=html.escape(title), showlegend=True, margin=dict(l=40, r=40, t=60, b=40))
    return fig


@dataclass
class DashboardView:
    """One rendered dashboard. ``empty``: metrics no CloudWatch metric matches (the widget can never show
    them: a wrong name or missing dimensions); ``quiet``: metrics that exist but sent no datapoint in the
    window (counts CloudWatch publishes only when non-zero); ``error``: why the body could not be read."""

    name: str
    widgets: list
    figure: go.Figure | None
    queries: pd.DataFrame
    empty: list
    quiet: list = field(default_factory=list)
    error: str | None = None
    corrections: list = field(default_factory=list)  # for empty metrics: why, and the query that has data

    def correction_table(self) -> pd.DataFrame:
        return pd.DataFrame([{k: v for k, v in c.items() if k != "series"} for c in self.corrections],
                            columns=["widget", "metric", "why", "corrected query", "metrics matched"])

    def correction_figure(self) -> go.Figure | None:
        if not self.corrections:
            return None
        fig = go.Figure()
        for c in self.corrections:
            s = c["series"]
            fig.add_trace(go.Scatter(x=s.index, y=s.to_numpy(), name=c["metric"], mode="lines"))
        fig.update_layout(title=html.escape(f"{self.name}: the empty widgets' metrics, queried as published"),
                          height=320, margin=dict(l=40, r=20, t=50, b=40), legend=dict(orientation="h"))
        return fig


def correct(q: MetricQuery, source, window) -> dict | None:
    """Why a widget metric matches nothing and the query that does: the same metric with any dimensions
    (CloudWatch matches dimensions exactly, so a metric published with dimensions is invisible to a query
    without them). The correction is a SEARCH expression, drawn here as the sum of the metrics it finds."""
    found = source.list_metrics(q.namespace, q.metric, None)
    found = [m for m in found if m.dimensions]
    if not found:
        return None
    keys = sorted({k for m in found for k, _ in m.dimensions})
    search = (f"SEARCH('{{{q.namespace},{','.join(keys)}}} MetricName=\"{q.metric}\"', '{q.stat}', {q.period})")
    qs = [m.query(q.stat, q.period, label=f"c{i}") for i, m in enumerate(found)]
    df = source.metrics(qs, window)
    series = df.sum(axis=1, min_count=1) if q.stat in ("Sum", "SampleCount") else df.mean(axis=1)
    return {"metric": q.metric, "why": f"published with dimensions {', '.join(keys)}; a query without them "
                                       "matches no metric (CloudWatch matches dimensions exactly)",
            "corrected query": search, "metrics matched": len(found), "series": series}


def render_folder(folder: Path | str, source, window) -> list[DashboardView]:
    """Every ``*.json`` dashboard body in ``folder`` rendered over ``window``."""
    out = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            _, ws = load_dashboard(path)
        except CatalogError as e:  # reported on its own; the other dashboards still render
            out.append(DashboardView(path.stem, [], None, pd.DataFrame(), [], [], str(e)))
            continue
        data = fetch(ws, source, window)
        empty, quiet, corrections = [], [], []
        for w in ws:
            for m in w.metrics:
                q = m.query
                if q is None or (q.label in data and data[q.label].notna().sum() > 0):
                    continue
                name = q.label.split(":", 2)[2]
                exists = source.list_metrics(q.namespace, q.metric, dict(q.dimensions))
                if exists:
                    quiet.append(name)
                    continue
                fix = correct(q, source, window)
                if fix is not None:
                    corrections.append({"widget": w.title, **fix})
                else:
                    empty.append(name)
        out.append(DashboardView(path.stem, ws, figure(ws, data, path.stem, window), query_table(ws), empty, quiet,
                                 None, corrections))
    return out
