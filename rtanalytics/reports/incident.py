"""The incident (postmortem) report as a function: ``run(...) -> IncidentReport``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .. import forensics as F
from .. import health as H
from ..accesslogs import parse_clf
from ..anomaly import scan
from ..catalog import catalog
from ..errors import ParameterError
from ..figures.incident import signals_figure
from ..logs import redact
from ..parallel import source_workers, together
from ..present import Headline, table
from ..queries import MetricQuery
from ..sources.evidence import RecordingSource, open_source, served_period, unwrap
from ..timewindow import TimeWindow, parse_duration, parse_time, to_utc, utcnow
from .result import ReportResult


@dataclass
class IncidentReport(ReportResult):
    title: str
    window: TimeWindow
    incident: TimeWindow
    onsets: pd.DataFrame
    leads: pd.DataFrame
    signatures: pd.DataFrame
    timeline: pd.DataFrame
    times: F.PostmortemTimes
    impact: dict
    endpoints: pd.DataFrame
    log_excerpt: pd.DataFrame
    metrics: pd.DataFrame
    src: RecordingSource | None = None
    notes: list = field(default_factory=list)
    ground_truth: pd.DataFrame | None = None
    episodes: pd.DataFrame | None = None  # every anomaly episode of every signal in the window (rt.anomalies)
    window_gap: str = ""  # why the window is not the one asked for (an alarm that did not go to ALARM)

    def gaps(self) -> list[str]:
        out = [self.window_gap] if self.window_gap else []
        if self.metrics is None or self.metrics.shape[1] == 0:
            out.append("no metric series in this source: what moved first and the standard times cannot be "
                       "computed from metrics")
        elif self.metrics.notna().sum().sum() == 0:
            out.append("the metric series have no data in the window: what moved first cannot be computed")
        return out

    def analysed_window(self):
        return self.incident

    def headline_figures(self) -> list:
        t, d = self.times, self.times.durations()
        return [
            Headline("start", "Started", t.start, "time", "bad"),
            Headline("time_to_detect_min", "Detected after", d.get("time_to_detect_min"), "min",
                     None, "down", "start → first alarm or failed check"),
            Headline("time_to_mitigate_min", "Mitigated after", d.get("time_to_mitigate_min"), "min", None, "down"),
            Headline("failed_requests", "Failed requests", self.impact.get("failed requests"), "count", None, "down",
                     str(self.impact.get("duration", ""))),
            Headline("top_signal", "Moved first", self.leads["signal"].iloc[0] if len(self.leads) else None,
                     "text", None, None, "the earliest signal to leave its baseline"),
        ]

    def tables(self) -> dict:
        return {"times": self.times_table(), "leads": self.leads, "timeline": self.timeline,
                "signatures": self.signatures, "endpoints": self.endpoints, "log_excerpt": self.log_excerpt,
                "episodes": self.episodes}

    def deploy_comparison(self, span: str = "30m", top: int = 10):
        """Before and after the last deploy at or before the incident: each moved signal's mean over ``span``
        before the deploy and ``span`` after it, the change, and whether it went the bad way (latencies, errors
        and throttles up). None when no deploy precedes the incident in the window analysed."""
        if self.timeline is None or not len(self.timeline) or self.metrics is None or not len(self.metrics):
            return None
        d = self.timeline[(self.timeline["kind"] == "deploy") & (self.timeline["start"] <= self.incident.end)]
        if not len(d):
            print("No deploy before this incident in the window analysed: nothing to compare before and after.")
            return None
        at = pd.Timestamp(d["start"].iloc[-1])
        w = parse_duration(span)
        t = self.metrics.index
        before = self.metrics[(t >= at - w) & (t < at)].mean()
        after = self.metrics[(t >= at) & (t < at + w)].mean()
        names = list(self.leads["signal"]) if len(self.leads) else list(self.metrics.columns)
        names = [n for n in names if n in self.metrics.columns][:top]
        neutral = ("RequestCount", "Invocations", "ConsumedRead", "ConsumedWrite", "ConcurrentExecutions")
        rows = []
        for n in names:
            b, a = float(before.get(n, np.nan)), float(after.get(n, np.nan))
            change = (a - b) / abs(b) * 100 if np.isfinite(a) and np.isfinite(b) and b != 0 else np.nan
            verdict = None if not np.isfinite(change) or any(x in n for x in neutral) or abs(change) < 5 else (
                "worse" if change > 0 else "better")
            rows.append({"signal": n, "before deploy": b, "after deploy": a, "change %": change, "verdict": verdict})
        frame = pd.DataFrame(rows)
        self.deploy_at = at
        st = table(frame, units={"before deploy": "number", "after deploy": "number"},
                   caption=f"deploy at {at:%Y-%m-%d %H:%M} UTC: {d['summary'].iloc[-1]}; means over {span} on each "
                           "side; a change under 5 % has no verdict",
                   na={"verdict": "no direction (traffic) or a change under 5 %", "change %": "no data on a side",
                       "before deploy": "no datapoint (CloudWatch publishes some counts only when non-zero)",
                       "after deploy": "no datapoint (CloudWatch publishes some counts only when non-zero)"})
        colours = {"better": "color: #2e7d32; font-weight: 600", "worse": "color: #c62828; font-weight: 600"}
        return st.map(lambda v: colours.get(v, ""), subset=["verdict"])

    def impact_table(self):
        """The impact as a two-column table (what, how much), never a printed dict."""
        return table(pd.DataFrame({"impact": list(self.impact), "value": [
            v if isinstance(v, str) else v for v in self.impact.values()]}), units={"value": "auto"})

    @property
    def markdown(self) -> str:
        return F.markdown(self.title, self.times, self.impact, self.timeline, self.leads, self.signatures)

    def save_markdown(self, folder: str) -> str | None:
        """Write ``postmortem.md`` into ``folder`` (the run's folder when run by the runner)."""
        if not folder:
            return None
        path = Path(folder) / "postmortem.md"
        path.write_text(self.markdown, encoding="utf-8")
        return str(path)

    def times_table(self) -> pd.DataFrame:
        t = self.times
        return pd.DataFrame([{"when": k, "time (UTC)": v, "reasoning": t.reasoning.get(k, "")}
                             for k, v in (("start", t.start), ("detected", t.detected), ("mitigated", t.mitigated),
                                          ("resolved", t.resolved))])

    def lead_table(self) -> pd.DataFrame:
        cols = ["rank", "signal", "onset", "lag_minutes", "change", "max_z", "recovered"]
        return self.leads[cols] if len(self.leads) else pd.DataFrame(columns=cols)

    def signature_figure(self):
        """Error lines per 5 minutes for the top signatures, the incident shaded."""
        c = F.signature_counts(self.signatures)
        fig = go.Figure([go.Scatter(x=c.index, y=c[col].to_numpy(), mode="lines", name=str(col),
                                    line=dict(shape="hv")) for col in c.columns])
        fig.add_vrect(x0=self.incident.start, x1=self.incident.end, fillcolor="#c62828", opacity=0.08, line_width=0)
        fig.update_layout(title="Error signatures over time (lines per 5 minutes)", template="plotly_white",
                          height=360, legend=dict(orientation="h", y=-0.2))
        return fig

    def figure(self):
        top = list(self.leads["signal"].head(6)) if len(self.leads) else []
        return signals_figure(self.metrics, top, self.incident, self.timeline)

    def summary(self) -> dict:
        d = self.times.durations()
        return {"start": self.times.start, "detected": self.times.detected, "mitigated": self.times.mitigated,
                "resolved": self.times.resolved, **d, "top_signal": self.leads["signal"].iloc[0] if len(self.leads)
                else None, "failed_requests": self.impact.get("failed requests"),
                "signals_moved": int(len(self.leads))}



_BOILERPLATE = {"level", "timestamp", "message", "msg", "service", "environment", "version"}


def readable_excerpt(lines: pd.DataFrame) -> pd.DataFrame:
    """Log lines as a person reads them: the time, the level, the event's own message (not 20 identical JSON
    prefixes) and its other fields as ``key=value``; a line that is not JSON is shown whole."""
    msgs, fields = [], []
    for raw in lines["message"].astype(str):
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            msgs.append(raw)
            fields.append("")
            continue
        flat = pd.json_normalize(obj).iloc[0].to_dict()
        msgs.append(str(obj.get("message", obj.get("msg", ""))) or raw)
        fields.append(" ".join(f"{k}={v}" for k, v in flat.items() if k not in _BOILERPLATE and v not in (None, "")))
    ts = pd.to_datetime(lines["timestamp"], utc=True).dt.floor("s")
    return pd.DataFrame({"time": ts.to_numpy(), "level": lines["level"].to_numpy(), "message": msgs,
                         "fields": fields}).assign(time=lambda d: pd.to_datetime(d["time"], utc=True))


def _health_events(src, window) -> pd.DataFrame:
    """Health-check failures in the window, one event per run of non-healthy results of a check: from the
    history store when it covers the window, else (demo) what the 5-minute checks would have recorded."""
    hist = H.history_in(src, window)
    rows = []
    for name, g in hist.sort_values("timestamp").groupby("check_name"):
        bad = g["status"].isin(["degraded", "unhealthy"]).to_numpy()
        d = np.diff(np.r_[0, bad.astype(int), 0])
        ts = g["timestamp"].to_numpy()
        for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
            worst = "unhealthy" if (g["status"].iloc[a:b] == "unhealthy").any() else "degraded"
            rows.append({"start": pd.Timestamp(ts[a]).tz_localize("UTC") if pd.Timestamp(ts[a]).tzinfo is None
                         else pd.Timestamp(ts[a]), "end": pd.Timestamp(ts[b - 1]).tz_localize("UTC") if
                         pd.Timestamp(ts[b - 1]).tzinfo is None else pd.Timestamp(ts[b - 1]),
                         "kind": "health-check", "source": "health", "severity": "critical" if worst == "unhealthy"
                         else "warning", "summary": f"{name} check {worst} ({b - a} runs)", "evidence": ""})
    return pd.DataFrame(rows)


def resolve_incident(src, incident_start: str, incident_end: str, alarm: str, at: str, now) -> tuple:
    """The incident window ``(start, end, how, gap)``: given, or from an alarm's ALARM period around ``at``, or
    (demo) the latest injected incident before ``now``. ``gap`` says why the window is not what was asked for (an
    alarm that was not in ALARM then), else empty."""
    if incident_start:
        s = parse_time(incident_start, now)
        e = parse_time(incident_end, now) if incident_end else s + pd.Timedelta(hours=1)
        if not s < e:
            raise ParameterError("incident_start", "must be before incident_end", "an ISO time before the end")
        return s, e, "as given", ""
    if alarm:
        t = parse_time(at or "now", now)
        h = src.alarm_history(TimeWindow(t - pd.Timedelta(days=2), t + pd.Timedelta(hours=6)), [alarm])
        into = h[(h["to_state"] == "ALARM") & (h["timestamp"] <= t + pd.Timedelta(minutes=30))]
        if into.empty:  # a known alarm (the name is checked before the kernel starts) that did not fire: data
            gap = (f"{alarm} did not go to ALARM in the two days before {t:%Y-%m-%d %H:%M}Z: there is no alarm "
                   f"period to analyse, so the hour before {t:%H:%M}Z is shown instead (give incident_start, or "
                   "an `at` time when the alarm was in ALARM)")
            return t - pd.Timedelta(hours=1), t, f"the hour before {t:%Y-%m-%d %H:%M}Z ({alarm} not in ALARM)", gap
        s = into.iloc[-1]["timestamp"]
        out = h[(h["timestamp"] > s) & (h["to_state"] != "ALARM")]
        e = out.iloc[0]["timestamp"] if len(out) else s + pd.Timedelta(hours=1)
        return s - pd.Timedelta(minutes=15), e, f"{alarm} in ALARM {s:%H:%M}Z → {e:%H:%M}Z", ""
    inner = unwrap(src)
    if at:  # the incident at that time, never the latest one: the known incident around it, else the hour around it
        t = parse_time(at, now)
        if hasattr(inner, "incidents"):
            inc = src.incidents(TimeWindow(t - pd.Timedelta(days=1), t + pd.Timedelta(days=1)))
            near = inc[(inc["start"] - pd.Timedelta(minutes=30) <= t) & (inc["end"] + pd.Timedelta(minutes=30) >= t)]
            if len(near):
                r = near.iloc[0]
                return r["start"], r["end"], f"injected incident {r['id']} at {t:%Y-%m-%d %H:%M}Z", ""
        return (t - pd.Timedelta(minutes=30), t + pd.Timedelta(minutes=30), f"the hour around {t:%Y-%m-%d %H:%M}Z", "")
    if hasattr(inner, "incidents"):
        inc = src.incidents(TimeWindow(now - pd.Timedelta(days=14), now))
        inc = inc[inc["end"] <= now]
        if len(inc):
            r = inc.iloc[-1]
            return r["start"], r["end"], f"latest injected incident {r['id']}", ""
    raise ParameterError("incident_start", "no incident given", "incident_start/incident_end, or alarm and at")


def run(source: str | None = None, environment: str = "demo", incident_start: str = "", incident_end: str = "",
        alarm: str = "", at: str = "", lookback: str = "3h", after: str = "1h", namespaces: list | None = None,
        symptom: str = "", show_personal_data: bool = False, files_path: str = "", evidence_dir: str = "",
        now=None, title: str = "") -> IncidentReport:
    now_ts = to_utc(now) if now is not None else utcnow()
    src = open_source(source, environment, now=now, files_path=files_path)
    s, e, how, window_gap = resolve_incident(src, incident_start, incident_end, alarm, at, now_ts)
    lb, af = parse_duration(lookback), parse_duration(after)
    window = TimeWindow(s.floor("min") - lb, min(e + af, now_ts).ceil("min"))
    incident = TimeWindow(s, e)
    week = pd.Timedelta(days=7)
    # the finest period CloudWatch still keeps for the baseline week (1 minute within 15 days, then 5, then 60)
    natural = getattr(unwrap(src), "natural_period", None)
    base_period = natural() if natural else 60  # a folder of exports: the period its series were recorded at
    period = served_period(src, base_period, window.start - week, now_ts)
    early_notes = []
    if base_period != 60:
        early_notes.append(f"the series were recorded every {base_period // 60} minutes: signals use that period")
    elif period != 60:
        early_notes.append(f"the incident is older than CloudWatch keeps 1-minute data for (with its baseline "
                           f"week): signals use {period // 60}-minute periods, so onsets are known to "
                           f"{period // 60} minutes at best")
    env = catalog().environment(environment)
    lg = env.resources.log_group
    workers = source_workers(src)  # on AWS the fetches below wait together; demo and files stay serial

    def signals():
        qs, kinds = F.signal_queries(src, namespaces or None, period)
        df, prev = together(lambda: src.metrics(qs, window),
                            lambda: src.metrics(qs, TimeWindow(window.start - week, window.end - week)),
                            workers=workers)
        return qs, kinds, df, prev

    # what does not depend on anything else is fetched at once: signals (and last week's), the logs, the alarm
    # history, the change events and the health history
    (qs, kinds, df, prev), logs, alarms_h, events, hc = together(
        signals, lambda: src.logs(lg, window), lambda: src.alarm_history(window), lambda: src.events(window),
        lambda: _health_events(src, window), workers=workers)
    prev.index = prev.index + week
    prev = prev.reindex(df.index)
    guard = pd.Timedelta(minutes=30)
    onsets = F.detect_onsets(df, kinds, s - guard, s - guard, min(e + af, window.end), reference=prev)
    if symptom and symptom not in df.columns:  # a named symptom the window has no signal for is said, not ignored
        labels = ", ".join(sorted(map(str, df.columns))[:12]) or "none"
        early_notes.append(f"symptom {symptom!r} is not a signal of this incident's window (signals: {labels}): "
                           "leads are ranked without a primary symptom")
        window_gap = window_gap or f"symptom {symptom!r} is not one of the window's signals"
        symptom = ""
    primary = symptom or next((q.label for q in qs if q.metric == "HTTPCode_Target_5XX_Count"), None)
    leads = F.rank_leads(onsets, primary)
    sigs = F.error_signatures(logs, s, e, redact_personal_data=not show_personal_data)
    bursts = F.log_bursts(logs, s - guard)
    if events.empty:
        searched = events.attrs.get("searched")
        early_notes.append(f"no deploy or configuration change found in {'; '.join(searched)} for the window"
                           if searched else "this source records no change events (deploys, configuration "
                           "changes): the timeline cannot show them, which does not mean nothing changed")
    tl = F.timeline(leads, alarms_h, events, bursts, sigs, s, e)
    if len(hc):
        tl = pd.concat([tl, hc], ignore_index=True).sort_values("start", kind="stable").reset_index(drop=True)
    times = F.postmortem_times(leads, alarms_h, primary)
    notes = [f"incident window: {how}"] + early_notes
    if len(prev.columns) and prev.notna().sum().sum() == 0:
        notes.append("no data for the same time last week: each signal is judged against its own baseline before "
                     "the incident (robust median and MAD) instead of against last week")
    # impact
    five = next((c for c in df.columns if "HTTPCode_Target_5XX_Count" in c), None)
    imp_start = times.start or s
    imp_end = times.resolved or e
    in_imp = (df.index >= imp_start) & (df.index < imp_end)
    failed = float(np.nansum(df[five].to_numpy()[in_imp])) if five else float("nan")
    impact = {"duration": f"{(imp_end - imp_start).total_seconds() / 60:.0f} minutes ({imp_start:%H:%M}Z → "
                          f"{imp_end:%H:%M}Z)", "failed requests": int(failed) if np.isfinite(failed) else "unknown"}
    alb = MetricQuery("AWS/ApplicationELB", "RequestCount", {"LoadBalancer": env.resources.alb}, "Sum", 3600,
                      label="req30")
    # the share of the month's error budget burnt needs the ALB's requests: only where the source has the ALB

    def access():
        try:
            return src.logs(lg + "/access", TimeWindow(imp_start, imp_end)), None
        except Exception as ex:  # not every source has access logs
            return pd.DataFrame(), f"no access logs: {ex}"

    # the impact's two fetches depend on the times found above, and not on each other
    month, (acc, no_access) = together(
        lambda: src.metrics([alb], TimeWindow(imp_start - pd.Timedelta(days=30), imp_start))["req30"].sum()
        if five else 0.0, access, workers=workers)
    if month > 0 and np.isfinite(failed):
        impact["availability budget burnt (99.9%, 30 days)"] = f"{failed / (0.001 * month):.1%}"
    endpoints = pd.DataFrame(columns=["method", "path", "5xx"])
    excerpt = pd.DataFrame(columns=["time", "level", "message", "fields"])
    if no_access:
        notes.append(no_access)
    if len(acc):
        a = parse_clf(acc["message"])
        bad = a[a["status"] >= 500]
        endpoints = bad.groupby(["method", "path"]).size().rename("5xx").reset_index().sort_values(
            "5xx", ascending=False)
        if a.attrs.get("malformed"):
            notes.append(f"{a.attrs['malformed']} malformed access-log lines skipped")
    if len(logs):
        ex = logs[(logs["level"] == "error") & (logs["timestamp"] >= s) & (logs["timestamp"] < e)].head(20)
        excerpt = readable_excerpt(ex)
        if not show_personal_data:
            excerpt["message"] = redact(excerpt["message"])
            excerpt["fields"] = redact(excerpt["fields"])
            notes.append("personal data in log excerpts is redacted (show_personal_data=true shows it)")
    inner = unwrap(src)
    truth = src.incidents(window) if hasattr(inner, "incidents") else None
    if evidence_dir:
        src.save_bundle(evidence_dir, raw_logs=show_personal_data)
    title = title or f"Incident {s:%Y-%m-%d %H:%M}Z"
    episodes = scan(df)
    return IncidentReport(title, window, incident, onsets, leads, sigs, tl, times, impact, endpoints, excerpt, df,
                          src, notes, truth, episodes, window_gap)
