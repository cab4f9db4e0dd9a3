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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .alarms import Alarm
from .errors import ParameterError

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
    from . import backtest as bt
    from .alarms import load_alarms
    from .reports.alarms import _incidents
    from .sources.evidence import open_source
    from .timewindow import TimeWindow

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


def validate_cloudformation(template: dict) -> list[str]:
    """Problems with a template's alarms against the documented resource properties (names, JSON types,
    required ones); an empty list means none."""
    out = []
    for lid, res in (template.get("Resources") or {}).items():
        if not re.fullmatch(r"[A-Za-z0-9]{1,255}", lid):
            out.append(f"{lid}: logical ids are alphanumeric")
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
        if "Statistic" in props and "ExtendedStatistic" in props:
            out.append(f"{lid}: give Statistic or ExtendedStatistic, not both")
    return out


def write(items: list[Backtested], out_dir: Path | str) -> list[Path]:
    """``put-metric-alarm/NAME.json`` per alarm, ``alarms.cfn.json`` and ``alarms.yaml`` (the catalog's format)
    into ``out_dir``; returns the files written."""
    import yaml

    from .reports.publish import atomic_write_text

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
