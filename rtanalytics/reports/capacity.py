"""The capacity report and the weekly performance analysis as functions."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from .. import capacity as C
from ..business import business
from ..catalog import catalog, read_yaml
from ..catalog.loader import validate
from ..figures.capacity import forecast_figure, weekly_figures
from ..present import Headline, table
from ..queries import MetricQuery
from ..sources.evidence import RecordingSource, open_source, served_period, source_now
from ..timewindow import TimeWindow, parse_time, report_window
from .result import ReportResult, comparable


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    query: dict
    rate: bool = False
    limit: float
    alert: float | None = None
    note: str = ""
    traffic: bool = False
    for_each_table: bool = False
    for_each_function: bool = False


class CapacitySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    horizon: str = "30d"
    history: str = "90d"
    items: list[Item]


def load_spec(path=None) -> CapacitySpec:
    path = path or catalog().root / "capacity.yaml"
    return validate(CapacitySpec, read_yaml(path), path)


def expand(spec: CapacitySpec, env) -> list[tuple[Item, MetricQuery]]:
    r = env.resources
    out = []
    for it in spec.items:
        variants = [{}]
        if it.for_each_table:
            variants = [{"table": t, "table_name": f"{t}-{r.table_suffix}"} for t in r.tables]
        elif it.for_each_function:
            variants = [{"function": f} for f in r.lambda_functions]
        for v in variants:
            subs = r.substitutions() | v
            name = string.Template(it.name).safe_substitute(subs)
            q = it.query
            dims = {k: string.Template(str(val)).safe_substitute(subs) for k, val in q.get("dimensions", {}).items()}
            if any("${" in d for d in dims.values()) or any(d in ("None", "") for d in dims.values()):
                continue  # a resource this environment does not name (e.g. no S3 bucket)
            out.append((it.model_copy(update={"name": name}),
                        MetricQuery(q["namespace"], q["metric"], dims, q.get("stat", "Average"), 300, label=name)))
    return out


@dataclass
class CapacityReport(ReportResult):
    window: TimeWindow
    table: pd.DataFrame
    accuracy: pd.DataFrame
    forecasts: dict
    items: dict
    growth: list
    src: RecordingSource | None = None
    notes: list = field(default_factory=list)
    missing: list = field(default_factory=list)  # resources without a forecast, and why

    def gaps(self) -> list[str]:
        return list(self.missing)

    def has_data(self) -> bool:
        return bool(self.forecasts)

    def headroom_table(self):
        """The headroom table for reading: key columns, crossings as dates, "—" when not within the horizon."""
        t = self.table.copy()
        cols = ["resource", "peak_7d", "alert", "limit", "headroom_pct", "weekly_growth_pct", "alert_expected",
                "limit_expected"] + [c for c in t.columns if c.startswith("limit_expected x")]
        t = t.reindex(columns=cols)
        for c in cols[6:]:
            t[c] = pd.to_datetime(pd.Series([x if isinstance(x, pd.Timestamp) else pd.NaT for x in t[c]],
                                            index=t.index, dtype=object), utc=True)

        return table(t.rename(columns={"headroom_pct": "headroom %", "weekly_growth_pct": "growth %/week"}),
                     units={c: "date" for c in cols[6:]},
                     na={c: "not within the forecast horizon" for c in cols[6:]})

    def notes_table(self) -> pd.DataFrame:
        return self.table[["resource", "note"]]

    def figure(self, top: int = 4):
        names = list(self.table["resource"].head(top))
        return forecast_figure({n: self.forecasts[n] for n in names if n in self.forecasts},
                               {n: self.items[n] for n in names})

    def headline_figures(self) -> list:
        t = self.table
        out = []
        if len(t):
            r = t.iloc[0]
            hr = float(r["headroom_pct"]) if pd.notna(r.get("headroom_pct")) else np.nan
            out.append(Headline("most_urgent", "Most urgent", r["resource"], "text",
                                "bad" if hr < 10 else "warn" if hr < 30 else "good", None,
                                f"headroom {hr:.0f} % of its limit" if np.isfinite(hr) else ""))
            out.append(Headline("min_headroom_pct", "Least headroom", hr, "pct_number",
                                "bad" if hr < 10 else "warn" if hr < 30 else "good", "up"))
        soon = int(t["alert_expected"].notna().sum()) if "alert_expected" in t else 0
        out.append(Headline("reaching_alert", "Reaching alert level", soon, "count", "warn" if soon else "good",
                            "down", f"of {len(t)} resources, within the horizon"))
        if len(self.accuracy):
            out.append(Headline("median_mape_pct", "Forecast error (median)", float(
                self.accuracy["mape_pct"].median()), "pct_number", None, "down", "MAPE on the last 14 days"))
        return out

    def tables(self) -> dict:
        return {"headroom": self.table, "accuracy": self.accuracy}

    def summary(self) -> dict:
        out = {"resources": len(self.table)}
        t = self.table
        soon = t[t["alert_expected"].notna()] if "alert_expected" in t else t.iloc[0:0]
        out["reaching_alert_within_horizon"] = int(len(soon))
        out["most_urgent"] = t["resource"].iloc[0] if len(t) else None
        out["median_mape_pct"] = float(self.accuracy["mape_pct"].median()) if len(self.accuracy) else None
        out["median_skill"] = float(self.accuracy["skill"].median()) if len(self.accuracy) else None
        out["median_coverage"] = float(self.accuracy["coverage"].median()) if len(self.accuracy) else None
        return out


@comparable
def run(source=None, environment="demo", start="-90d", end="now", horizon="", growth: list | None = None,
        files_path="", evidence_dir="", now=None) -> CapacityReport:
    spec = load_spec()
    env = catalog().environment(environment)
    src = open_source(source, environment, now=now, files_path=files_path)
    window, clipped = report_window(start, end, now)
    horizon = horizon or spec.horizon
    growth = list(growth or [1.0, 2.0, 5.0])

    period = served_period(src, 300, window.start, source_now(src))
    notes = list(clipped)
    if period != 300:
        notes.append(f"history starting {window.start:%Y-%m-%d} is older than CloudWatch keeps 5-minute data for: "
                     f"forecasts use {period // 60}-minute periods (peaks are {period // 60}-minute averages)")
    pairs = [(it, q.with_(period=period)) for it, q in expand(spec, env)]
    df = src.metrics([q for _, q in pairs], window)
    rows, acc, fcs, items = [], [], {}, {}
    self_gaps = []
    need = int(7 * 86400 / period)
    for it, q in pairs:
        s = df[q.label]
        if it.rate:
            s = s / float(period)
        items[it.name] = it
        if s.notna().sum() < need:
            self_gaps.append(f"{it.name}: not enough history to forecast ({int(s.notna().sum())} of the {need} "
                             f"{period // 60}-minute points of 7 days needed) — no forecast")
            continue
        f = C.forecast(s, horizon, name=it.name)
        fcs[it.name] = f
        recent = s[s.index >= s.index[-1] - pd.Timedelta(days=7)]
        peak = float(np.nanmax(recent.to_numpy())) if recent.notna().any() else np.nan
        row = {"resource": it.name, "peak_7d": peak, "limit": it.limit, "alert": it.alert,
               "headroom_pct": 100 * (1 - peak / it.limit) if it.limit else np.nan,
               "weekly_growth_pct": 100 * f.weekly_growth, "note": it.note}
        for g in growth:
            scale = g if it.traffic else 1.0
            tl = C.time_to_threshold(f, it.limit, scale)
            ta = C.time_to_threshold(f, it.alert, scale) if it.alert is not None else {"expected": None}
            tag = "" if g == 1.0 else f" x{g:g}"
            row[f"limit_expected{tag}"] = tl["expected"]
            if g == 1.0:
                row["limit_earliest"], row["limit_latest"] = tl["earliest"], tl["latest"]
                row["alert_expected"] = ta["expected"]
                row["alert_earliest"] = ta.get("earliest")
        rows.append(row)
        try:
            acc.append({"resource": it.name, **C.backtest(s)})
        except ValueError as e:
            self_gaps.append(f"{it.name}: forecast accuracy unknown — the backtest could not run ({e})")
    table = C.headroom(rows) if rows else pd.DataFrame(columns=HEADROOM_COLUMNS)
    if evidence_dir:
        src.save_bundle(evidence_dir)
    return CapacityReport(window, table, pd.DataFrame(acc), fcs, items, growth, src, notes, self_gaps)


HEADROOM_COLUMNS = ["resource", "peak_7d", "limit", "alert", "headroom_pct", "weekly_growth_pct", "note",
                    "limit_expected", "limit_earliest", "limit_latest", "alert_expected", "alert_earliest"]


# ------------------------------------------------------------------------------------------ weekly analysis
# web.dev's thresholds (good at most, poor above, unit, kind). INP replaced FID as a Core Web Vital in March 2024:
# FID is shown only where the data still has it. TTFB has web.dev thresholds but is not a Core Web Vital; page load
# time has none (shown without a rating).
CWV = {"LargestContentfulPaint": (2500.0, 4000.0, "ms", "Core Web Vital"),
       "InteractionToNextPaint": (200.0, 500.0, "ms", "Core Web Vital"),
       "CumulativeLayoutShift": (0.1, 0.25, "", "Core Web Vital"),
       "FirstInputDelay": (100.0, 300.0, "ms", "legacy (replaced by INP, March 2024)"),
       "TimeToFirstByte": (800.0, 1800.0, "ms", "other"),
       "PageLoadTime": (float("nan"), float("nan"), "ms", "other (no standard threshold)")}


def rating(value: float, good: float, poor: float) -> str:
    """web.dev's Core Web Vitals bands: good ≤ good, poor > poor, needs improvement between."""
    if value is None or not np.isfinite(value):
        return "no data"
    return "good" if value <= good else ("poor" if value > poor else "needs improvement")


@dataclass
class WeeklyReport(ReportResult):
    week: TimeWindow
    response_daily: pd.DataFrame
    response_trend_pct_per_day: float
    volume: pd.DataFrame
    dynamodb: pd.DataFrame
    business: pd.DataFrame
    vitals: pd.DataFrame
    src: RecordingSource | None = None
    notes: list = field(default_factory=list)
    biz: object = None  # rtanalytics.business.Business: the funnel, the request target, quote sizes, users

    def gaps(self) -> list[str]:
        out = []
        if not self.response_daily["average_s"].notna().all():
            n = int(self.response_daily["average_s"].isna().sum())
            out.append(f"response times: {n} of {len(self.response_daily)} days without ALB TargetResponseTime data")
        if self.volume["requests"].isna().any():
            out.append("request volume: no ALB RequestCount data for "
                       + " and ".join(self.volume.loc[self.volume["requests"].isna(), "week"]) + " week")
        if len(self.dynamodb) and self.dynamodb["read_units_per_s_avg"].isna().any():
            out.append("DynamoDB: no consumed-capacity data for "
                       + ", ".join(self.dynamodb.loc[self.dynamodb["read_units_per_s_avg"].isna(), "table"]))
        if self.business.empty:
            out.append("business metrics: none found in RealTechee/Business")
        if self.vitals.empty or (self.vitals["rating"] == "no data").all():
            out.append("Core Web Vitals: no RealTechee/Performance data for the week")
        if self.biz is not None and self.biz.missing:
            out.append("business metrics not in this source: " + ", ".join(self.biz.missing))
        return out

    def has_data(self) -> bool:
        return bool(self.response_daily["average_s"].notna().any() or self.volume["requests"].notna().any())

    def figures(self) -> dict:
        return weekly_figures(self)

    def summary(self) -> dict:
        v = self.volume.set_index("week")["requests"]
        out = {"requests_this_week": float(v.iloc[-1]), "requests_growth_pct": float(
            100 * (v.iloc[-1] / v.iloc[0] - 1)) if v.iloc[0] and np.isfinite(v.iloc[0]) else None,
               "avg_response_s": float(self.response_daily["average_s"].mean()),
               "max_response_s": float(self.response_daily["maximum_s"].max()),
               "response_trend_pct_per_day": self.response_trend_pct_per_day,
               "vitals_poor": int((self.vitals["rating"] == "poor").sum()),
               "vitals_good": int((self.vitals["rating"] == "good").sum())}
        if self.biz is not None:
            out |= self.biz.summary()
        return out

    def analysed_window(self):
        return self.week

    def headline_figures(self) -> list:
        s = self.summary()
        tr = s["response_trend_pct_per_day"]
        out = [Headline("avg_response_s", "Average response", s["avg_response_s"], "s", None, "down",
                        f"trend {tr:+.1f} % a day" if tr is not None and np.isfinite(tr) else ""),
               Headline("requests_this_week", "Requests this week", s["requests_this_week"], "count", None, "up",
                        f"{s['requests_growth_pct']:+.1f} % on the week before"
                        if s.get("requests_growth_pct") is not None else "")]
        poor = s["vitals_poor"]
        out.append(Headline("vitals_poor", "Web Vitals rated poor", poor, "count", "bad" if poor else "good",
                            "down", f"{s['vitals_good']} good, of {len(self.vitals)} page × metric"))
        if s.get("business.RequestsSubmitted") is not None:
            per_day = s["business.RequestsSubmitted"] / 7
            out.append(Headline("requests_submitted_per_day", "New requests a day", per_day, "number",
                                "good" if per_day >= 100 else "warn", "up", "target 100 a day"))
        return out

    def tables(self) -> dict:
        out = {"response_daily": self.response_daily, "volume": self.volume, "dynamodb": self.dynamodb,
               "business": self.business, "vitals": self.vitals}
        if self.biz is not None:
            out["funnel"] = self.biz.daily
        return out

    def funnel(self):
        """Per day: requests (target 100/day), quotes, projects and the conversion rates; users and quotes."""
        if self.biz is None or self.biz.daily.empty:
            print("No business metrics in this source.")
            return None
        d = self.biz.daily.copy()
        d.index = d.index.strftime("%a %Y-%m-%d")
        fmt = {c: "{:,.0f}" for c in d.columns if c in ("RequestsSubmitted", "QuotesGenerated", "ProjectsCompleted",
                                                       "UserLogins", "UserActions")}
        fmt |= {"quote_rate": "{:.1%}", "project_rate": "{:.1%}", "AverageQuoteValue": "{:,.0f}",
                "ActiveSessions.Average": "{:,.1f}", "ActiveSessions.Maximum": "{:,.0f}"}

        d.index.name = "day"
        return table(d, units={"quote_rate": "pct", "project_rate": "pct", "AverageQuoteValue": "count"})


@comparable
def weekly(source=None, environment="demo", end="today", files_path="", evidence_dir="", now=None) -> WeeklyReport:
    """The seed's weekly performance analysis for the 7 days before ``end`` (default: today 00:00 UTC)."""
    env = catalog().environment(environment)
    r = env.resources
    src = open_source(source, environment, now=now, files_path=files_path)

    end_ts = parse_time(end, now)
    week = TimeWindow(end_ts - pd.Timedelta(days=7), end_ts)
    prev = TimeWindow(week.start - pd.Timedelta(days=7), week.start)
    alb = {"LoadBalancer": r.alb}
    d = src.metrics([MetricQuery("AWS/ApplicationELB", "TargetResponseTime", alb, "Average", 86400, label="avg"),
                     MetricQuery("AWS/ApplicationELB", "TargetResponseTime", alb, "Maximum", 86400, label="max")],
                    week)
    daily = pd.DataFrame({"day": d.index.strftime("%a %Y-%m-%d"), "average_s": d["avg"].to_numpy(),
                          "maximum_s": d["max"].to_numpy()})
    y = daily["average_s"].to_numpy()
    ok = np.isfinite(y)
    slope = np.polyfit(np.arange(len(y))[ok], y[ok], 1)[0] if ok.sum() >= 2 else np.nan
    trend = float(100 * slope / np.nanmean(y)) if ok.any() else np.nan
    rq = MetricQuery("AWS/ApplicationELB", "RequestCount", alb, "Sum", 604800, label="req")
    vol = pd.DataFrame({"week": ["previous", "this"],
                        # no datapoint at all is unknown, not 0 requests (the ALB publishes only non-zero counts,
                        # and a week without a single request is not a week we report as zero)
                        "requests": [float(src.metrics([rq], w)["req"].sum(min_count=1)) for w in (prev, week)]})
    ddb = []
    for t in r.tables:
        name = f"{t}-{r.table_suffix}"
        per = served_period(src, 300, week.start, source_now(src))
        q = [MetricQuery("AWS/DynamoDB", m, {"TableName": name}, "Sum", per, label=m[8:12])
             for m in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")]
        x = src.metrics(q, week) / float(per)
        ddb.append({"table": t, "read_units_per_s_avg": float(x["Read"].mean()),
                    "read_units_per_s_peak": float(x["Read"].max()), "write_units_per_s_avg": float(x["Writ"].mean()),
                    "write_units_per_s_peak": float(x["Writ"].max())})
    biz = []
    for metric, dim in (("RequestsSubmitted", "LeadSource"), ("QuotesGenerated", "QuoteValue"),
                        ("ProjectsCompleted", None)):
        for m in src.list_metrics("RealTechee/Business", metric):
            label = dict(m.dimensions).get(dim, "all") if dim else "all"
            q = m.query("Sum", 604800, label="x")
            this, last = (float(src.metrics([q], w)["x"].sum()) for w in (week, prev))
            biz.append({"metric": metric, "by": label, "this_week": this, "previous_week": last,
                        "growth_pct": 100 * (this / last - 1) if last else np.nan})
    vit = []
    for metric, (good, poor, unit, kind) in CWV.items():
        for m in src.list_metrics("RealTechee/Performance", metric):
            q = m.query("p75", 604800, label="x")
            v = src.metrics([q], week)["x"].dropna()
            val = float(v.iloc[0]) if len(v) else np.nan
            rt = rating(val, good, poor) if np.isfinite(good) else ("—" if np.isfinite(val) else "no data")
            vit.append({"page": dict(m.dimensions).get("Page"), "metric": metric, "kind": kind, "p75": val,
                        "unit": unit, "good_at_most": good, "poor_above": poor, "rating": rt})

    biz_obj = business(src, week)  # before the bundle is saved: everything read is in the evidence
    if evidence_dir:
        src.save_bundle(evidence_dir)
    return WeeklyReport(week, daily, trend, vol, pd.DataFrame(ddb), pd.DataFrame(biz, columns=[
        "metric", "by", "this_week", "previous_week", "growth_pct"]), pd.DataFrame(vit, columns=[
            "page", "metric", "kind", "p75", "unit", "good_at_most", "poor_above", "rating"]), src,
        biz=biz_obj)
