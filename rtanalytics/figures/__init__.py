"""Plotly figure builders, one module per report domain. Figures only: no data access, no I/O."""

from __future__ import annotations

import base64
import html as _html
import importlib.util
import os
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.io import to_html
from plotly.io._base_renderers import MimetypeRenderer, PlotlyRenderer
from plotly.io._utils import validate_coerce_fig_to_dict
from plotly.subplots import make_subplots

STATUS_COLORS = {"ok": "#2e7d32", "warning": "#ef6c00", "alert": "#c62828", "no data": "#757575",
                 "failed": "#c62828", "partial": "#ef6c00"}


class OfflineHtmlRenderer(MimetypeRenderer):
    """``text/html`` for nbconvert that works offline: plotly.js inlined with the first figure of the kernel
    session, no MathJax or anything else from a CDN (plotly's own ``notebook`` renderer links MathJax from a
    CDN for every figure)."""

    plotlyjs_sent = False  # class-wide: plotly copies renderer objects for every figure

    def to_mimebundle(self, fig_dict):
        fig_dict = decimate_figure(fig_dict)
        # run by the runner: one shared, versioned plotly.js under outputs/_assets/ (a report is ~100s of KB, not
        # 5 MB); otherwise (JupyterLab, --standalone) inlined once
        shared = os.environ.get("RTANALYTICS_PLOTLYJS_SRC", "")
        if OfflineHtmlRenderer.plotlyjs_sent:
            include = False  # the page already has plotly.js
        else:
            include = shared or True  # a relative URL ending in .js makes plotly emit a <script src>
        html = to_html(fig_dict, include_plotlyjs=include, include_mathjax=False, full_html=False,
                       default_width="100%", default_height=525, validate=False,
                       config={"displaylogo": False})
        OfflineHtmlRenderer.plotlyjs_sent = True
        return {"text/html": html}


MAX_POINTS = 2000  # per line: more than a chart's width in pixels


def decimate_xy(x, y, max_points: int = MAX_POINTS):
    """``(x, y)`` reduced to at most ``max_points`` points by keeping each bucket's minimum and maximum (in their
    order), so spikes and dips stay visible and a gap (a bucket without data) stays a gap. Whole arrays: no
    Python loop over points."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n <= max_points:
        return x, y
    buckets = max(1, max_points // 2)
    size = -(-n // buckets)
    pad = buckets * size - n
    yy = np.concatenate([y, np.full(pad, np.nan)]).reshape(buckets, size)
    nan = np.isnan(yy)
    lo = np.argmin(np.where(nan, np.inf, yy), axis=1)
    hi = np.argmax(np.where(nan, -np.inf, yy), axis=1)
    base = np.arange(buckets) * size
    idx = np.sort(np.stack([base + np.minimum(lo, hi), base + np.maximum(lo, hi)], axis=1), axis=1).ravel()
    idx = np.unique(idx[idx < n])
    xs = np.asarray(x)[idx] if not isinstance(x, (list, tuple)) else np.asarray(x, dtype=object)[idx]
    return xs, y[idx]


def utc_x(index):
    """Times for a trace's x: tz-aware times as naive UTC ``datetime64`` (what the page is told is UTC), so plotly
    copies and serialises one array instead of a ``Timestamp`` object per point (0.2-0.4 s a report)."""
    idx = pd.DatetimeIndex(index)
    return (idx.tz_convert("UTC").tz_localize(None) if idx.tz is not None else idx).to_numpy()


def _array(v):
    """A trace's x or y as a numpy array: plotly hands numeric arrays over base64-encoded ({dtype, bdata})."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape(v["shape"]) if "shape" in v and isinstance(v["shape"], (list, tuple)) else a
    return np.asarray(v)


def _typed(a) -> dict:
    """A float array as plotly's base64 typed array (~11 bytes a point instead of ~20 of JSON text)."""
    a = np.ascontiguousarray(a, dtype="<f8")
    return {"dtype": "f8", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}


def _epoch_ms(xa):
    """Datetimes (numpy datetime64 of any unit, or Timestamps / aware datetimes) as UTC epoch milliseconds
    (float), else None."""
    if xa.dtype.kind == "M":
        return xa.astype("datetime64[ms]").astype("int64").astype(float)
    if xa.dtype == object and len(xa) and hasattr(xa[0], "tzinfo") and hasattr(xa[0], "year"):
        try:
            idx = pd.DatetimeIndex(xa)
        except (TypeError, ValueError):
            return None
        idx = idx.tz_convert("UTC") if idx.tz is not None else idx
        return idx.as_unit("ms").asi8.astype(float)
    return None


def decimate_figure(fig_dict: dict, budget: int = 8000, max_points: int = MAX_POINTS) -> dict:
    """A figure as small as what it shows: line traces longer than their share of ``budget`` points (at most
    ``max_points``, at least 400) decimated (:func:`decimate_xy`), and time axes sent as epoch milliseconds in
    base64 typed arrays (plotly draws them on a date axis) instead of ISO strings. Everything else untouched."""
    data = fig_dict.get("data") or []
    lines = [t for t in data if t.get("type", "scatter") in ("scatter", "scattergl") and t.get("x") is not None
             and t.get("y") is not None]
    if not lines:
        return fig_dict
    per_trace = int(min(max_points, max(400, budget // max(len(lines), 1))))
    out = dict(fig_dict)
    layout = dict(out.get("layout") or {})
    traces = []
    for t in data:
        if not any(t is x for x in lines):
            traces.append(t)
            continue
        try:
            ya, xa = _array(t["y"]), _array(t["x"])
        except (TypeError, ValueError):
            traces.append(t)
            continue
        if ya.ndim != 1 or len(xa) != len(ya) or ya.dtype.kind not in "fiu":
            traces.append(t)
            continue
        ms = _epoch_ms(xa)
        if len(ya) > per_trace and not t.get("stackgroup"):
            keep_x = ms if ms is not None else xa
            keep_x, ya = decimate_xy(keep_x, ya, per_trace)
            if ms is not None:
                ms = keep_x
            else:
                xa = keep_x
        t = dict(t, y=_typed(ya))
        if ms is not None and len(ms) > 50:  # a date axis fed milliseconds: say so on the axis
            t["x"] = _typed(ms)
            key = "xaxis" + (t.get("xaxis", "x")[1:] or "")
            layout[key] = dict(layout.get(key) or {}, type="date")
        else:
            t["x"] = xa
        traces.append(t)
    out["data"] = traces
    out["layout"] = layout
    return out


class DecimatingPlotlyRenderer(PlotlyRenderer):
    """plotly's own mimetype (interactive in JupyterLab), with long lines decimated like the HTML's."""

    def to_mimebundle(self, fig_dict):
        return super().to_mimebundle(decimate_figure(fig_dict))


_RENDERERS = {"rt_plotly": DecimatingPlotlyRenderer(), "rt_offline": OfflineHtmlRenderer()}


def show(fig) -> None:
    """Show ``fig`` as every report does: plotly's mimetype (interactive in JupyterLab, long lines decimated) and
    offline HTML for the exported report (plotly's mimetype alone is dropped by nbconvert without a warning).
    The same output as ``fig.show()`` after :func:`use_offline_renderer`, without loading plotly's renderer
    registry, which imports nbformat and jsonschema (0.1 s of every report's kernel, bench/README.md)."""
    # lazy: IPython only inside a kernel (the command imports this module and never displays)
    from IPython.display import display

    fig_dict = validate_coerce_fig_to_dict(fig, True)
    bundle: dict = {}
    for renderer in _RENDERERS.values():
        bundle.update(renderer.to_mimebundle(fig_dict))
    display(bundle, raw=True)


def _register(renderers_module) -> None:
    for name, renderer in _RENDERERS.items():
        renderers_module.renderers[name] = renderer
    renderers_module.renderers.default = "+".join(_RENDERERS)


class _AfterImport:
    """A one-shot import hook: ``callback(module)`` once the module ``name`` has been executed."""

    def __init__(self, name: str, callback):
        self.name, self.callback = name, callback

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None

        sys.meta_path.remove(self)  # once, and not for the look-up below
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run, callback = spec.loader.exec_module, self.callback

        def exec_module(module):
            run(module)
            callback(module)

        spec.loader.exec_module = exec_module  # this spec's own loader object
        return spec


def use_offline_renderer() -> None:
    """Make ``fig.show()`` render like :func:`show` (what the reports call): the ``rt_plotly+rt_offline``
    renderers registered and made plotly's default — now if plotly's renderer registry is loaded, else when it
    is first imported (by the first ``fig.show()``), so a kernel that never needs it does not load it."""
    mod = sys.modules.get("plotly.io._renderers")
    if mod is not None:
        _register(mod)
    elif not any(isinstance(f, _AfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport("plotly.io._renderers", _register))


def lines_by_unit(df, units: dict | None = None, title: str = ""):
    """Each column of ``df`` as a line, one panel (one y-axis) per unit: request counts and seconds never share
    an axis. ``units`` maps a column to its unit; a column it does not name gets one from its metric name."""
    units = dict(units or {})

    def unit_of(col: str) -> str:
        if col in units:
            return units[col]
        c = col.lower()
        if any(w in c for w in ("latency", "responsetime", "duration", "time")):
            return "ms" if "latency" in c and "dynamodb" in c else "s"
        if any(w in c for w in ("count", "requests", "errors", "throttles", "invocations")):
            return "count"
        return "value"

    groups: dict[str, list] = {}
    for col in df.columns:
        groups.setdefault(unit_of(str(col)), []).append(col)
    fig = make_subplots(rows=len(groups) or 1, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=list(groups))
    for i, (unit, cols) in enumerate(groups.items(), start=1):
        for col in cols:
            fig.add_trace(go.Scatter(x=utc_x(df.index), y=df[col].to_numpy(), mode="lines", name=str(col),
                                     connectgaps=False), row=i, col=1)
        fig.update_yaxes(title_text=unit, row=i, col=1)
    fig.update_layout(title=title, template="plotly_white", height=260 * max(len(groups), 1) + 80,
                      legend=dict(orientation="h", y=-0.12), margin=dict(l=60, r=20, t=60, b=40))
    return fig


def incident_bands(fig, incidents, label_col: str = "incident", levels: int = 3) -> None:
    """Shade each incident and label it above the plot, the labels staggered over ``levels`` heights so that
    incidents close in time never print their names on top of each other (the full name is also on hover)."""
    if incidents is None or not len(incidents):
        return
    inc = incidents.sort_values("start")
    for i, r in enumerate(inc.itertuples()):
        end = r.end if pd.notna(r.end) else r.start
        fig.add_vrect(x0=r.start, x1=end, fillcolor="#1565c0", opacity=0.15, line_width=0)
        label = str(getattr(r, label_col, "") or "")
        if label:
            fig.add_annotation(x=r.start, xref="x", y=1.0 + 0.045 * (i % levels), yref="paper", yanchor="bottom",
                               xanchor="left", text=_html.escape(label), showarrow=False,
                               font=dict(size=9, color="#1565c0"))
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 80
    fig.update_layout(margin=dict(t=max(top, 60 + 14 * levels)))
