"""Metric math and composite rules against values worked by hand, and a metric-math alarm replayed end to end."""

import numpy as np
import pandas as pd
import pytest

from rtanalytics.alarms import Alarm, CompositeAlarm, evaluate_states
from rtanalytics.metricmath import MathError, evaluate, parse, rule_children, rule_states

IDX = pd.date_range("2026-11-01", periods=5, freq="60s", tz="UTC")
NAN = np.nan


def s(*vals):
    return pd.Series([float(v) for v in vals], index=IDX)


M = {"errors": s(1, 2, NAN, 0, 5), "requests": s(100, 0, 50, 10, 50), "m3": s(3, 3, 3, NAN, 1)}


def vals(expr, **kw):
    return evaluate(expr, M, periods={"errors": 60, "requests": 60, "m3": 300}, index=IDX, **kw).tolist()


def same(a, b):
    return np.allclose(np.array(a, dtype=float), np.array(b, dtype=float), equal_nan=True)


@pytest.mark.parametrize("expr, expected", [
    # per timestamp; a series missing where the other has a datapoint counts as 0 (the User Guide: "Missing
    # values in a time series are treated as 0"); a division by zero is dropped (never inf, never 0)
    ("errors / requests * 100", [1.0, NAN, 0.0, 0.0, 10.0]),
    ("100 * errors / requests", [1.0, NAN, 0.0, 0.0, 10.0]),
    ("errors + requests - m3", [98, -1, 47, 10, 54]),
    ("-errors ^ 2", [-1, -4, NAN, 0, -25]),          # unary minus binds looser than ^
    ("TIME_SERIES(2 ^ 3 ^ 2)", [512] * 5),           # ^ is right-associative; TIME_SERIES fills the grid
    ("(errors + 1) * 2", [4, 6, NAN, 2, 12]),
    ("errors > 1", [0, 1, NAN, 0, 1]),
    ("errors >= 1 AND requests > 20", [1, 0, 0, 0, 1]),
    ("errors > 4 || requests == 0", [0, 1, 0, 0, 1]),
    ("errors == 0", [0, 0, NAN, 1, 0]),
    ("IF(requests > 20, errors / requests, 0)", [0.01, 0, 0, 0, 0.1]),
    ("IF(errors > 1, errors)", [NAN, 2, NAN, NAN, 5]),
    ("FILL(errors, 0)", [1, 2, 0, 0, 5]),
    ("FILL(errors, REPEAT)", [1, 2, 2, 0, 5]),
    ("FILL(errors, LINEAR)", [1, 2, 1, 0, 5]),
    ("FILL(errors, m3)", [1, 2, 3, 0, 5]),
    ("ABS(errors - 3)", [2, 1, NAN, 3, 2]),
    ("CEIL(errors / 4)", [1, 1, NAN, 0, 2]),
    ("SUM([errors, m3])", [4, 5, 3, 0, 6]),          # over an array: per timestamp, missing ones skipped
    ("MAX(METRICS())", [100, 3, 50, 10, 50]),
    ('SUM(METRICS("err"))', [1, 2, NAN, 0, 5]),
    ("AVG([errors, m3])", [2, 2.5, 1.5, 0, 3]),     # "Missing values are treated as 0"
    ("TIME_SERIES(SUM(errors))", [8] * 5),           # over one series: one number for the window
    ("errors / SUM(errors)", [1 / 8, 2 / 8, NAN, 0, 5 / 8]),
    ("DIFF(requests)", [NAN, -100, 50, -40, 40]),
    ("RATE(requests)", [NAN, -100 / 60, 50 / 60, -40 / 60, 40 / 60]),
    ("DIFF(errors)", [NAN, 1, NAN, -2, 5]),          # between consecutive real datapoints
    ("RUNNING_SUM(errors)", [1, 3, NAN, 3, 8]),
    ("errors / PERIOD(m3)", [1 / 300, 2 / 300, NAN, 0, 5 / 300]),
    ("TIME_SERIES(DATAPOINT_COUNT(errors))", [4] * 5),
])
def test_expressions_worked_by_hand(expr, expected):
    assert same(vals(expr), expected), (expr, vals(expr))


@pytest.mark.parametrize("expr, says", [
    ("SEARCH('{AWS/EC2} CPU', 'Average')", "SEARCH is not supported"),
    ('SEARCH("{AWS/EC2}", "Average", 300)', "SEARCH is not supported"),
    ("ANOMALY_DETECTION_BAND(errors, 2)", "ThresholdMetricId"),
    ("errors / nosuch", "no query with the id 'nosuch'"),
    ("FOO(errors)", "FOO is not a CloudWatch metric math function"),
    ("errors / ", "expected a number"),
    ("(errors + 1", "expected ')'"),
    ("METRICS() * 2", "gives 3 time series"),
    ("FILL(errors)", "FILL takes 2 arguments"),
])
def test_what_cannot_be_evaluated_says_what_and_where(expr, says):
    with pytest.raises(MathError, match=says.replace("(", r"\(").replace(")", r"\)")):
        vals(expr)


def test_composite_rules():
    a = np.array([0, 2, 2, 1, 0], dtype=np.int8)
    b = np.array([2, 2, 0, 0, 1], dtype=np.int8)
    st = {"high-errors": a, "slow": b}
    assert rule_states("ALARM(high-errors) AND ALARM(slow)", st).tolist() == [0, 2, 0, 0, 0]
    assert rule_states('ALARM("high-errors") OR ALARM(slow)', st).tolist() == [2, 2, 2, 0, 0]
    assert rule_states("ALARM(high-errors) AND NOT OK(slow)", st).tolist() == [0, 2, 0, 0, 0]
    assert rule_states("INSUFFICIENT_DATA(high-errors) OR (ALARM(slow) AND TRUE)", st).tolist() == [2, 2, 0, 2, 0]
    arn = "arn:aws:cloudwatch:us-west-1:123456789012:alarm:slow"
    assert rule_states(f"ALARM({arn})", st).tolist() == [2, 2, 0, 0, 0]
    assert rule_children(f'ALARM(high-errors) OR OK("{arn}") OR ALARM(high-errors)') == ["high-errors", "slow"]
    with pytest.raises(MathError, match="no alarm named 'other'"):
        rule_states("ALARM(other)", st)
    with pytest.raises(MathError, match="not a rule function"):
        rule_states("ABS(slow)", st)
    with pytest.raises(MathError, match="is not AND, OR or NOT"):
        rule_states("ALARM(slow) > 1", st)
    assert CompositeAlarm(AlarmName="c", AlarmRule=f"ALARM(high-errors) OR ALARM({arn})").children == [
        "high-errors", "slow"]


def _ratio_alarm(**kw):
    return Alarm.from_aws({
        "AlarmName": "error-ratio", "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "Metrics": [
            {"Id": "ratio", "Expression": "100 * errors / requests", "ReturnData": True, **kw},
            {"Id": "errors", "ReturnData": False, "MetricStat": {"Metric": {
                "Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": [{"Name": "LoadBalancer", "Value": "app/web/1"}]}, "Period": 60, "Stat": "Sum"}},
            {"Id": "requests", "ReturnData": False, "MetricStat": {"Metric": {
                "Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
                "Dimensions": [{"Name": "LoadBalancer", "Value": "app/web/1"}]}, "Period": 60, "Stat": "Sum"}},
        ]})


def test_a_metric_math_alarm_is_replayed_on_its_expression():
    a = _ratio_alarm()
    assert a.is_math and a.Period == 60 and [q.label for q in a.input_queries()] == ["error-ratio/errors",
                                                                                    "error-ratio/requests"]
    idx = pd.date_range("2026-11-01", periods=6, freq="60s", tz="UTC")
    frame = pd.DataFrame({"error-ratio/errors": [1, 8, 9, NAN, 7, 0],
                          "error-ratio/requests": [100, 100, 100, 100, 0, 100]}, index=idx, dtype=float)
    series = a.math_series(frame, idx)
    # 1 %, 8 %, 9 %, 0 % (no errors datapoint: "Missing values in a time series are treated as 0"), missing
    # (division by zero: "the data point is dropped"), 0 %
    assert same(series.tolist(), [1, 8, 9, 0, NAN, 0])
    # 2 of 3 over 5 %: ALARM once 8 and 9 are in (8, 9, 0 still 2 breaching); at the missing point the 3 most
    # recent real datapoints of the evaluation range decide (8, 9, 0: ALARM); at the end 9, 0, 0: OK
    assert evaluate_states(a, series.to_numpy()).tolist() == [0, 0, 2, 2, 2, 0]
    shorter = Alarm.model_validate({**a.model_dump(exclude_none=True), "DatapointsToAlarm": 3})
    assert evaluate_states(shorter, series.to_numpy()).tolist() == [0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("bad, says", [
    ({"Metrics": []}, "Metrics is empty"),
    ({"Namespace": "AWS/X"}, "takes no Namespace"),
    ({"extra_expr": "errors / nothing"}, "names nothing"),
    ({"second_return": True}, "exactly one item returns data"),
])
def test_bad_metric_math_alarms_are_refused_with_the_field(bad, says):
    d = _ratio_alarm().model_dump(exclude_none=True)
    d.pop("Period")
    if "Metrics" in bad and not bad["Metrics"]:
        d["Metrics"] = []
        d["Period"] = 60
    if "Namespace" in bad:
        d["Namespace"] = "AWS/X"
    if "extra_expr" in bad:
        d["Metrics"][0]["Expression"] = bad["extra_expr"]
    if "second_return" in bad:
        d["Metrics"][1]["ReturnData"] = True
    with pytest.raises(ValueError, match=says):
        Alarm.model_validate(d)


def test_parse_precedence():
    assert parse("a + b * c") == ("bin", "+", ("id", "a"), ("bin", "*", ("id", "b"), ("id", "c")))
    assert parse("a > 1 AND b < 2 OR c") == ("bin", "OR", ("bin", "AND", ("bin", ">", ("id", "a"), ("num", 1.0)),
                                                           ("bin", "<", ("id", "b"), ("num", 2.0))), ("id", "c"))
