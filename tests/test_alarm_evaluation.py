"""The alarm evaluator against the AWS documentation's tables.

Source: "Configuring how CloudWatch alarms treat missing data", section "How alarm state is evaluated when data
is missing", and "Avoiding premature transitions to alarm state"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
In the tables 0 is a non-breaching datapoint, X a breaching one and - a missing one, newest on the right;
the evaluation range is 5.
"""

import numpy as np
import pandas as pd
import pytest

from rtanalytics.alarms import Alarm, evaluate, evaluate_loop, evaluate_once, evaluate_states

RETAIN = "retain"

TABLE_3_OF_3 = [  # Datapoints to Alarm = Evaluation Periods = 3
    ("0 - X - X", "OK", "OK", "OK", "OK"),
    ("0 - - - -", "OK", "OK", "OK", "OK"),
    ("- - - - -", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),
    ("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("- - X - -", "ALARM", RETAIN, "ALARM", "OK"),
]
TABLE_2_OF_3 = [  # Datapoints to Alarm = 2, Evaluation Periods = 3
    ("0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 - X - -", "OK", "OK", "ALARM", "OK"),
    ("- - - - 0", "OK", "OK", "ALARM", "OK"),
    ("- - - X -", "ALARM", RETAIN, "ALARM", "OK"),
]
MODES = ["missing", "ignore", "breaching", "notBreaching"]


def alarm(m, mode, namespace="Test/NS"):
    return Alarm(AlarmName="t", Namespace=namespace, MetricName="Errors", Statistic="Sum", Period=300,
                 EvaluationPeriods=3, DatapointsToAlarm=m, Threshold=10, ComparisonOperator="GreaterThanThreshold",
                 TreatMissingData=mode)


def values(pattern):
    return [{"0": 1.0, "X": 50.0, "-": np.nan}[c] for c in pattern.split()]


def cases():
    for m, table in ((3, TABLE_3_OF_3), (2, TABLE_2_OF_3)):
        for row in table:
            for mode, expected in zip(MODES, row[1:]):
                yield m, row[0], mode, expected


@pytest.mark.parametrize("m,pattern,mode,expected", list(cases()))
@pytest.mark.parametrize("current", ["OK", "ALARM"])
def test_documented_table_rows(m, pattern, mode, expected, current):
    a = alarm(m, mode)
    want = current if expected == RETAIN else expected
    assert evaluate_once(a, values(pattern), current) == want  # the rules as written
    # the vectorised evaluator on the same 5 datapoints, entering the last evaluation in `current`
    codes = evaluate_states(a, np.array(values(pattern)), initial_state={"OK": 0, "ALARM": 2}[current])
    prev = ["OK", "INSUFFICIENT_DATA", "ALARM"][codes[-2]]
    want_vec = prev if expected == RETAIN else expected
    assert ["OK", "INSUFFICIENT_DATA", "ALARM"][codes[-1]] == want_vec


def test_dynamodb_alarms_always_ignore_missing_data():
    a = alarm(3, "notBreaching", namespace="AWS/DynamoDB")
    assert a.effective_treat_missing == "ignore"
    assert evaluate_once(a, values("- - - - -"), "ALARM") == "ALARM"  # stays, whatever TreatMissingData says


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("m,n", [(1, 1), (2, 3), (3, 3), (2, 5), (4, 5)])
def test_vectorised_equals_the_loop_reference(mode, m, n):
    rng = np.random.default_rng(7 + m * 10 + n)
    v = rng.choice([1.0, 50.0, np.nan], size=3000, p=[0.5, 0.2, 0.3])
    v[1000:1040] = np.nan  # a long gap
    a = Alarm(AlarmName="t", Namespace="N", MetricName="M", Statistic="Sum", Period=60, EvaluationPeriods=n,
              DatapointsToAlarm=m, Threshold=10, ComparisonOperator="GreaterThanThreshold", TreatMissingData=mode)
    vec = ["OK", "INSUFFICIENT_DATA", "ALARM"]
    got = [vec[c] for c in evaluate_states(a, v)]
    assert got == evaluate_loop(a, list(v))


def test_band_operator_and_reason_text():
    idx = pd.date_range("2026-11-11T18:00Z", periods=6, freq="5min")
    s = pd.Series([5, 5, 30, 35, 5, 5], index=idx, dtype=float)
    band = pd.DataFrame({"lower": 2.0, "upper": 20.0}, index=idx)
    a = Alarm(AlarmName="band", Namespace="N", MetricName="M", Statistic="Average", Period=300,
              EvaluationPeriods=2, DatapointsToAlarm=2, ThresholdMetricId="ad1",
              ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold")
    ev = evaluate(a, s, band=band)
    t = ev.timeline
    assert t["to_state"].tolist() == ["OK", "ALARM", "OK"]
    assert t.iloc[1]["timestamp"] == pd.Timestamp("2026-11-11T18:20Z")  # evaluated when 18:15's period ended
    b = Alarm(**{**a.model_dump(exclude={"ThresholdMetricId"}), "ComparisonOperator": "GreaterThanThreshold",
                 "Threshold": 20.0})
    r = evaluate(b, s).timeline.iloc[1]["reason"]
    assert r == ("Threshold Crossed: 2 out of the last 2 datapoints [35.0 (11/11/26 18:15:00), 30.0 (11/11/26 "
                 "18:10:00)] were greater than the threshold (20.0) (minimum 2 datapoints for OK -> ALARM "
                 "transition).")


def test_low_sample_count_percentiles_keep_state():
    idx = pd.date_range("2026-11-11", periods=4, freq="5min")
    s = pd.Series([5.0, 5.0, 9.0, 9.0], index=idx)
    counts = pd.Series([5000, 5000, 3, 3], index=idx)  # p99 needs 1000 samples
    a = Alarm(AlarmName="p", Namespace="N", MetricName="M", ExtendedStatistic="p99", Period=300,
              EvaluationPeriods=1, Threshold=8.0, ComparisonOperator="GreaterThanThreshold",
              EvaluateLowSampleCountPercentile="ignore")
    assert evaluate(a, s, sample_counts=counts).states["state"].tolist() == ["OK", "OK", "OK", "OK"]
    a2 = Alarm(**{**a.model_dump(), "EvaluateLowSampleCountPercentile": "evaluate"})
    assert evaluate(a2, s, sample_counts=counts).states["state"].tolist()[-1] == "ALARM"


def test_a_plain_dict_and_bad_definitions():
    ev = evaluate({"AlarmName": "d", "Namespace": "N", "MetricName": "M", "Statistic": "Sum", "Period": 60,
                   "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"},
                  pd.Series([0.0, 2.0], index=pd.date_range("2026-01-01", periods=2, freq="1min", tz="UTC")))
    assert ev.transitions["to_state"].tolist() == ["OK", "ALARM"]
    with pytest.raises(ValueError, match="DatapointsToAlarm cannot exceed EvaluationPeriods"):
        Alarm(AlarmName="x", Namespace="N", MetricName="M", Statistic="Sum", Period=60, EvaluationPeriods=1,
              DatapointsToAlarm=2, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    with pytest.raises(ValueError, match="ExtendedStatistic"):
        Alarm(AlarmName="x", Namespace="N", MetricName="M", Statistic="p95", Period=60, EvaluationPeriods=1,
              Threshold=1, ComparisonOperator="GreaterThanThreshold")


def test_shared_series_preparation_gives_the_same_states():
    """evaluate_many (alarms on one series sharing its preparation) equals evaluating each alone, for every
    missing-data mode and M of N, on a series with gaps."""
    import numpy as np

    from rtanalytics.alarms import Alarm, evaluate_many, evaluate_states

    rng = np.random.default_rng(7)
    v = rng.gamma(2.0, 3.0, 5000)
    v[rng.random(5000) < 0.35] = np.nan
    v[1000:1040] = np.nan
    alarms = [Alarm(AlarmName=f"a{i}", Namespace="T", MetricName="m", Statistic="Sum", Period=60,
                    EvaluationPeriods=n, DatapointsToAlarm=m, Threshold=float(t), TreatMissingData=mode,
                    ComparisonOperator="GreaterThanThreshold")
              for i, (n, m, t, mode) in enumerate((n, m, t, mode) for n in (1, 3, 5) for m in range(1, n + 1)
                                                  for t in (4.0, 9.0) for mode in ("missing", "ignore", "breaching",
                                                                                   "notBreaching"))]
    shared = evaluate_many(alarms, v)
    for a, st in zip(alarms, shared):
        assert np.array_equal(st, evaluate_states(a, v)), a.AlarmName
    assert {int(x) for st in shared for x in np.unique(st)} == {0, 1, 2}  # every state occurs somewhere
