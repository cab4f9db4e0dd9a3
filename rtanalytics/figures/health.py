"""Figures for the health report."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

CODES = {"healthy": 0, "unknown": 0.5, "degraded": 1, "unhealthy": 2}


def availability_figure(history: pd.DataFrame) -> go.Figure:
    """One row per check, one cell per check run: green healthy, orange degraded, red unhealthy."""
    if history.empty:
        return go.Figure().update_layout(title="No health history yet")
    wide = history.pivot_table(index="check_name", columns="timestamp", values="status", aggfunc="last")
    z = wide.apply(lambda c: c.map(CODES)).to_numpy(dtype=float)
    fig = go.Figure(go.Heatmap(z=z, x=wide.columns, y=list(wide.index), zmin=0, zmax=2, showscale=False,
                               colorscale=[[0, "#2e7d32"], [0.25, "#9e9e9e"], [0.5, "#ef6c00"], [1, "#c62828"]],
                               hovertemplate="%{y}<br>%{x|%Y-%m-%d %H:%M}Z<extra></extra>"))
    fig.update_layout(title="Health checks over time (green healthy, orange degraded, red unhealthy)",
                      template="plotly_white", height=120 + 30 * len(wide.index), margin=dict(l=140))
    return fig
