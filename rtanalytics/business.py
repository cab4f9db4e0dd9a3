"""The seed's business metrics (``RealTechee/Business``): the request target, the funnel, quote sizes, users.

What the seed's ``BusinessMetricsCollector`` publishes, and how it is read here:

* ``RequestsSubmitted`` (by ``LeadSource``), ``QuotesGenerated`` (by ``QuoteValue``: Small < 5k, Medium 5k–25k,
  Large 25k–100k, Enterprise ≥ 100k — the collector's ``categorizeQuoteValue``), ``ProjectsCompleted``,
  ``UserLogins``, ``UserActions`` (by ``Action``): counts, published only when something happened — summed over
  their dimensions, a day without a datapoint is 0 *when the metric exists* (ListMetrics finds it).
* ``AverageQuoteValue``: one sample per quote (the amount); its ``Average`` per day is the mean quote.
* ``ActiveSessions``: a gauge; ``Average`` and ``Maximum`` per day.

The dashboard's target line is 100 requests per day; the funnel is requests → quotes → projects with the
conversion rates quotes/requests and projects/quotes per day and over the window (ratios of sums, not means of
daily ratios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .timewindow import TimeWindow

NS = "RealTechee/Business"
REQUEST_TARGET_PER_DAY = 100.0
QUOTE_SIZES = {"Small": "under 5k", "Medium": "5k–25k", "Large": "25k–100k", "Enterprise": "100k and over"}
COUNTS = ["RequestsSubmitted", "QuotesGenerated", "ProjectsCompleted", "UserLogins", "UserActions"]


@dataclass
class Business:
    daily: pd.DataFrame  # per day: the counts, conversions, average quote, sessions, target met
    quote_sizes: pd.DataFrame  # QuoteValue category, its range, quotes, share
    actions: pd.DataFrame  # UserActions by Action
    totals: dict
    missing: list  # metrics the source does not have at all

    def summary(self) -> dict:
        return {f"business.{k}": v for k, v in self.totals.items()}


def _sum_over_dims(source, metric: str, window: TimeWindow, period: int) -> tuple[pd.Series | None, pd.DataFrame]:
    found = source.list_metrics(NS, metric)
    if not found:
        return None, pd.DataFrame()
    qs = [m.query("Sum", period, label=f"{metric}|{','.join(v for _, v in m.dimensions)}") for m in found]
    df = source.metrics(qs, window)
    return df.sum(axis=1, min_count=0), df  # the metric exists: a day without a datapoint had none


def business(source, window: TimeWindow, period: int = 86400) -> Business:
    """The business metrics over ``window`` per ``period`` (days by default); see the module docstring."""
    cols, missing = {}, []
    parts = {}
    for m in COUNTS:
        s, df = _sum_over_dims(source, m, window, period)
        if s is None:
            missing.append(m)
            continue
        cols[m] = s
        parts[m] = df
    for metric, stats in (("AverageQuoteValue", ("Average",)), ("ActiveSessions", ("Average", "Maximum"))):
        found = source.list_metrics(NS, metric)
        if not found:
            missing.append(metric)
            continue
        m = found[0]
        qs = [m.query(st, period, label=f"{metric}.{st}") for st in stats]
        df = source.metrics(qs, window)
        for st in stats:
            cols[f"{metric}.{st}" if len(stats) > 1 else metric] = df[f"{metric}.{st}"]
    daily = pd.DataFrame(cols)
    daily.index.name = "day"
    if {"RequestsSubmitted", "QuotesGenerated"} <= set(daily):
        daily["quote_rate"] = daily["QuotesGenerated"] / daily["RequestsSubmitted"].where(
            daily["RequestsSubmitted"] > 0)
    if {"QuotesGenerated", "ProjectsCompleted"} <= set(daily):
        daily["project_rate"] = daily["ProjectsCompleted"] / daily["QuotesGenerated"].where(
            daily["QuotesGenerated"] > 0)
    if "RequestsSubmitted" in daily:
        daily["request_target_met"] = daily["RequestsSubmitted"] >= REQUEST_TARGET_PER_DAY
    sizes = pd.DataFrame(columns=["quote size", "range", "quotes", "share"])
    if "QuotesGenerated" in parts:
        tot = parts["QuotesGenerated"].sum()
        rows = []
        for cat, rng in QUOTE_SIZES.items():
            n = float(sum(v for k, v in tot.items() if cat in k.split("|", 1)[1].split(",")))
            rows.append({"quote size": cat, "range": rng, "quotes": n})
        sizes = pd.DataFrame(rows)
        sizes["share"] = sizes["quotes"] / sizes["quotes"].sum() if sizes["quotes"].sum() else np.nan
    actions = pd.DataFrame(columns=["action", "count"])
    if "UserActions" in parts:
        a = parts["UserActions"].sum()
        actions = pd.DataFrame({"action": [k.split("|", 1)[1].split(",")[0] for k in a.index],
                                "count": a.to_numpy()}).sort_values("count", ascending=False).reset_index(drop=True)
    totals = {}
    for m in ("RequestsSubmitted", "QuotesGenerated", "ProjectsCompleted", "UserLogins", "UserActions"):
        if m in daily:
            totals[m] = float(daily[m].sum())
    if "RequestsSubmitted" in totals and totals["RequestsSubmitted"] > 0 and "QuotesGenerated" in totals:
        totals["quote_rate"] = totals["QuotesGenerated"] / totals["RequestsSubmitted"]
    if totals.get("QuotesGenerated") and "ProjectsCompleted" in totals:
        totals["project_rate"] = totals["ProjectsCompleted"] / totals["QuotesGenerated"]
    if "request_target_met" in daily and len(daily):
        totals["days_request_target_met"] = int(daily["request_target_met"].sum())
        totals["days"] = int(len(daily))
    if "AverageQuoteValue" in daily and "QuotesGenerated" in daily:
        w = daily["QuotesGenerated"].where(daily["AverageQuoteValue"].notna(), 0)
        totals["average_quote_value"] = float((daily["AverageQuoteValue"].fillna(0) * w).sum() / w.sum()) \
            if w.sum() else float("nan")
    return Business(daily, sizes, actions, totals, missing)
