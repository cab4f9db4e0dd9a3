"""Figures for the incident report."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import utc_x


def signals_figure(metrics: pd.DataFrame, signals: list[str], incident, timeline: pd.DataFrame) -> go.Figure:
    """The top-ranked signals stacked on one time axis, the incident shaded, deploys and alarms marked."""
    n = max(len(signals), 1)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.03, subplot_titles=signals or [""])
    for i, s in enumerate(signals, start=1):
        fig.add_trace(go.Scatter(x=utc_x(metrics.index), y=metrics[s].to_numpy(), mode="lines", name=s, showlegend=False,
                                 line=dict(width=1.2)), row=i, col=1)
    fig.add_vrect(x0=incident.start, x1=incident.end, fillcolor="#c62828", opacity=0.08, line_width=0)
    for r in timeline.itertuples() if len(timeline) else []:
        if r.kind in ("deploy", "alarm") and r.severity != "info" or r.kind == "deploy":
            fig.add_vline(x=r.start, line=dict(color="#1565c0" if r.kind == "deploy" else "#c62828", dash="dot",
                                               width=1))
    fig.update_layout(height=160 * n + 80, template="plotly_white", title="Where to look first: signals in onset "
                      "order (shaded: incident; dotted: deploys and alarms)", margin=dict(t=80))
    fig.update_annotations(font_size=11)
    return fig
