"""Figures for the SLO report."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from . import incident_bands, utc_x


def burndown_figure(burndowns: dict, budgets: dict) -> go.Figure:
    fig = go.Figure()
    for n, s in burndowns.items():
        fig.add_trace(go.Scatter(x=utc_x(s.index), y=100 * s.to_numpy(), mode="lines", name=n,
                                 hovertemplate="%{x|%Y-%m-%d %H:%M}Z<br>%{y:.2f}% left<extra>" + n + "</extra>"))
    fig.add_hline(y=0, line=dict(color="#c62828", dash="dot"))
    fig.update_layout(title="Error budget remaining through each SLO's window", yaxis_title="% of budget left",
                      template="plotly_white", height=420)
    return fig


def burn_heatmap(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=df.T.to_numpy(), x=utc_x(df.index), y=list(df.columns), colorscale="YlOrRd", zmin=0,
                               zmax=max(14.4, float(df.max().max() or 0)),
                               hovertemplate="%{y}<br>%{x|%Y-%m-%d %H:%M}Z<br>1h burn rate %{z:.1f}<extra></extra>"))
    fig.update_layout(title="Highest 1-hour burn rate per 6 hours (14.4 pages)", template="plotly_white",
                      height=140 + 35 * len(df.columns), margin=dict(l=160))
    return fig


def alert_timeline(alerts: pd.DataFrame, incidents: pd.DataFrame, window) -> go.Figure:
    fig = go.Figure()
    colors = {"page": "#c62828", "ticket": "#ef6c00"}
    for r in alerts.itertuples():
        end = r.end if pd.notna(r.end) else window.end
        fig.add_trace(go.Scatter(x=[r.start, end], y=[f"{r.slo} · {r.rule}"] * 2, mode="lines",
                                 line=dict(color=colors.get(r.severity, "#555"), width=12), showlegend=False,
                                 hovertemplate=f"{r.severity}: {r.rule}<br>%{{x|%Y-%m-%d %H:%M}}Z<extra></extra>"))

    fig.update_layout(title="Burn-rate alerts (red: page, orange: ticket) against the incidents",
                      template="plotly_white", height=200 + 28 * max(1, alerts[["slo", "rule"]].drop_duplicates()
                                                                     .shape[0] if len(alerts) else 1),
                      xaxis=dict(range=[window.start, window.end]), margin=dict(l=260))
    incident_bands(fig, incidents)
    return fig
