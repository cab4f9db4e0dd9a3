"""The alarms report as a function: ``run(...) -> AlarmsReport``; the notebook only displays its parts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import backtest as bt
from ..alarms import Alarm, alarms_from_describe, evaluate, load_alarms, seed_names
from ..catalog import catalog
from ..errors import ParameterError
from ..figures import alarms as fa
from ..iac import import_alarms
from ..present import Headline, table
from ..sources.evidence import RecordingSource, open_source, unwrap
from ..timewindow import TimeWindow, report_window
from .result import ReportResult, comparable


@dataclass
class AlarmsReport(ReportResult):
    window: TimeWindow
    alarms: list[Alarm]
    evaluations: dict
    incidents: pd.DataFrame
    scores: pd.DataFrame
    detections: pd.DataFrame
    audit: pd.DataFrame
    pages: pd.DataFrame
    history: pd.DataFrame
    history_stats: pd.DataFrame
    sweep: pd.DataFrame
    sweep_alarm: str
    src: RecordingSource | None = None
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what could not be replayed or scored, and why
    seed_mapping: pd.DataFrame | None = None  # the seed's alarm names and the alarm implementing each
    noise: pd.DataFrame | None = None  # the noise report from the alarm history (backtest.noise)

    def noise_table(self):
        """The noise report, noisiest first (pages, flaps, time in ALARM, off-hours pages, verdict; and where the
        replay disagrees with the history)."""
        if self.noise is None or not len(self.noise):
            return table(pd.DataFrame(columns=["alarm", "pages"]))
        return table(self.noise.rename(columns={"share_in_alarm": "share in ALARM"}),
                     units={"median_minutes": "min", "longest_minutes": "min", "share in ALARM": "pct"},
                     na={"median_minutes": "never in ALARM", "longest_minutes": "never in ALARM"})

    def gaps(self) -> list[str]:
        return list(self.missing)

    def has_data(self) -> bool:
        return bool(self.alarms) or bool(len(self.scores))

    def headline_figures(self) -> list:
        s = self.summary()
        det, inc = s["incidents_detected_by_any"], s["incidents"]
        return [
            Headline("incidents_detected", "Incidents detected", det, "count",
                     "good" if det == inc else "warn", "up", "by at least one alarm", f"of {inc}"),
            Headline("false_alarms", "False alarms", s["false_alarms"], "count",
                     "good" if not s["false_alarms"] else "warn", "down", "ALARM episodes with no incident"),
            Headline("critical_pages", "Critical pages", s["critical_pages"], "count", None, "down",
                     f"{s['off_hours_pages']} off hours"),
            Headline("audit_findings_high", "High audit findings", s["audit_findings_high"], "count",
                     "bad" if s["audit_findings_high"] else "good", "down", "configuration audit"),
        ]

    def tables(self) -> dict:
        return {"scores": self.scores, "detections": self.detections, "sweep": self.sweep, "pages": self.pages,
                "audit": self.audit, "history": self.history}

    def catalog_table(self) -> pd.DataFrame:
        return pd.DataFrame([{"alarm": a.AlarmName, "metric": _metric_text(a), "stat": a.stat,
                              "rule": f"{a.m} of {a.EvaluationPeriods} x {a.Period // 60} min "
                                      f"{a.ComparisonOperator.replace('Threshold', '')} {a.Threshold:g}"
                              if a.Threshold is not None else a.ComparisonOperator,
                              "missing data": a.TreatMissingData +
                              (" (ignored: AWS/DynamoDB)" if a.effective_treat_missing != a.TreatMissingData else ""),
                              "actions": ", ".join(x.rsplit(":", 1)[-1] for x in a.AlarmActions)}
                             for a in self.alarms])

    def detection_matrix(self) -> pd.DataFrame:
        if self.detections.empty:
            return self.detections
        d = self.detections.assign(cell=np.where(self.detections["detected"],
                                                 self.detections["detection_minutes"].round(0).astype("Int64")
                                                 .astype(str) + " min", "missed"))
        return d.pivot(index="incident", columns="alarm", values="cell")

    def pages_per_week(self) -> pd.DataFrame:
        """Notifications per ISO week and level, with how many were off-hours and escalated."""
        if self.pages.empty:
            return pd.DataFrame(columns=["week", "level", "notifications", "off_hours", "escalated"])
        p = self.pages.assign(week=self.pages["timestamp"].dt.strftime("%G-W%V"))
        return (p.groupby(["week", "level"]).agg(notifications=("alarm", "size"), off_hours=("off_hours", "sum"),
                                                 escalated=("escalated", "sum")).reset_index())

    def figures(self) -> dict:
        return {"timeline": fa.state_timeline(self.evaluations, self.incidents),
                "sweep": fa.sweep_figure(self.sweep, f"What-if for {self.sweep_alarm}: threshold x (M of N)"),
                "pages": fa.pages_heatmap(self.pages)}

    def summary(self) -> dict:
        crit = self.pages[self.pages["level"] == "Critical"] if len(self.pages) else self.pages
        return {"alarms": len(self.alarms), "incidents": len(self.incidents),
                "incidents_detected_by_any": int(self.detections.groupby("incident")["detected"].any().sum())
                if len(self.detections) else 0,
                "false_alarms": int(self.scores["false_alarms"].sum()) if len(self.scores) else 0,
                "critical_pages": int(len(crit)), "off_hours_pages": int(crit["off_hours"].sum()) if len(crit) else 0,
                "audit_findings_high": int((self.audit["severity"] == "high").sum()) if "severity" in self.audit else 0}


def _incidents(src, window, incidents_file: str) -> pd.DataFrame:
    if incidents_file:
        df = pd.read_csv(incidents_file)
        for c in ("start", "end"):
            df[c] = pd.to_datetime(df[c], utc=True)
        if "id" not in df:
            df["id"] = [f"incident-{i + 1}" for i in range(len(df))]
        df["incident"] = df.get("incident", df["id"])
        return df
    inner = unwrap(src)
    if hasattr(inner, "incidents"):
        return src.incidents(window)
    return pd.DataFrame(columns=["id", "incident", "start", "end"])


@comparable
def _metric_text(a: Alarm) -> str:
    """``Namespace/MetricName``, or a metric-math alarm's expression over its inputs."""
    if not a.is_math:
        return f"{a.Namespace}/{a.MetricName}"
    ret = next(m for m in a.Metrics if m.get("ReturnData", True))
    ins = ", ".join(f"{q.label.rsplit('/', 1)[-1]} = {q.namespace}/{q.metric} {q.stat}" for q in a.input_queries())
    return f"{ret.get('Expression', ret['Id'])} ({ins})"


def run(source: str | None = None, environment: str = "demo", start: str = "-14d", end: str = "now",
        alarms_from: str = "catalog", sweep_alarm: str = "RealTechee-Critical-Error-Rate",
        thresholds: list | None = None, incidents_file: str = "", files_path: str = "", evidence_dir: str = "",
        now=None) -> AlarmsReport:
    src = open_source(source, environment, now=now, files_path=files_path)
    window, clipped = report_window(start, end, now)
    notes = list(clipped)
    if alarms_from == "aws":
        alarms, composites, skipped = alarms_from_describe(src.inner.describe_alarms() if hasattr(
            src.inner, "describe_alarms") else src.inner.inner.describe_alarms())
        notes += [f"not modelled: {s}" for s in skipped]
    elif alarms_from != "catalog":  # Terraform / CloudFormation where the team keeps its alarms

        env = catalog().environment(environment)
        found = import_alarms(alarms_from, values=env.iac_resolved())
        alarms, composites = found.alarms, found.composites
        notes += [f"alarms read from {alarms_from}: {len(alarms)} imported"
                  + (f", and {len(composites)} composite" if composites else "")] + [
            f"not imported: {p}" for p in found.problems()]
    else:
        alarms, composites = load_alarms(environment=environment), []
    if not alarms and not composites:  # nothing to replay is no data, not a traceback
        where = {"aws": "DescribeAlarms answered no alarms", "catalog": "parameters/alarms.yaml holds no alarms"}.get(
            alarms_from, f"{alarms_from} holds no CloudWatch alarms")
        empty = pd.DataFrame()
        return AlarmsReport(window, [], {}, empty, empty, empty, empty, empty, empty, empty, empty, sweep_alarm,
                            src, notes + [f"no alarms to replay: {where}"], [f"no alarms: {where}"])
    limits: list[str] = []
    series = bt.alarm_series(alarms, src, TimeWindow(window.start - pd.Timedelta(days=1), window.end), limits)
    series = {k: v[v.index >= window.start - pd.Timedelta(hours=2)] for k, v in series.items()}
    incidents = _incidents(src, window, incidents_file)
    gaps = [g.replace("replayed from", "backtest replayed from") for g in limits]
    has_truth = bool(incidents_file) or hasattr(unwrap(src), "incidents")
    if incidents.empty and not has_truth:
        gaps.append("no incident ground truth for this window: precision, recall and detection times cannot be "
                    "computed (give incidents_file, a CSV with start,end[,id])")
    scores, detections = bt.backtest(alarms, series, incidents)
    if composites:  # replayed from their children's replayed states
        comp_scores, comp_notes = bt.backtest_composites(composites, alarms, series, incidents)
        notes += [f"composite not replayed: {n}" for n in comp_notes]
        if len(comp_scores):
            scores = pd.concat([scores, comp_scores], ignore_index=True)
    routing = bt.load_routing()

    mapping = seed_names() if alarms_from == "catalog" else {}
    audit = bt.audit(alarms, routing, series, seed_names=mapping)
    try:  # alarms that cannot work as written (ListMetrics, data, limits): findings of the same audit
        broken = bt.cannot_work(alarms, src, window, {k: v[v.index >= window.start] for k, v in series.items()},
                                now=now, composites=composites)
        audit = pd.concat([broken, audit], ignore_index=True) if len(broken) else audit
    except Exception as e:  # a source that cannot list metrics: said, not hidden
        notes.append(f"existence checks not run: {type(e).__name__}: {e}")
    history = src.alarm_history(window)
    pages = bt.pages(alarms, history, routing)
    stats = bt.history_stats(history) if len(history) else pd.DataFrame()
    evaluations = {a.AlarmName: evaluate(a, series[a.AlarmName]) for a in alarms}
    in_window = {k: s[s.index >= window.start] for k, s in series.items()}
    replayed = {a.AlarmName: int(bt.episodes(bt.evaluate_states(a, in_window[a.AlarmName].to_numpy(dtype=float)),
                                             in_window[a.AlarmName].index).shape[0]) for a in alarms}
    noise = bt.noise(history, window, [a.AlarmName for a in alarms] + [c.AlarmName for c in composites],
                     routing.business_hours,
                     {a.AlarmName: a.Period for a in alarms}, replayed=replayed)
    target = next((a for a in alarms if a.AlarmName == sweep_alarm), None)
    if target is None and sweep_alarm and alarms:  # never a silent swap for another alarm

        raise ParameterError("sweep_alarm", f"no alarm named {sweep_alarm!r}", ", ".join(a.AlarmName for a in alarms))
    sweep = pd.DataFrame()
    if target is not None:
        thr = thresholds or sorted({target.Threshold * f for f in (0.5, 1, 2, 4)} if target.Threshold else {1})
        sweep = bt.sweep(target, series[target.AlarmName], bt.relevant_incidents(target, incidents), thr,
                         [(1, 1), (2, 2), (2, 3), (3, 3), (3, 5)])
    if evidence_dir:
        src.save_bundle(evidence_dir)
    rep = AlarmsReport(window, alarms, evaluations, incidents, scores, detections, audit, pages, history, stats,
                       sweep, target.AlarmName if target else "", src, notes)
    rep.missing = gaps
    rep.noise = noise
    rep.seed_mapping = pd.DataFrame([{"seed alarm": k, "implemented by": v,
                                      "other actions (routing.yaml)": "; ".join(
                                          f"{x.kind}: {x.name}" for x in routing.actions.get(k, [])) or "—"}
                                     for k, v in mapping.items()])
    return rep
