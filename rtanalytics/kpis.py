"""The seed's KPIs over a window: value, target, alert threshold and status, plus a per-period series.

Formulas (``parameters/kpis.yaml`` says which each KPI uses):

* ratio:      ``scale * sum(good.Sum) / sum(total.Sum)``
* mean:       ``scale * sum(Sum) / sum(SampleCount)`` over every matched metric (request-weighted mean)
* percentile: the metric's ``pNN`` over the whole window (one period spanning it), ``* scale``
* rate:       ``scale * sum(Sum) / hours``

The same formula applies per period for the series. Status: ``alert`` when the alert threshold holds,
``warning`` when the target is missed but the alert threshold does not hold, ``ok`` otherwise and
``no data`` when the window has no datapoint (never counted as good).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .backtest import load_routing, off_hours
from .catalog.models import Kpi, MetricSelector
from .errors import CatalogError, ParameterError
from .queries import MetricQuery
from .retention import serve_period
from .sources.base import Source
from .sources.evidence import source_now
from .timewindow import TimeWindow


def resolve_selector(sel: MetricSelector, source: Source, subs: dict[str, str]) -> list[MetricQuery]:
    """Queries (without stat/period) for a selector: itself, or each metric ListMetrics matches for a pattern."""
    try:
        s = sel.resolved(subs)
    except ValueError as e:
        raise CatalogError("kpis.yaml", f"{sel.namespace}/{sel.metric}", str(e)) from None
    if s.is_pattern:
        found = source.list_metrics(s.namespace, s.metric, s.dimensions)
        return [MetricQuery(m.namespace, m.metric, m.dimensions) for m in found]
    return [MetricQuery(s.namespace, s.metric, s.dimensions)]


@dataclass
class KpiResult:
    kpi: Kpi
    value: float
    status: str
    series: pd.Series
    detail: dict = field(default_factory=dict)
    incomplete: list = field(default_factory=list)  # labels of its queries the source could not answer fully

    def row(self) -> dict:
        k = self.kpi
        return {"kpi": k.name, "title": k.title, "group": k.group, "value": self.value, "unit": k.unit,
                "target": str(k.target), "alert_threshold": str(k.alert), "status": self.status,
                "complete": not self.incomplete,
                "measurement": k.measurement, **{f"detail.{a}": b for a, b in self.detail.items()}}


def status_of(kpi: Kpi, value: float) -> str:
    if value is None or not np.isfinite(value):
        return "no data"
    if kpi.alert.met(value):
        return "alert"
    if not kpi.target.met(value):
        return "warning"
    return "ok"


def _q(q: MetricQuery, stat: str, period: int, tag: str) -> MetricQuery:
    return MetricQuery(q.namespace, q.metric, q.dimensions, stat=stat, period=period,
                       label=f"{tag}|{stat}|{q.identity()}")


def evaluate_kpi(kpi: Kpi, source: Source, window: TimeWindow, subs: dict[str, str], period: int = 300) -> KpiResult:
    """One KPI over ``window`` (see module docstring for the formulas)."""
    sli = kpi.sli
    incomplete: list[str] = []
    # one period spanning the whole window, in a unit CloudWatch keeps for the window's age
    whole = serve_period(max(int(np.ceil(window.duration.total_seconds() / 60.0)) * 60, 60), window.start,
                         source_now(source))
    if sli.kind == "ratio":
        good = [q for s in sli.good for q in resolve_selector(s, source, subs)]
        total = [q for s in sli.total for q in resolve_selector(s, source, subs)]
        qs = [_q(q, "Sum", period, "good") for q in good] + [_q(q, "Sum", period, "total") for q in total]
        df = source.metrics(qs, window)
        incomplete += list(df.attrs.get("incomplete", {}))
        g = df[[q.label for q in qs if q.label.startswith("good|")]]
        t = df[[q.label for q in qs if q.label.startswith("total|")]].sum(axis=1, min_count=1)
        if sli.good_missing == "zero":
            # absent ALB code counts mean 0 when requests exist — but only for a series the source answered
            # completely: a count that could not be fetched is unknown, never 0
            known = [c for c in g.columns if c not in incomplete]
            g = g.copy()
            g[known] = g[known].fillna(0.0)
            g = g.where(t.notna(), np.nan)
        g = g.sum(axis=1, min_count=1)
        series = sli.scale * g / t
        gs, ts = float(g.sum()), float(t.sum())
        value = sli.scale * gs / ts if ts > 0 else np.nan
        detail = {"good": gs, "total": ts}
    elif sli.kind == "mean":
        ms = [q for s in sli.metrics for q in resolve_selector(s, source, subs)]
        qs = [_q(q, "Sum", period, "sum") for q in ms] + [_q(q, "SampleCount", period, "n") for q in ms]
        df = source.metrics(qs, window)
        incomplete += list(df.attrs.get("incomplete", {}))
        s_ = df[[q.label for q in qs if q.label.startswith("sum|")]].sum(axis=1, min_count=1)
        n_ = df[[q.label for q in qs if q.label.startswith("n|")]].sum(axis=1, min_count=1)
        series = sli.scale * s_ / n_
        ss, nn = float(s_.sum()), float(n_.sum())
        value = sli.scale * ss / nn if nn > 0 else np.nan
        detail = {"sum": ss, "samples": nn, "metrics": len(ms)}
    elif sli.kind == "percentile":
        (m,) = resolve_selector(sli.metrics[0], source, subs)
        qp = _q(m, sli.stat, period, "p")
        qw = _q(m, sli.stat, whole, "w")
        dp = source.metrics([qp], window)
        series = sli.scale * dp[qp.label]
        dw = source.metrics([qw], window)
        incomplete += list(dp.attrs.get("incomplete", {})) + list(dw.attrs.get("incomplete", {}))
        wv = dw[qw.label].dropna()
        value = sli.scale * float(wv.iloc[0]) if len(wv) else np.nan
        detail = {"stat": sli.stat, "window_seconds": whole}
    else:  # rate
        ms = [q for s in sli.metrics for q in resolve_selector(s, source, subs)]
        qs = [_q(q, "Sum", period, "sum") for q in ms]
        df = source.metrics(qs, window)
        incomplete += list(df.attrs.get("incomplete", {}))
        s_ = df.sum(axis=1, min_count=1)
        series = sli.scale * s_ / (period / 3600.0)
        hours = window.duration.total_seconds() / 3600.0
        total = float(s_.sum())
        value = sli.scale * total / hours if s_.notna().any() else np.nan
        detail = {"events": total, "hours": hours}
    series = series.rename(kpi.name).astype("float64")
    status = status_of(kpi, value)
    if kpi.alert_when == "off_hours" and sli.kind == "rate":
        status, extra = _off_hours_status(kpi, series, value, period)
        detail |= extra
    return KpiResult(kpi, float(value), status, series, detail, sorted(set(incomplete)))


def _off_hours_status(kpi: Kpi, series: pd.Series, value: float, period: int) -> tuple[str, dict]:
    """The seed's off-hours alert: the KPI's hourly rate in each whole hour outside business hours (the routing
    calendar) against the alert threshold; the target is still judged on the whole window."""
    per_hour = series.resample("1h").mean()  # a rate per hour, averaged over the hour's periods
    full = series.resample("1h").count() >= max(int(3600 // period), 1)
    off = pd.Series(off_hours(per_hour.index, load_routing().business_hours), index=per_hour.index) & full
    hours = per_hour[off].dropna()
    below = int(kpi.alert.met(hours.to_numpy()).sum()) if len(hours) else 0
    extra = {"off_hours_hours": int(len(hours)), "off_hours_below_alert": below,
             "off_hours_min": float(hours.min()) if len(hours) else float("nan")}
    if not np.isfinite(value):
        return "no data", extra
    if below:
        return "alert", extra
    return ("warning" if not kpi.target.met(value) else "ok"), extra


def evaluate_kpis(kpis: dict[str, Kpi], source: Source, window: TimeWindow, subs: dict[str, str],
                  period: int = 300, names: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every KPI (or ``names``) over ``window``: ``(table, series)``.

    ``table`` has one row per KPI (value, target, alert threshold, status, working); ``series`` is a wide
    metrics frame with one column per KPI at ``period``.
    """
    chosen = names or list(kpis)
    unknown = [n for n in chosen if n not in kpis]
    if unknown:
        raise ParameterError("kpis", f"unknown KPI(s) {unknown}", ", ".join(kpis))
    results = [evaluate_kpi(kpis[n], source, window, subs, period) for n in chosen]
    table = pd.DataFrame([r.row() for r in results])
    series = pd.concat([r.series for r in results], axis=1)
    series.index.name = "timestamp"
    return table, series
