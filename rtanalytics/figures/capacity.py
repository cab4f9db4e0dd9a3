"""Figures for the capacity and weekly performance reports."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import utc_x


def forecast_figure(forecasts: dict, items: dict) -> go.Figure:
    names = list(forecasts)
    fig = make_subplots(rows=max(len(names), 1), cols=1, subplot_titles=names or [""], vertical_spacing=0.08)
    for i, n in enumerate(names, start=1):
        f, it = forecasts[n], items[n]
        h = f.history.resample("1h").max()
        fig.add_trace(go.Scatter(x=utc_x(h.index), y=h.to_numpy(), name="history (hourly max)", line=dict(width=1,
                                 color="#455a64"), showlegend=i == 1), row=i, col=1)
        m, lo, up = (x.resample("1h").max() for x in (f.mean, f.lower, f.upper))
        fig.add_trace(go.Scatter(x=utc_x(up.index), y=up.to_numpy(), line=dict(width=0), showlegend=False,
                                 hoverinfo="skip"), row=i, col=1)
        fig.add_trace(go.Scatter(x=utc_x(lo.index), y=lo.to_numpy(), fill="tonexty", fillcolor="rgba(21,101,192,0.15)",
                                 line=dict(width=0), name="95% prediction interval", showlegend=i == 1), row=i, col=1)
        fig.add_trace(go.Scatter(x=utc_x(m.index), y=m.to_numpy(), name="forecast", line=dict(color="#1565c0"),
                                 showlegend=i == 1), row=i, col=1)
        if it.alert is not None:
            fig.add_hline(y=it.alert, line=dict(color="#ef6c00", dash="dash"), row=i, col=1)
    fig.update_layout(height=280 * max(len(names), 1), template="plotly_white",
                      title="Most urgent resources: history, forecast and alert level (dashed)")
    return fig


def weekly_figures(r) -> dict:
    d = r.response_daily
    rt = go.Figure([go.Bar(x=d["day"], y=d["average_s"], name="average"),
                    go.Scatter(x=d["day"], y=d["maximum_s"], name="maximum", mode="lines+markers")])
    rt.update_layout(title="ALB TargetResponseTime per day (s)", template="plotly_white", height=350)
    v = r.vitals[r.vitals["poor_above"].notna() & r.vitals["kind"].eq("Core Web Vital")] if len(r.vitals) else r.vitals
    cw = go.Figure()
    for metric, g in v.groupby("metric"):
        cw.add_trace(go.Bar(x=g["page"], y=g["p75"] / g["poor_above"], name=metric,
                            text=g["rating"], hovertemplate="%{x}: p75 %{customdata:.3g}<extra>" + metric + "</extra>",
                            customdata=g["p75"]))
    cw.add_hline(y=1.0, line=dict(color="#c62828", dash="dot"), annotation_text="poor")
    cw.update_layout(title="Core Web Vitals p75 per page, as a share of the 'poor' threshold", barmode="group",
                     template="plotly_white", height=380)
    return {"response": rt, "vitals": cw}
