"""Figures for the alarms report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..alarms import ALARM, INSUFFICIENT
from . import incident_bands


def state_timeline(evaluations: dict, incidents: pd.DataFrame | None = None, title="Alarm states") -> go.Figure:
    """One row per alarm: ALARM episodes red, INSUFFICIENT_DATA grey; incidents shaded behind."""
    fig = go.Figure()
    names = list(evaluations)
    for row, name in enumerate(names):
        ev = evaluations[name]
        for code, color, label in ((ALARM, "#c62828", "ALARM"), (INSUFFICIENT, "#9e9e9e", "INSUFFICIENT_DATA")):
            on = ev.codes == code
            d = np.diff(np.r_[0, on.astype(np.int8), 0])
            st, en = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
            t = ev.eval_times
            xs, ys = [], []
            for a, b in zip(st, en):
                xs += [t[a], t[min(b, len(t) - 1)], None]
                ys += [name, name, None]
            if xs:
                fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=color, width=14), name=label,
                                         legendgroup=label, showlegend=row == 0 or not fig.data,
                                         hovertemplate=f"{label}<br>%{{x|%Y-%m-%d %H:%M}}Z<extra>{name}</extra>"))

    fig.update_layout(title=title, height=120 + 40 * len(names), template="plotly_white",
                      yaxis=dict(categoryorder="array", categoryarray=names[::-1]),
                      margin=dict(l=240, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.08))
    incident_bands(fig, incidents)
    return fig


def sweep_figure(sweep: pd.DataFrame, title: str) -> go.Figure:
    """Detection time against false alarms for every candidate; marker size shows recall."""
    if sweep.empty or "threshold" not in sweep:  # no alarm was swept (none to replay): an empty, titled chart
        fig = go.Figure()
        fig.update_layout(title=f"{title}: no candidates (no alarm to sweep)", template="plotly_white", height=200)
        return fig
    d = sweep.copy()
    d["label"] = [f"thr {t:g}, {m} of {n}" for t, m, n in zip(d["threshold"], d["M"], d["N"])]
    # label only the best trade-offs (no other candidate has both fewer false alarms and faster detection):
    # labelling all of them prints "3/5" on top of "2/5"; every candidate says what it is on hover
    fa, dm = d["false_alarms"].to_numpy(float), d["detection_minutes"].to_numpy(float)
    front = np.array([np.isfinite(dm[i]) and not np.any((fa <= fa[i]) & (dm <= dm[i]) & ((fa < fa[i]) | (dm < dm[i])))
                      for i in range(len(d))], dtype=bool) if len(d) else np.zeros(0, bool)
    d["front"] = front
    fig = go.Figure()
    for thr, g in d.groupby("threshold"):
        fig.add_trace(go.Scatter(
            x=g["false_alarms"], y=g["detection_minutes"], mode="markers+text", name=f"threshold {thr:g}",
            text=[f"{m}/{n}" for m, n in zip(g["M"], g["N"])],
            texttemplate=[f"{m}/{n}" if f else "" for m, n, f in zip(g["M"], g["N"], g["front"])],
            textposition="top center",
            marker=dict(size=8 + 22 * g["recall"].fillna(0)),
            customdata=np.c_[g["recall"].fillna(0), g["precision"].fillna(0)],
            hovertemplate="%{text}<br>false alarms %{x}<br>detection %{y:.1f} min<br>recall %{customdata[0]:.2f}"
                          "<br>precision %{customdata[1]:.2f}"))
    fig.update_layout(title=title, xaxis_title="false alarms", yaxis_title="mean detection time (min)",
                      template="plotly_white", height=420)
    return fig


def pages_heatmap(pages: pd.DataFrame, title="Notifications by local hour and weekday") -> go.Figure:
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    z = np.zeros((7, 24))
    if len(pages):
        np.add.at(z, (pages["local_weekday"].to_numpy(int), pages["local_hour"].to_numpy(int)), 1)
    fig = go.Figure(go.Heatmap(z=z, x=list(range(24)), y=days, colorscale="Reds",
                               hovertemplate="%{y} %{x}:00<br>%{z} notifications<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="local hour", template="plotly_white", height=320)
    return fig
