"""Closing the loop: alarms exported as AWS takes them, with their backtest, and accepted back (catalog, moto)."""

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from rtanalytics import export as X
from rtanalytics.alarms import Alarm, evaluate, load_alarms

from .conftest import NOW, ROOT


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    items = X.backtest_alarms(environment="demo", start="-14d", end=NOW, now=NOW)
    return items, X.write(items, out), out


def _strip(a: Alarm) -> dict:
    d = a.model_dump()
    d.pop("AlarmDescription")
    return d


def test_round_trip_through_the_catalog(exported):
    items, _, out = exported
    catalog = {a.AlarmName: a for a in load_alarms(environment="demo")}
    back = load_alarms(out / "alarms.yaml", environment="demo")
    assert [a.AlarmName for a in back] == list(catalog)
    for a in back:
        assert _strip(a) == _strip(catalog[a.AlarmName])  # the same alarm, field for field
        assert a.AlarmDescription.startswith(catalog[a.AlarmName].AlarmDescription + X.MARK)
        req = json.loads((out / "put-metric-alarm" / f"{a.AlarmName}.json").read_text())
        assert _strip(Alarm.model_validate(req)) == _strip(catalog[a.AlarmName])


def test_the_description_carries_the_backtest_computed_independently(exported):
    """The numbers in AlarmDescription are the alarms report's own scores over the same window."""
    from rtanalytics.reports import alarms as R

    items, _, _ = exported
    rep = R.run(start="-14d", end=NOW, now=NOW)
    scores = rep.scores.set_index("alarm")
    for it in items:
        s = scores.loc[it.alarm.AlarmName]
        assert f"detected {int(s['detected'])} of {int(s['incidents'])} incidents" in it.description()
        assert f"{int(s['false_alarms'])} false alarms" in it.description()
        if np.isfinite(s["detection_minutes"]):
            assert f"mean detection {s['detection_minutes']:.0f} min" in it.description()


def test_cloudformation_validates_and_bad_templates_are_caught(exported):
    _, _, out = exported
    tpl = json.loads((out / "alarms.cfn.json").read_text())
    assert X.validate_cloudformation(tpl) == []
    res = next(iter(tpl["Resources"].values()))
    assert res["Type"] == "AWS::CloudWatch::Alarm" and "backtest" in res["Metadata"]["rtanalytics"]
    assert res["Properties"]["AlarmActions"][0] == {
        "Fn::Sub": "arn:aws:sns:us-west-1:${AWS::AccountId}:RealTechee-Critical-Alerts"}
    bad = json.loads(json.dumps(tpl))
    lid = next(iter(bad["Resources"]))
    bad["Resources"][lid]["Properties"]["Treshold"] = 3  # a typo
    bad["Resources"][lid]["Properties"]["EvaluationPeriods"] = "2"
    del bad["Resources"][lid]["Properties"]["ComparisonOperator"]
    problems = " ".join(X.validate_cloudformation(bad))
    assert "Treshold is not a property" in problems and "EvaluationPeriods must be int" in problems
    assert "ComparisonOperator is required" in problems


def test_moto_accepts_the_requests_and_they_evaluate_like_the_backtest(exported, aws, demo):
    """put-metric-alarm with the exported JSON, DescribeAlarms, then the described alarms replayed over the demo
    history: the same states as the catalog's alarms."""
    from rtanalytics import backtest as bt
    from rtanalytics.timewindow import TimeWindow

    items, _, out = exported
    for it in items:
        req = json.loads((out / "put-metric-alarm" / f"{it.alarm.AlarmName}.json").read_text())
        req = json.loads(json.dumps(req).replace(":ACCOUNT:", ":123456789012:"))
        aws.call("cloudwatch", "put_metric_alarm", **req)
    described = {a["AlarmName"]: Alarm.from_aws(a) for a in aws.call("cloudwatch", "describe_alarms")["MetricAlarms"]}
    assert set(described) == {it.alarm.AlarmName for it in items}
    w = TimeWindow.parse("-3d", NOW, now=NOW)
    catalog = load_alarms(environment="demo")
    series = bt.alarm_series(catalog, demo, w, [])
    for a in catalog:
        d = described[a.AlarmName]
        assert d.Threshold == a.Threshold and d.EvaluationPeriods == a.EvaluationPeriods
        assert np.array_equal(evaluate(d, series[a.AlarmName]).codes, evaluate(a, series[a.AlarmName]).codes)


def test_a_variant_is_what_the_what_if_scored(tmp_path):
    """--variant threshold=5,m=1,n=1 exports the changed alarm with the backtest the what-if sweep gives it."""
    from rtanalytics.reports import alarms as R

    name = "RealTechee-Critical-Error-Rate"
    (it,) = X.backtest_alarms(start="-14d", end=NOW, now=NOW, alarm=name, variant="threshold=5,m=1,n=1")
    assert (it.alarm.Threshold, it.alarm.DatapointsToAlarm, it.alarm.EvaluationPeriods) == (5.0, 1, 1)
    rep = R.run(start="-14d", end=NOW, now=NOW, sweep_alarm=name, thresholds=[5.0])
    row = rep.sweep[(rep.sweep["M"] == 1) & (rep.sweep["N"] == 1)].iloc[0]
    assert it.result["detected"] == row["detected"] and it.result["false_alarms"] == row["false_alarms"]
    assert it.variant_of == name


@pytest.mark.parametrize("variant,needle", [("m=4,n=2", "DatapointsToAlarm cannot exceed"),
                                            ("threshold=abc", "is not a number"), ("x=1", "unknown key")])
def test_bad_variants_exit_2_naming_the_problem(variant, needle, tmp_path):
    r = subprocess.run([str(ROOT / ".venv/bin/rtanalytics"), "export", "alarms", "--alarm",
                        "RealTechee-Critical-Error-Rate", "--variant", variant, "--out", str(tmp_path / "x")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and needle in r.stderr and not (tmp_path / "x").exists()


# ----- SLO alerts out ---------------------------------------------------------------------------------------

def _replay(req_long, req_short, sli, target):
    """The exported pair replayed by our own alarm evaluator: each alarm's expression computed from the SLI's
    1-minute counts over its window (the sliding evaluation window reads the last window's sums), evaluated with
    the alarm's own operator, threshold and TreatMissingData, then the composite's AND."""
    idx = sli.index
    bad = pd.Series(sli.total - sli.good, index=idx)
    total = pd.Series(sli.total, index=idx)
    states = []
    for req in (req_long, req_short):
        w = f"{req['Metrics'][0]['MetricStat']['Period']}s"
        b, t = bad.rolling(w).sum(), total.rolling(w).sum()
        burn = (b / t.where(t > 0)) / (1 - target)  # no requests in the window: no datapoint
        a = Alarm(AlarmName=req["AlarmName"], Namespace="T", MetricName="burn", Statistic="Sum", Period=60,
                  EvaluationPeriods=req["EvaluationPeriods"], DatapointsToAlarm=req["DatapointsToAlarm"],
                  Threshold=req["Threshold"], ComparisonOperator=req["ComparisonOperator"],
                  TreatMissingData=req["TreatMissingData"])
        states.append(evaluate(a, burn).codes == 2)
    on = states[0] & states[1]
    d = np.diff(np.r_[0, on.astype(np.int8), 0])
    step = pd.Timedelta(seconds=sli.period_s)
    return [(idx[s] + step, idx[e] + step if e < len(idx) else pd.NaT)
            for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))]


def test_slo_alerts_replayed_fire_where_the_slo_report_simulates():
    from rtanalytics.reports import slo

    reqs, skipped = X.slo_alerts("demo")
    assert any("response-time-p95" in s and "threshold metric" in s for s in skipped)
    rep = slo.run(now=NOW, end=NOW)
    checked = 0
    for name in ("availability", "error-rate"):
        sli, target = rep.slis[name], rep.budgets[name].target
        for rule in ("page-fast-burn", "page-slow-burn", "ticket-burn"):
            mine = {r["request"]["AlarmName"]: r["request"] for r in reqs if r["slo"] == name and r["rule"] == rule}
            got = _replay(mine[f"{name}-{rule}-long"], mine[f"{name}-{rule}-short"], sli, target)
            sim = rep.alerts[(rep.alerts["slo"] == name) & (rep.alerts["rule"] == rule)]
            got = [(s, e) for s, e in got if rep.window.start <= s < rep.window.end]
            assert [s for s, _ in got] == list(sim["start"]), (name, rule)
            checked += len(got)
    assert checked > 0  # the demo's incidents do page


def test_slo_alerts_are_accepted_by_moto_and_the_template_validates(aws, tmp_path):
    reqs, _ = X.slo_alerts("demo", ["availability"])
    for r in reqs:
        if r["api"] == "put_metric_alarm":
            aws.call("cloudwatch", "put_metric_alarm", **r["request"])
    got = {a["AlarmName"]: a for a in aws.call("cloudwatch", "describe_alarms")["MetricAlarms"]}
    fast = got["availability-page-fast-burn-long"]
    assert fast["Threshold"] == 14.4 and {m["Id"] for m in fast["Metrics"]} == {"good", "total", "burn"}
    for r in reqs:
        if r["api"] == "put_composite_alarm":
            try:
                aws.call("cloudwatch", "put_composite_alarm", **r["request"])
            except Exception as e:  # moto may not model composite alarms: then the template must still hold them
                assert "put_composite_alarm" in str(e) or "Composite" in str(e) or "500" in str(e), e
    paths = X.write_slo_alerts(reqs, tmp_path)
    tpl = json.loads(paths[-1].read_text())
    assert X.validate_cloudformation(tpl) == []
    comp = [r for r in tpl["Resources"].values() if r["Type"] == "AWS::CloudWatch::CompositeAlarm"]
    assert len(comp) == 3 and all(len(c["DependsOn"]) == 2 for c in comp)
    assert 'ALARM("availability-page-fast-burn-long") AND ALARM("availability-page-fast-burn-short")' in [
        c["Properties"]["AlarmRule"] for c in comp]


def test_application_signals_slos_match_the_api_model():
    """Request-based SLOs as CreateServiceLevelObjective requests, accepted by botocore's model of the API; a
    broken one is caught; the goal, window and burn-rate windows are the OpenSLO SLO's own."""
    reqs, skipped = X.application_signals_slos("demo")
    by = {r["Name"]: r for r in reqs}
    assert set(by) == {"availability", "error-rate"} and any("response-time-p95" in s for s in skipped)
    for r in reqs:
        assert X.validate_application_signals(r) == [], r["Name"]
    a = by["availability"]
    assert a["Goal"]["AttainmentGoal"] == 99.9
    assert a["Goal"]["Interval"] == {"RollingInterval": {"DurationUnit": "DAY", "Duration": 30}}
    assert [c["LookBackWindowMinutes"] for c in a["BurnRateConfigurations"]] == [5, 30, 60, 360, 4320]
    assert "BadCountMetric" in by["error-rate"]["RequestBasedSliConfig"]["RequestBasedSliMetricConfig"][
        "MonitoredRequestCountMetric"]
    broken = json.loads(json.dumps(a))
    broken["Goal"]["Interval"]["RollingInterval"]["DurationUnit"] = 30
    del broken["Name"]
    problems = " ".join(X.validate_application_signals(broken))
    assert "Name" in problems and "DurationUnit" in problems
