"""Plotly figure builders, one module per report domain. Figures only: no data access, no I/O."""

from __future__ import annotations

import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer

STATUS_COLORS = {"ok": "#2e7d32", "warning": "#ef6c00", "alert": "#c62828", "no data": "#757575",
                 "failed": "#c62828", "partial": "#ef6c00"}


class OfflineHtmlRenderer(MimetypeRenderer):
    """``text/html`` for nbconvert that works offline: plotly.js inlined with the first figure of the kernel
    session, no MathJax or anything else from a CDN (plotly's own ``notebook`` renderer links MathJax from a
    CDN for every figure)."""

    plotlyjs_sent = False  # class-wide: plotly copies renderer objects for every figure

    def to_mimebundle(self, fig_dict):
        from plotly.io import to_html

        html = to_html(fig_dict, include_plotlyjs=not OfflineHtmlRenderer.plotlyjs_sent, include_mathjax=False, full_html=False,
                       default_width="100%", default_height=525, validate=False,
                       config={"displaylogo": False})
        OfflineHtmlRenderer.plotlyjs_sent = True
        return {"text/html": html}


pio.renderers["rt_offline"] = OfflineHtmlRenderer()


def use_offline_renderer() -> None:
    """Render figures so they show in JupyterLab (plotly mimetype) and survive nbconvert's HTML export offline
    (plotly's default ``plotly_mimetype`` alone is dropped by nbconvert without a warning)."""
    pio.renderers.default = "plotly_mimetype+rt_offline"


def lines_by_unit(df, units: dict | None = None, title: str = ""):
    """Each column of ``df`` as a line, one panel (one y-axis) per unit: request counts and seconds never share
    an axis. ``units`` maps a column to its unit; a column it does not name gets one from its metric name."""
    from plotly.subplots import make_subplots
    import plotly.graph_objects as go

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
            fig.add_trace(go.Scatter(x=df.index, y=df[col].to_numpy(), mode="lines", name=str(col),
                                     connectgaps=False), row=i, col=1)
        fig.update_yaxes(title_text=unit, row=i, col=1)
    fig.update_layout(title=title, template="plotly_white", height=260 * max(len(groups), 1) + 80,
                      legend=dict(orientation="h", y=-0.12), margin=dict(l=60, r=20, t=60, b=40))
    return fig


def incident_bands(fig, incidents, label_col: str = "incident", levels: int = 3) -> None:
    """Shade each incident and label it above the plot, the labels staggered over ``levels`` heights so that
    incidents close in time never print their names on top of each other (the full name is also on hover)."""
    import html as _html

    import pandas as pd

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
