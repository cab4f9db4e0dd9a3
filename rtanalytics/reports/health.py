"""The health report and the daily operations report (the seed's six-part checklist) as functions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import backtest as bt
from .. import health as H
from ..backtest import load_routing
from ..business import REQUEST_TARGET_PER_DAY, business
from ..catalog import catalog
from ..figures.health import availability_figure
from ..localaws import demo_stack
from ..logs import count_errors
from ..present import Headline, table
from ..queries import MetricQuery
from ..sources.aws import AwsContext
from ..sources.base import get_source
from ..sources.cloudwatch import CloudWatchSource
from ..sources.evidence import RecordingSource, open_source, served_period, unwrap
from ..timewindow import TimeWindow, parse_time, report_window, to_utc, utcnow
from .result import ReportResult, comparable


def _live_checks(environment: str, history_path, now):
    env = catalog().environment(environment)
    if env.source == "demo":
        with demo_stack(env) as (e, aws):
            rep = H.run_checks(e, aws, get_source("demo", environment=environment, now=now), now=now)
            groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=e.resources.log_group)["logGroups"]
            rep["_sns"] = _sns(aws)
        return rep, groups, "demo stack on loopback (moto server and the local application)"

    aws = AwsContext.for_environment(env, max_attempts=2)
    rep = H.run_checks(env, aws, CloudWatchSource(env, context=aws), now=now)
    try:
        groups = CloudWatchSource(env, context=aws).describe_log_groups(env.resources.log_group)
    except Exception as ex:  # noqa: BLE001 - the audit says it could not look
        groups = None
        rep["_retention_error"] = H.not_configured(getattr(ex, "__cause__", None) or ex) or H._cause(ex)
    rep["_sns"] = _sns(aws)
    return rep, groups, f"{env.name} ({env.region})"


def _sns(aws) -> pd.DataFrame:
    """The alert-routing audit, or one row saying why it could not look."""
    try:
        return H.sns_audit(aws, load_routing())
    except Exception as ex:  # noqa: BLE001
        why = H.not_configured(ex) or H._cause(ex)
        return pd.DataFrame([{"topic": "", "protocol": "", "endpoint": "", "state": "unknown",
                              "finding": f"could not audit the SNS subscriptions: {why}"}])


@dataclass
class HealthReport(ReportResult):
    current: dict
    target: str
    history: pd.DataFrame
    history_from: str
    stats: pd.DataFrame
    correlation: pd.DataFrame
    retention: pd.DataFrame
    window: TimeWindow
    src: RecordingSource | None = None
    notes: list = field(default_factory=list)
    subscriptions: pd.DataFrame | None = None  # who receives the alerts (health.sns_audit)

    def gaps(self) -> list[str]:
        out = [f"health check {k}: unknown — {v.get('error', 'no answer')}"
               for k, v in self.current.get("checks", {}).items() if v.get("status") == "unknown"]
        if not self.current.get("checks"):
            out.append("the live health checks were not run for this source (only their history is shown)")
        if self.subscriptions is not None and (self.subscriptions["state"] == "unknown").any():
            out.append(self.subscriptions["finding"].iloc[0])
        if len(self.retention) and self.retention["finding"].str.startswith("could not audit").any():
            out.append("log retention: " + self.retention["finding"].iloc[0])
        return out

    def subscriptions_table(self):
        if self.subscriptions is None or self.subscriptions.empty:
            print("No SNS topics audited.")
            return None

        return table(self.subscriptions)

    def checks_table(self) -> pd.DataFrame:
        rows = []
        for k, v in self.current["checks"].items():
            detail = {a: b for a, b in v.items() if a not in ("status", "latencyMs")}
            rows.append({"check": k, "status": v["status"], "latency_ms": v.get("latencyMs"),
                         "detail": ", ".join(f"{a}={b}" for a, b in detail.items())})
        return pd.DataFrame(rows)

    def figure(self):
        return availability_figure(self.history)

    def headline_figures(self) -> list:
        checks = self.current.get("checks", {})
        tone = {"healthy": "good", "degraded": "warn", "unhealthy": "bad"}
        overall = self.current["overallStatus"]
        n_ok = sum(v["status"] == "healthy" for v in checks.values())
        out = [Headline("overall", "Now", overall, "text", tone.get(overall, "warn"), None, self.target),
               Headline("checks_healthy", "Checks healthy", n_ok if checks else None, "count",
                        "good" if n_ok == len(checks) and checks else "warn", "up", "",
                        f"of {len(checks)}" if checks else "")]
        if len(self.stats):
            w = self.stats.sort_values("availability_pct").iloc[0]
            out.append(Headline("worst_availability_pct", "Lowest check availability", w["availability_pct"],
                                "pct_number", "good" if w["availability_pct"] >= 99.9 else "warn", "up",
                                f"{w['check']}, over the window"))
        n = int((self.retention["finding"] != "ok").sum()) if len(self.retention) else 0
        probed = bool(checks)  # the retention audit reads the log groups the live probe describes
        out.append(Headline("retention_findings", "Retention findings", n if probed else None, "count",
                            ("warn" if n else "good") if probed else None, "down"))
        return out

    def tables(self) -> dict:
        return {"checks": pd.DataFrame([{"check": k, **{kk: vv for kk, vv in v.items() if not isinstance(vv, dict)}}
                                        for k, v in self.current.get("checks", {}).items()]),
                "stats": self.stats, "correlation": self.correlation, "retention": self.retention,
                "subscriptions": self.subscriptions}

    def summary(self) -> dict:
        out = {"overall": self.current["overallStatus"]}
        out |= {f"{k}.status": v["status"] for k, v in self.current["checks"].items()}
        if len(self.stats):
            out |= {f"{r.check}.availability_pct": r.availability_pct for r in self.stats.itertuples()}
        out["retention_findings"] = int((self.retention["finding"] != "ok").sum()) if len(self.retention) else 0
        return out


@comparable
def run(source=None, environment="demo", start="-7d", end="now", files_path="", evidence_dir="", now=None,
        history_path=None, probe: bool = True) -> HealthReport:
    """The health report; ``probe=False`` (another window, for a comparison) runs no live check and records
    nothing: the checks' state now says nothing about a past window."""
    now = to_utc(now) if now is not None else utcnow()
    src = open_source(source, environment, now=now, files_path=files_path)
    window, clipped = report_window(start, end, now)
    if unwrap(src).name == "files":  # an export cannot be probed: no live checks, said as a gap (never the demo's)
        current, groups, target = {"healthCheckId": "-", "timestamp": now.isoformat(), "environment": environment,
                                   "checks": {}, "overallStatus": "unknown"}, None, "not probed (files source)"
        current["_retention_error"] = "a files source has no log groups to describe"
    elif not probe:
        current, groups, target = {"healthCheckId": "-", "timestamp": now.isoformat(), "environment": environment,
                                   "checks": {}, "overallStatus": "unknown"}, None, "not probed (a past window)"
        current["_retention_error"] = "not probed (a past window)"
    else:
        current, groups, target = _live_checks(environment, history_path, now)
    path = history_path or H.default_history_path()
    if current["checks"]:
        H.append_history(path, current)
    notes = list(clipped)
    inner = unwrap(src)
    hist = H.history_in(src, window, path)  # recorded: a bundle re-runs the same history
    if "environment" in hist and len(hist) and inner.name != "files":
        hist = hist[hist["environment"] == environment]
    if inner.name == "demo" and hist["check_id"].nunique() >= 1 and "check_id" in hist and \
            str(hist["check_id"].iloc[0]).startswith("HC-") and len(hist) > 7 * 12:
        hist_from = "derived from the demo's metrics (what a 5-minute check would have recorded)"
    elif inner.name == "files":
        hist_from = "the evidence bundle"
    else:
        hist_from = f"the history store {path}"
    stats = H.history_stats(hist) if len(hist) else pd.DataFrame()
    # correlation with the KPIs: error rate and response time while each check was unhealthy vs healthy
    alb = {"LoadBalancer": catalog().environment(environment).resources.alb}

    per = served_period(src, 300, window.start, now)
    k = src.metrics([MetricQuery("AWS/ApplicationELB", "RequestCount", alb, "Sum", per, label="req"),
                     MetricQuery("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb, "Sum", per, label="e5"),
                     MetricQuery("AWS/ApplicationELB", "TargetResponseTime", alb, "Average", per, label="rt")],
                    window)
    if per != 300:
        notes.append(f"the window starts further back than CloudWatch keeps 5-minute data: the KPI correlation "
                     f"uses {per // 60}-minute periods")
    k.index = k.index + pd.Timedelta(seconds=per)  # a check at T reflects the period before it
    rows = []
    for name, g in hist.groupby("check_name"):
        j = g.set_index("timestamp")["status"].reindex(k.index, method="nearest", tolerance=pd.Timedelta("3min"))
        for st in ("healthy", "degraded", "unhealthy"):
            m = j == st
            if m.sum() == 0:
                continue
            rows.append({"check": name, "status": st, "periods": int(m.sum()),
                         "error_rate_pct": 100 * k.loc[m, "e5"].fillna(0).sum() / max(k.loc[m, "req"].sum(), 1),
                         "avg_response_s": float(k.loc[m, "rt"].mean())})
    corr = pd.DataFrame(rows)
    retention = H.retention_audit(groups, catalog().environment(environment).resources.log_group,
                                  H.load_settings().log_retention) if groups is not None else pd.DataFrame(
        [{"group": "", "policy_days": None, "retention_days": None,
          "finding": f"could not audit: {current.pop('_retention_error', 'DescribeLogGroups failed')}"}])
    sns = current.pop("_sns", None)
    if evidence_dir:
        src.save_bundle(evidence_dir)
    return HealthReport(current, target, hist, hist_from, stats, corr, retention, window, src, notes, sns)


# -------------------------------------------------------------------------------------------- daily ops
@dataclass
class DailyOps(ReportResult):
    day: TimeWindow
    health: dict
    avg_response_s: float
    errors_24h: int
    error_breakdown: pd.DataFrame
    new_requests: float
    dynamodb: pd.DataFrame
    active_alarms: pd.DataFrame
    src: RecordingSource | None = None
    notes: list = field(default_factory=list)
    subscriptions: pd.DataFrame | None = None
    biz: object = None  # rtanalytics.business.Business for the day
    noise: pd.DataFrame | None = None  # the alarm noise report over the 14 days before end (backtest.noise)

    def gaps(self) -> list[str]:
        out = [f"health check {k}: unknown — {v.get('error', 'no answer')}"
               for k, v in self.health.get("checks", {}).items() if v.get("status") == "unknown"]
        if not self.health.get("checks"):
            out.append("system health: the live checks were not run for this source")
        if not np.isfinite(self.avg_response_s):
            out.append("average response time (24h): no ALB TargetResponseTime data for the day")
        return out

    def checklist(self) -> pd.DataFrame:
        h = self.health
        bad = [k for k, v in h["checks"].items() if v["status"] not in ("healthy", "unknown")]
        return pd.DataFrame([
            {"#": 1, "check": "System health", "result": h["overallStatus"] + (f" ({', '.join(bad)})" if bad else "")},
            {"#": 2, "check": "Average response time (24h)", "result": f"{self.avg_response_s:.3f} s"},
            {"#": 3, "check": "Errors in logs (24h)", "result": f"{self.errors_24h}"},
            {"#": 4, "check": "New requests (24h)", "result": self._requests_line()},
            {"#": 5, "check": "DynamoDB capacity (peak read units/s)", "result": ", ".join(
                f"{r.table} {r.peak_read_units_per_s:.2f}" for r in self.dynamodb.itertuples())},
            {"#": 6, "check": "Active alarms", "result": ", ".join(self.active_alarms["alarm"]) if len(
                self.active_alarms) else "none"},
            {"#": 7, "check": "Alert subscriptions (SNS)", "result": self._subs_line()},
            {"#": 8, "check": "Alarm noise (14 days)", "result": self._noise_line()},
        ])

    def _noise_line(self) -> str:
        n = self.noise
        if n is None or n.empty:
            return "no alarm history in the 14 days"
        loud = n[(n["pages"] > 0) & (n["verdict"] != "ok")].head(3)
        total = f"{int(n['pages'].sum())} pages from {int((n['pages'] > 0).sum())} alarms"
        if loud.empty:
            return total + "; none flapping or always firing"
        return total + "; " + "; ".join(f"{r.alarm}: {r.verdict} ({r.pages} pages, {r.flaps} flaps)"
                                        for r in loud.itertuples())

    def _requests_line(self) -> str:
        n = self.new_requests
        if n is None or not np.isfinite(n):
            return "— (no RealTechee/Business RequestsSubmitted metric)"
        line = f"{n:,.0f} (target {REQUEST_TARGET_PER_DAY:.0f}/day: {'met' if n >= REQUEST_TARGET_PER_DAY else 'missed'})"
        t = self.biz.totals if self.biz is not None else {}
        if "quote_rate" in t:
            line += f"; funnel: {t.get('QuotesGenerated', 0):,.0f} quotes ({t['quote_rate']:.0%} of requests)"
            if "project_rate" in t:
                line += f", {t.get('ProjectsCompleted', 0):,.0f} projects completed"
        return line

    def _subs_line(self) -> str:
        s = self.subscriptions
        if s is None or s.empty:
            return "not audited"
        bad = s[s["finding"] != "ok"]
        return "ok" if bad.empty else "; ".join(f"{r.topic or 'SNS'}: {r.finding}" for r in bad.head(3).itertuples())

    def analysed_window(self):
        return self.day

    def headline_figures(self) -> list:
        tone = {"healthy": "good", "degraded": "warn", "unhealthy": "bad"}
        h = self.health["overallStatus"]
        n = int(len(self.active_alarms))
        return [Headline("health", "System health", h, "text", tone.get(h, "warn")),
                Headline("avg_response_s", "Average response (24 h)", self.avg_response_s, "s",
                         None if not np.isfinite(self.avg_response_s or np.nan) else
                         "good" if self.avg_response_s < 3 else "bad", "down", "target under 3 s"),
                Headline("errors_24h", "Errors in the logs", self.errors_24h, "count", None, "down"),
                Headline("new_requests", "New requests", self.new_requests, "count",
                         None if self.new_requests is None or not np.isfinite(self.new_requests)
                         else "good" if self.new_requests >= 100 else "warn", "up", "target 100 a day"),
                Headline("active_alarms", "Active alarms", n, "count", "bad" if n else "good", "down")]

    def tables(self) -> dict:
        out = {"error_breakdown": self.error_breakdown, "dynamodb": self.dynamodb, "active_alarms": self.active_alarms}
        if self.noise is not None and len(self.noise):
            out["alarm_noise"] = self.noise
        if self.biz is not None:
            out["business"] = self.biz.daily
        return out

    def summary(self) -> dict:
        return {"health": self.health["overallStatus"], "avg_response_s": self.avg_response_s,
                "errors_24h": self.errors_24h, "new_requests": self.new_requests,
                "active_alarms": int(len(self.active_alarms)),
                "alarm_pages_14d": int(self.noise["pages"].sum()) if self.noise is not None and len(self.noise)
                else 0,
                "noisy_alarms": ", ".join(r.alarm for r in self.noise.itertuples() if r.pages and r.verdict != "ok")
                if self.noise is not None and len(self.noise) else "",
                "peak_read_units_per_s": float(self.dynamodb["peak_read_units_per_s"].max()) if len(
                    self.dynamodb) else None}


@comparable
def daily(source=None, environment="demo", end="today", files_path="", evidence_dir="", now=None,
          history_path=None, probe: bool = True) -> DailyOps:
    """The seed's daily operations check for the 24 hours before ``end`` (default: today 00:00 UTC)."""
    now = to_utc(now) if now is not None else utcnow()
    env = catalog().environment(environment)
    r = env.resources
    src = open_source(source, environment, now=now, files_path=files_path)
    end_ts = parse_time(end, now)
    day = TimeWindow(end_ts - pd.Timedelta(days=1), end_ts)
    health, _, _ = _live_checks(environment, history_path, now) if source != "files" and probe else (
        {"overallStatus": "unknown", "checks": {}}, [], "")
    health.pop("_retention_error", None)
    subscriptions = health.pop("_sns", None)
    alb = {"LoadBalancer": r.alb}
    rt = src.metrics([MetricQuery("AWS/ApplicationELB", "TargetResponseTime", alb, "Average", 86400, label="rt")],
                     day)["rt"].dropna()

    errors = int(count_errors(src, r.log_group, day).sum())
    logs = src.logs(r.log_group, day, '{ $.level = "error" }') if unwrap(src).name != "cloudwatch" else \
        pd.DataFrame()
    breakdown = (logs.groupby("error.name").size().rename("errors").reset_index().sort_values("errors",
                 ascending=False) if errors and "error.name" in logs else pd.DataFrame(columns=["error.name",
                                                                                              "errors"]))

    biz = business(src, day, 86400)
    new = biz.totals.get("RequestsSubmitted", float("nan"))  # no such metric: unknown, not 0 requests
    ddb = []
    for t in r.tables:
        q = MetricQuery("AWS/DynamoDB", "ConsumedReadCapacityUnits", {"TableName": f"{t}-{r.table_suffix}"}, "Sum",
                        300, label="x")
        x = src.metrics([q], day)["x"] / 300
        ddb.append({"table": t, "peak_read_units_per_s": float(x.max()), "avg_read_units_per_s": float(x.mean())})
    inner = unwrap(src)
    fortnight = TimeWindow(end_ts - pd.Timedelta(days=14), end_ts)  # the alarm history CloudWatch keeps
    h = src.alarm_history(fortnight)
    if hasattr(inner, "describe_alarms"):
        d = inner.describe_alarms(state="ALARM", prefix=None)
        active = pd.DataFrame([{"alarm": a["AlarmName"], "since": a.get("StateUpdatedTimestamp"),
                                "reason": a.get("StateReason")} for a in d["metric"] + d["composite"]],
                              columns=["alarm", "since", "reason"])
    else:  # the demo (its history is CloudWatch's engine on its data) and a recording of it: each alarm's state at
        # the end of the day is its last state change — looked for over the 455 days CloudWatch keeps data, not the
        # fortnight the noise report reads: an alarm in ALARM since long before (a DynamoDB alarm ignores missing
        # data, so a metric published only when it breaches keeps it there) is still active, as the replay says
        hs = src.alarm_history(TimeWindow(end_ts - pd.Timedelta(days=455), end_ts))
        last = hs.sort_values("timestamp").groupby("alarm").tail(1) if len(hs) else hs
        active = pd.DataFrame({"alarm": last["alarm"], "since": last["timestamp"], "reason": last["reason"]})[
            (last["to_state"] == "ALARM").to_numpy()] if len(last) else pd.DataFrame(columns=["alarm", "since",
                                                                                                "reason"])
    # the noise report over the fortnight (pages, flaps, time in ALARM, off-hours pages), from the real history
    routing = bt.load_routing()
    noise = bt.noise(h, fortnight, [], routing.business_hours) if len(h) else pd.DataFrame()
    if evidence_dir:
        src.save_bundle(evidence_dir)
    return DailyOps(day, health, float(rt.iloc[0]) if len(rt) else float("nan"), errors, breakdown, new,
                    pd.DataFrame(ddb), active.reset_index(drop=True), src, subscriptions=subscriptions, biz=biz,
                    noise=noise)
