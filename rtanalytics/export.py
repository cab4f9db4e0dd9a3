"""Close the loop: the alarms the analysis replayed (or the what-if's chosen variant) written out as what AWS
takes — PutMetricAlarm request JSON (``aws cloudwatch put-metric-alarm --cli-input-json file://X.json``) and a
CloudFormation template of ``AWS::CloudWatch::Alarm`` resources — each carrying its backtest: incidents
detected, false alarms and detection time over the window it was replayed on. Backtest first, then emit
exactly what was backtested.

Also written: ``alarms.yaml`` in the catalog's own format, so the tuned alarms can replace
``parameters/alarms.yaml`` and the next report replays exactly them.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import backtest as bt
from . import slo as S
from .alarms import Alarm, load_alarms
from .catalog import catalog
from .catalog.openslo import load_openslo
from .errors import ParameterError
from .reports.alarms import _incidents
from .reports.publish import atomic_write_text
from .sources.evidence import open_source
from .timewindow import TimeWindow, parse_duration

#: AWS::CloudWatch::Alarm properties as documented (CloudFormation User Guide, resource reference), with the
#: JSON type each takes; ``Metrics`` / ``ThresholdMetricId`` (metric math) are not emitted by us.
CFN_ALARM_PROPERTIES = {
    "ActionsEnabled": bool, "AlarmActions": list, "AlarmDescription": str, "AlarmName": str,
    "ComparisonOperator": str, "DatapointsToAlarm": int, "Dimensions": list, "EvaluateLowSampleCountPercentile": str,
    "EvaluationPeriods": int, "EvaluationWindow": dict, "ExtendedStatistic": str, "InsufficientDataActions": list, "MetricName": str,
    "Metrics": list, "Namespace": str, "OKActions": list, "Period": int, "Statistic": str, "Tags": list,
    "Threshold": float, "ThresholdMetricId": str, "TreatMissingData": str, "Unit": str,
}
CFN_REQUIRED = ("ComparisonOperator", "EvaluationPeriods")
CFN_COMPOSITE_PROPERTIES = {"ActionsEnabled": bool, "ActionsSuppressor": str, "ActionsSuppressorExtensionPeriod": int,
                            "ActionsSuppressorWaitPeriod": int, "AlarmActions": list, "AlarmDescription": str,
                            "AlarmName": str, "AlarmRule": str, "InsufficientDataActions": list, "OKActions": list}
DESCRIPTION_MAX = 1024  # PutMetricAlarm's limit on AlarmDescription
MARK = " | backtest "


@dataclass
class Backtested:
    """An alarm as it will be deployed, and what it did when replayed over ``window``."""

    alarm: Alarm
    result: dict
    window: tuple[str, str]
    variant_of: str | None = None

    @property
    def summary(self) -> str:
        r = self.result
        det = r.get("detection_minutes")
        det_txt = f", mean detection {det:.0f} min" if det is not None and np.isfinite(det) else ""
        return (f"{self.window[0][:16]}Z..{self.window[1][:16]}Z: detected {r.get('detected', 0)} of "
                f"{r.get('incidents', 0)} incidents, {r.get('false_alarms', 0)} false alarms{det_txt} (rtanalytics)")

    def description(self) -> str:
        base = self.alarm.AlarmDescription.split(MARK)[0]
        text = base + MARK + self.summary
        return text if len(text) <= DESCRIPTION_MAX else text[:DESCRIPTION_MAX - 1] + "…"

    def request(self) -> dict:
        """The PutMetricAlarm request (``--cli-input-json``): every field set on the alarm, the backtest in
        ``AlarmDescription``."""
        d = self.alarm.model_dump(exclude_none=True)
        d = {k: v for k, v in d.items() if v not in ([], "")}
        d["AlarmDescription"] = self.description()
        if "Threshold" in d:
            d["Threshold"] = float(d["Threshold"])
        if self.alarm.is_math:  # PutMetricAlarm takes the periods from Metrics then, and no top-level Period
            d.pop("Period", None)
        return d


def parse_variant(text: str) -> dict:
    """``threshold=20,m=2,n=3`` → alarm fields (Threshold, DatapointsToAlarm, EvaluationPeriods); exit 2 naming
    the part that is wrong."""
    names = {"threshold": "Threshold", "m": "DatapointsToAlarm", "n": "EvaluationPeriods"}
    out: dict = {}
    for part in [p for p in (text or "").split(",") if p.strip()]:
        if "=" not in part:
            raise ParameterError("variant", f"{part!r} is not key=value", "threshold=20,m=2,n=3")
        k, v = (x.strip() for x in part.split("=", 1))
        if k.lower() not in names:
            raise ParameterError("variant", f"unknown key {k!r}", "threshold, m or n")
        try:
            out[names[k.lower()]] = float(v) if k.lower() == "threshold" else int(v)
        except ValueError:
            raise ParameterError("variant", f"{k}={v!r} is not a number", "threshold=20,m=2,n=3") from None
    if not out:
        raise ParameterError("variant", "empty", "threshold=20,m=2,n=3")
    return out


def backtest_alarms(source=None, environment: str = "demo", start: str = "-14d", end: str = "now",
                    alarm: str | None = None, variant: str | None = None, now=None,
                    files_path: str = "") -> list[Backtested]:
    """Replay the catalog's alarms (or only ``alarm``, changed by ``variant``) over the window against the
    incidents, with the alarms report's own machinery; one :class:`Backtested` per alarm."""
    alarms = load_alarms(environment=environment)
    if alarm:
        chosen = [a for a in alarms if a.AlarmName == alarm]
        if not chosen:
            raise ParameterError("alarm", f"no alarm named {alarm!r}", ", ".join(a.AlarmName for a in alarms))
        alarms = chosen
    if variant:
        if len(alarms) != 1:
            raise ParameterError("variant", "a variant changes one alarm", "also give --alarm NAME")
        fields = parse_variant(variant)
        try:
            alarms = [Alarm.model_validate({**alarms[0].model_dump(), **fields})]
        except ValueError as e:
            errs = getattr(e, "errors", lambda: [])()
            why = "; ".join(str(x.get("msg", "")).removeprefix("Value error, ") for x in errs) or str(e)
            raise ParameterError("variant", why, "m <= n, and a threshold") from None
    src = open_source(source, environment, now=now, files_path=files_path)
    window = TimeWindow.parse(start, end, now=now)
    series = bt.alarm_series(alarms, src, TimeWindow(window.start - pd.Timedelta(days=1), window.end), [])
    series = {k: v[v.index >= window.start - pd.Timedelta(hours=2)] for k, v in series.items()}
    incidents = _incidents(src, window, "")
    scores, _ = bt.backtest(alarms, series, incidents)
    rows = {r["alarm"]: r for r in scores.to_dict("records")}
    win = (window.start.isoformat(), window.end.isoformat())
    return [Backtested(a, {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                           for k, v in rows.get(a.AlarmName, {}).items()}, win,
                       a.AlarmName if variant else None) for a in alarms]


def logical_id(name: str, taken: set) -> str:
    """A CloudFormation logical id (alphanumeric) for an alarm name, unique in the template."""
    base = "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", name) if w) or "Alarm"
    base = base if base[0].isalpha() else "Alarm" + base
    lid, i = base, 2
    while lid in taken:
        lid, i = f"{base}{i}", i + 1
    taken.add(lid)
    return lid


def cloudformation(items: list[Backtested]) -> dict:
    """A template with one ``AWS::CloudWatch::Alarm`` per alarm; the backtest in each resource's ``Metadata``."""
    taken: set = set()
    resources = {}
    for it in items:
        props = {k: v for k, v in it.request().items() if k in CFN_ALARM_PROPERTIES}
        for k in ("AlarmActions", "OKActions", "InsufficientDataActions"):  # the stack's own account
            if k in props:
                props[k] = [{"Fn::Sub": a.replace(":ACCOUNT:", ":${AWS::AccountId}:")} if ":ACCOUNT:" in a else a
                            for a in props[k]]
        resources[logical_id(it.alarm.AlarmName, taken)] = {
            "Type": "AWS::CloudWatch::Alarm", "Properties": props,
            "Metadata": {"rtanalytics": {"backtest": {"window": list(it.window), **it.result},
                                         "variant_of": it.variant_of}}}
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Description": "CloudWatch alarms exported by rtanalytics, each with its backtest", "Resources": resources}


def cloudformation_composites(composites, template: dict | None = None) -> dict:
    """``AWS::CloudWatch::CompositeAlarm`` resources for ``composites``, added to ``template`` (or a new one)."""
    template = template or {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}
    taken = set(template["Resources"])
    for c in composites:
        props = {k: v for k, v in c.model_dump(exclude_none=True).items()
                 if k in CFN_COMPOSITE_PROPERTIES and v not in ([], "")}
        template["Resources"][logical_id(c.AlarmName, taken)] = {"Type": "AWS::CloudWatch::CompositeAlarm",
                                                                 "Properties": props}
    return template


def validate_cloudformation(template: dict) -> list[str]:
    """Problems with a template's alarms against the documented resource properties (names, JSON types,
    required ones); an empty list means none."""
    out = []
    for lid, res in (template.get("Resources") or {}).items():
        if not re.fullmatch(r"[A-Za-z0-9]{1,255}", lid):
            out.append(f"{lid}: logical ids are alphanumeric")
        if res.get("Type") == "AWS::CloudWatch::CompositeAlarm":
            props = res.get("Properties") or {}
            out += [f"{lid}: {k} is not a property of AWS::CloudWatch::CompositeAlarm" for k in props
                    if k not in CFN_COMPOSITE_PROPERTIES]
            if "AlarmRule" not in props:
                out.append(f"{lid}: AlarmRule is required")
            out += [f"{lid}: DependsOn {d} is not in the template" for d in res.get("DependsOn", [])
                    if d not in template["Resources"]]
            continue
        if res.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        props = res.get("Properties") or {}
        for k in CFN_REQUIRED:
            if k not in props:
                out.append(f"{lid}: {k} is required")
        for k, v in props.items():
            t = CFN_ALARM_PROPERTIES.get(k)
            if t is None:
                out.append(f"{lid}: {k} is not a property of AWS::CloudWatch::Alarm")
            elif t is float and not isinstance(v, (int, float)) or t is int and not isinstance(v, int) or (
                    t in (str, list, bool) and not isinstance(v, t)):
                out.append(f"{lid}: {k} must be {t.__name__}, not {type(v).__name__}")
            elif k.endswith("Actions") and not all(isinstance(a, str) or (isinstance(a, dict) and set(a) == {
                    "Fn::Sub"}) for a in v):
                out.append(f"{lid}: {k} holds ARNs (strings, or Fn::Sub)")
        for d in props.get("Dimensions", []):
            if set(d) != {"Name", "Value"}:
                out.append(f"{lid}: each dimension is {{Name, Value}}")
        if "Metrics" in props and any(k in props for k in ("MetricName", "Namespace", "Statistic", "Period")):
            out.append(f"{lid}: a metric-math alarm (Metrics) names no single metric, statistic or period")
        if "Statistic" in props and "ExtendedStatistic" in props:
            out.append(f"{lid}: give Statistic or ExtendedStatistic, not both")
    return out


def write(items: list[Backtested], out_dir: Path | str) -> list[Path]:
    """``put-metric-alarm/NAME.json`` per alarm, ``alarms.cfn.json`` and ``alarms.yaml`` (the catalog's format)
    into ``out_dir``; returns the files written."""
    out = Path(out_dir)
    (out / "put-metric-alarm").mkdir(parents=True, exist_ok=True)
    paths = []
    for it in items:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", it.alarm.AlarmName)
        p = out / "put-metric-alarm" / f"{safe}.json"
        atomic_write_text(p, json.dumps(it.request(), indent=2) + "\n")
        paths.append(p)
    tpl = cloudformation(items)
    problems = validate_cloudformation(tpl)
    if problems:  # never hand over a template CloudFormation would refuse
        raise ValueError("the CloudFormation template does not validate: " + "; ".join(problems))
    p = out / "alarms.cfn.json"
    atomic_write_text(p, json.dumps(tpl, indent=2, default=str) + "\n")
    paths.append(p)
    p = out / "alarms.yaml"
    atomic_write_text(p, "# exported by rtanalytics: each alarm as backtested (see its AlarmDescription)\n"
                      + yaml.safe_dump({"alarms": [it.request() for it in items]}, sort_keys=False))
    paths.append(p)
    return paths


# ----------------------------------------------------------------------------------------- SLO alerts out


def _request_based(environment: str, slos, folder):
    """``(subs, catalog, [(name, slo, ratioMetric)], skipped)``: the OpenSLO SLOs whose SLI is a ratio of two
    CloudWatch counts (good or bad, and total) with Occurrences budgeting; the others with the reason."""
    cat = catalog()
    subs = cat.environment(environment).resources.substitutions()
    oc = load_openslo(folder or cat.root / "slos")
    chosen, skipped = [], []
    for name, s in oc.slos.items():
        if slos and name not in slos:
            continue
        rm = oc.indicator(s).ratioMetric
        if rm is None or rm.raw is not None or s.spec.budgetingMethod != "Occurrences":
            what = "a threshold metric" if rm is None else ("a precomputed ratio" if rm.raw is not None else
                                                          f"{s.spec.budgetingMethod} budgeting")
            skipped.append(f"{name}: {what}: not a ratio of two CloudWatch counts")
            continue
        chosen.append((name, s, rm))
    return subs, oc, chosen, skipped


def _metric_query(ref, subs: dict, period: int, qid: str, return_data: bool) -> dict:
    """An OpenSLO metric source as a CloudWatch MetricDataQuery (``${...}`` filled from the environment)."""
    spec = ref.metricSource.spec
    return {"Id": qid, "ReturnData": return_data, "MetricStat": {
        "Metric": {"Namespace": spec.namespace, "MetricName": spec.metricName,
                   "Dimensions": [{"Name": d.name, "Value": string.Template(d.value).safe_substitute(subs)}
                                  for d in spec.dimensions]},
        "Period": period, "Stat": spec.stat}}


def slo_alerts(environment: str = "demo", slos: list[str] | None = None, folder=None) -> tuple[list[dict], list[str]]:
    """The SRE Workbook's multiwindow, multi-burn-rate alerts of each OpenSLO SLO as CloudWatch alarms: for every
    burn-rate condition, a metric-math alarm per window (the error ratio over the window as math on the SLI's own
    metrics, each metric's period the window, so the default sliding evaluation window reads the last window's
    sums) and a composite alarm firing when both the long and the short one are in ALARM.

    Returns ``(requests, skipped)``: each request is ``{"api": "put_metric_alarm" | "put_composite_alarm",
    "slo", "rule", "window", "threshold", "request": {...}}``; ``skipped`` says which SLOs cannot be expressed this
    way and why (a threshold SLI, a precomputed ratio)."""
    subs, oc, chosen, skipped = _request_based(environment, slos, folder)
    out = []
    for name, s, rm in chosen:
        target = float(s.spec.objectives[0].target)
        first = rm.good or rm.bad

        def stat(ref, period, qid):
            return _metric_query(ref, subs, period, qid, False)

        # a good/bad count missing while requests exist counts as 0 (CloudWatch publishes the ALB code counts only
        # when non-zero), as in the SLO report; no requests at all: no datapoint, not breaching
        bad = "(total - FILL(good, 0))" if rm.good is not None else "FILL(bad, 0)"
        for c in oc.burn_conditions(s):
            cond = c.spec.condition
            if cond.op not in ("gt", "gte"):
                skipped.append(f"{name}: condition {c.metadata.name} ({cond.op}) is not a burn rate at or above a "
                               "threshold")
                continue
            names = {}
            for which, window in (("long", cond.lookbackWindow), ("short", S.short_window(cond.lookbackWindow))):
                period = int(parse_duration(window).total_seconds())
                # PutMetricAlarm: a period of 10, 20, 30 s or a multiple of 60; period x evaluation periods at
                # most 7 days, and at most 1 day for periods under an hour
                if period % 60 or period > 604_800 or (period < 3600 and period > 86_400):
                    skipped.append(f"{name}: {c.metadata.name}: a {window} window is no alarm period CloudWatch "
                                   "takes")
                    names = {}
                    break
                alarm_name = f"{name}-{c.metadata.name}-{which}"
                names[which] = alarm_name
                out.append({"api": "put_metric_alarm", "slo": name, "rule": c.metadata.name, "window": period,
                            "threshold": float(cond.threshold), "request": {
                                "AlarmName": alarm_name,
                                "AlarmDescription": (f"SLO {name} (target {target:g}): burn rate over "
                                                     f"{period // 60} min >= {cond.threshold:g} ({which} window of "
                                                     f"{c.metadata.name}; rtanalytics)"),
                                "Metrics": [stat(first, period, "good" if rm.good is not None else "bad"),
                                            stat(rm.total, period, "total"),
                                            {"Id": "burn", "ReturnData": True, "Label": f"{name} burn rate",
                                             "Expression": f"{bad} / total / {1 - target:.10g}"}],
                                "ComparisonOperator": "GreaterThanOrEqualToThreshold" if cond.op == "gte"
                                else "GreaterThanThreshold",
                                "Threshold": float(cond.threshold), "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
                                "TreatMissingData": "notBreaching"}})
            if len(names) != 2:
                continue
            out.append({"api": "put_composite_alarm", "slo": name, "rule": c.metadata.name, "window": None,
                        "threshold": float(cond.threshold), "request": {
                            "AlarmName": f"{name}-{c.metadata.name}",
                            "AlarmDescription": (f"{c.spec.severity}: SLO {name} burning at >= {cond.threshold:g} "
                                                 f"over both {cond.lookbackWindow} and its short window (SRE "
                                                 "Workbook multiwindow alert; rtanalytics)"),
                            "AlarmRule": f'ALARM("{names["long"]}") AND ALARM("{names["short"]}")',
                            "ActionsEnabled": True}})
    return out, skipped


def slo_cloudformation(requests: list[dict]) -> dict:
    """The SLO alerts as a template: ``AWS::CloudWatch::Alarm`` (metric math) and ``AWS::CloudWatch::CompositeAlarm``
    (depending on its two alarms)."""
    taken: set = set()
    ids = {}
    resources = {}
    for r in requests:
        req = r["request"]
        lid = logical_id(req["AlarmName"], taken)
        ids[req["AlarmName"]] = lid
        if r["api"] == "put_metric_alarm":
            resources[lid] = {"Type": "AWS::CloudWatch::Alarm", "Properties": dict(req)}
        else:
            deps = [ids[n] for n in re.findall(r'ALARM\("([^"]+)"\)', req["AlarmRule"]) if n in ids]
            resources[lid] = {"Type": "AWS::CloudWatch::CompositeAlarm", "DependsOn": deps,
                              "Properties": {k: v for k, v in req.items() if k in (
                                  "AlarmName", "AlarmDescription", "AlarmRule", "ActionsEnabled")}}
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Description": "SLO burn-rate alerts (multiwindow, multi-burn-rate) exported by rtanalytics",
            "Resources": resources}


def write_slo_alerts(requests: list[dict], out_dir) -> list[Path]:
    out = Path(out_dir)
    (out / "slo-alerts").mkdir(parents=True, exist_ok=True)
    paths = []
    for r in requests:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", r["request"]["AlarmName"])
        p = out / "slo-alerts" / f"{safe}.{r['api'].replace('put_', '').replace('_', '-')}.json"
        atomic_write_text(p, json.dumps(r["request"], indent=2) + "\n")
        paths.append(p)
    tpl = slo_cloudformation(requests)
    problems = validate_cloudformation(tpl)
    if problems:
        raise ValueError("the CloudFormation template does not validate: " + "; ".join(problems))
    p = out / "slo-alerts.cfn.json"
    atomic_write_text(p, json.dumps(tpl, indent=2) + "\n")
    return paths + [p]


def application_signals_slos(environment: str = "demo", slos: list[str] | None = None, folder=None
                             ) -> tuple[list[dict], list[str]]:
    """Each request-based OpenSLO SLO (a ratio of good or bad to total counts) as a CloudWatch Application
    Signals ``CreateServiceLevelObjective`` request: the same metrics, the attainment goal, the window (rolling, or
    the calendar month/day), and a burn-rate configuration per window of its alert conditions. Checked against
    botocore's model of the API (:func:`validate_application_signals`). Returns ``(requests, skipped)``."""
    subs, oc, chosen, skipped = _request_based(environment, slos, folder)
    out = []
    for name, s, rm in chosen:

        def query(ref, qid):
            return [_metric_query(ref, subs, 60, qid, True)]

        tw = s.spec.timeWindow[0]
        if tw.isRolling:
            secs = int(parse_duration(tw.duration).total_seconds())
            unit, n = next((u, secs // d) for u, d in (("DAY", 86400), ("HOUR", 3600), ("MINUTE", 60))
                           if secs % d == 0)
            interval = {"RollingInterval": {"DurationUnit": unit, "Duration": int(n)}}
        else:
            u, n = tw.duration[-1], tw.duration[:-1]
            if u not in "Md" or not n.isdigit():
                skipped.append(f"{name}: calendar window {tw.duration} has no Application Signals interval")
                continue
            interval = {"CalendarInterval": {"StartTime": pd.Timestamp(tw.calendar.startTime).timestamp(),
                                             "DurationUnit": "MONTH" if u == "M" else "DAY", "Duration": int(n)}}
        windows = sorted({int(parse_duration(w).total_seconds() // 60) for c in oc.burn_conditions(s)
                          for w in (c.spec.condition.lookbackWindow, S.short_window(c.spec.condition.lookbackWindow))})
        monitored = {"GoodCountMetric": query(rm.good, "good")} if rm.good is not None else {
            "BadCountMetric": query(rm.bad, "bad")}
        out.append({"Name": name, "Description": (s.metadata.displayName or name)[:1024],
                    "RequestBasedSliConfig": {"RequestBasedSliMetricConfig": {
                        "TotalRequestCountMetric": query(rm.total, "total"),
                        "MonitoredRequestCountMetric": monitored}},
                    "Goal": {"Interval": interval, "AttainmentGoal": round(100 * float(s.spec.objectives[0].target), 6),
                             "WarningThreshold": 50.0},
                    "BurnRateConfigurations": [{"LookBackWindowMinutes": m} for m in windows]})
    return out, skipped


def validate_application_signals(request: dict) -> list[str]:
    """Problems with a CreateServiceLevelObjective request against botocore's model of the API (names, types,
    required members); empty when it would be accepted as written."""
    import botocore.session  # lazy: botocore loads only on the AWS paths
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("application-signals")
    report = ParamValidator().validate(request, model.operation_model("CreateServiceLevelObjective").input_shape)
    return [line.strip() for line in report.generate_report().splitlines() if line.strip()] if report.has_errors() \
        else []


def write_application_signals(requests: list[dict], out_dir) -> list[Path]:
    """``application-signals/NAME.json`` per SLO (``aws application-signals create-service-level-objective
    --cli-input-json``), each checked against the API model first."""
    out = Path(out_dir) / "application-signals"
    paths = []
    for r in requests:
        problems = validate_application_signals(r)
        if problems:
            raise ValueError(f"Application Signals SLO {r['Name']}: " + "; ".join(problems))
        out.mkdir(parents=True, exist_ok=True)
        p = out / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', r['Name'])}.json"
        atomic_write_text(p, json.dumps(r, indent=2) + "\n")
        paths.append(p)
    return paths
