"""Backtesting, what-if sweeps, routing and the audit, on the demo's ground truth and hand-made histories."""

import numpy as np
import pandas as pd
import pytest

from rtanalytics import backtest as bt
from rtanalytics.alarms import Alarm, load_alarms
from rtanalytics.timewindow import TimeWindow

W = TimeWindow.parse("2026-10-23", "2026-11-20")  # two scenario cycles: every incident twice


@pytest.fixture(scope="module")
def replay(demo):
    alarms = load_alarms()
    series = bt.alarm_series(alarms, demo, W)
    return alarms, series, demo.incidents(W)


def test_critical_error_rate_catches_every_deploy_regression(replay):
    alarms, series, inc = replay
    scores, det = bt.backtest(alarms, series, inc)
    row = scores.set_index("alarm").loc["RealTechee-Critical-Error-Rate"]
    deploys = det[(det["alarm"] == "RealTechee-Critical-Error-Rate") & det["incident"].str.startswith("deploy-5xx")]
    assert len(deploys) == 2 and deploys["detected"].all()
    # 2 of 2 five-minute periods: detection cannot be faster than the end of the 2nd period after onset
    assert (deploys["detection_minutes"] >= 5).all() and (deploys["detection_minutes"] <= 15).all()
    assert row["false_alarms"] == 0 and row["precision"] == 1.0
    # nothing in the catalog watches S3: the slow-s3 incidents are missed by every alarm
    s3 = det[det["incident"].str.startswith("slow-s3")]
    assert len(s3) and not s3["detected"].any()


def test_sweep_trades_detection_for_false_alarms(replay):
    alarms, series, inc = replay
    a = next(x for x in alarms if x.AlarmName == "RealTechee-Critical-Error-Rate")
    sw = bt.sweep(a, series[a.AlarmName], bt.relevant_incidents(a, inc), [0, 10, 40, 200], [(1, 1), (2, 2), (3, 3)])
    assert len(sw) == 12
    for (m, n), g in sw.groupby(["M", "N"]):
        eps = g.sort_values("threshold")["episodes"].to_numpy()
        assert (np.diff(eps) <= 0).all()  # a higher threshold never adds episodes
    assert sw[sw["threshold"] == 200]["detected"].sum() == 0
    assert sw[(sw["threshold"] == 0) & (sw["M"] == 1)]["false_alarms"].iloc[0] > 0  # too sensitive: noise pages


def test_audit_finds_the_known_problems(replay):
    alarms, series, _ = replay
    routing = bt.load_routing()
    bad = Alarm(AlarmName="misrouted", AlarmDescription="P0: outage", Namespace="N", MetricName="M",
                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                AlarmActions=["arn:aws:sns:us-west-1:1:RealTechee-Warning-Alerts"])
    f = bt.audit(alarms + [bad], routing, series)
    by = f.groupby("alarm")["finding"].apply(" | ".join)
    assert "overridden: AWS/DynamoDB alarms always ignore missing data" in by["database_connectivity_failure"]
    assert "earliest detection is 10 min" in by["RealTechee-Critical-Error-Rate"]
    assert "intended level Critical but AlarmActions go to ['Warning']" in by["misrouted"]
    assert "no OKActions" in by["misrouted"]
    assert "never breached" in by["RealTechee-Response-Time-Warning"]


def test_pages_off_hours_escalation_and_flapping():
    a = Alarm(AlarmName="crit", Namespace="N", MetricName="M", Statistic="Sum", Period=60, EvaluationPeriods=1,
              Threshold=1, ComparisonOperator="GreaterThanThreshold",
              AlarmActions=["arn:aws:sns:us-west-1:1:RealTechee-Critical-Alerts"])
    t = pd.Timestamp
    hist = pd.DataFrame({
        "timestamp": [t("2026-11-11T18:00Z"), t("2026-11-11T18:04Z"),   # Wed 10:00 PST: 4 min, no escalation
                      t("2026-11-12T10:00Z"), t("2026-11-12T10:30Z"),   # Thu 02:00 PST: off-hours, escalates
                      t("2026-11-13T20:00Z"), t("2026-11-13T20:05Z"), t("2026-11-13T20:20Z"),
                      t("2026-11-13T20:25Z"), t("2026-11-13T20:40Z"), t("2026-11-13T20:45Z")],
        "alarm": "crit", "from_state": None,
        "to_state": ["ALARM", "OK", "ALARM", "OK", "ALARM", "OK", "ALARM", "OK", "ALARM", "OK"], "reason": ""})
    p = bt.pages([a], hist, bt.load_routing())
    assert p["off_hours"].tolist() == [False, True, False, False, False]
    assert p["escalated"].tolist() == [False, True, False, False, False]
    st = bt.history_stats(hist).iloc[0]
    assert st["alarm_entries"] == 5 and st["flapping"] and st["mttr_minutes"] == pytest.approx((4 + 30 + 5 + 5 + 5) / 5)
    assert st["mtta_minutes"] is None  # CloudWatch history has no acknowledgements: unknown, not guessed


def test_the_seed_p0_application_unavailable_is_modelled_backtested_and_audited(demo):
    """3 of 3 failed 5-minute health probes (RealTechee/Health HealthCheckFailed, which the demo's probes publish)
    catches the deploy that breaks the application; the seed's names map to alarms; its non-SNS actions show in
    the audit."""
    from rtanalytics.alarms import load_alarms, seed_names
    from rtanalytics.reports import alarms as report

    names = seed_names()
    assert names["high_error_rate"] == "RealTechee-Critical-Error-Rate"
    assert names["application_unavailable"] in {a.AlarmName for a in load_alarms()}
    rep = report.run(now="2026-11-20T00:00Z")
    row = rep.scores.set_index("alarm").loc["application_unavailable"]
    assert row["detected"] >= 1 and row["false_alarms"] == 0
    assert set(rep.seed_mapping["seed alarm"]) == set(names)
    found = rep.audit[rep.audit["alarm"] == "database_connectivity_failure"]["finding"]
    assert found.str.contains("activate-read-only-mode").any()
