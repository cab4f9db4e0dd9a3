"""Every statistic CloudWatch defines, as the User Guide defines it ("CloudWatch statistics definitions",
awsdocs/amazon-cloudwatch-user-guide doc_source/Statistics-definitions.md at 20a560c1): the spelling, the range
rules, worked values on raw datapoints, and the demo's closed forms against numeric integration."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from rtanalytics.alarms import Alarm
from rtanalytics.queries import MetricQuery, normalize_stat, parse_stat
from rtanalytics.sources.stats import binary_stat, dist_stat, event_stat, gauge_stat, group_starts


@pytest.mark.parametrize("given, canonical, sentence", [
    ("tm90", "tm90", "tm90 calculates the average after removing the 10% of data points with the highest values"),
    ("TM(2%:98%)", "TM(2%:98%)", "TM(2%:98%) calculates the average after removing the 2% lowest data points and "
                                 "the 2% highest data points"),
    ("TM(150:1000)", "TM(150:1000)", "TM(150:1000) calculates the average after removing all data points that are "
                                     "lower than or equal to 150, or higher than 1000"),
    ("IQM", "IQM", "Interquartile mean (IQM) ... It is equivalent to TM(25%:75%)."),
    ("wm98", "wm98", "wm98 calculates the average while treating the 2% of the highest values to be equal to the "
                     "value at the 98th percentile"),
    ("WM(10%:90%)", "WM(10%:90%)", "WM(10%:90%)"),
    ("PR(:300)", "PR(:300)", "PR(:300) returns the percentage of data points that have a value of 300 or less"),
    ("PR(100:2000)", "PR(100:2000)", "PR(100:2000) returns the percentage of data points that have a value between "
                                     "100 and 2000"),
    ("tc90", "tc90", "tc90 returns the number of data points not including any data points that fall in the highest "
                     "10% of the values"),
    ("TC(0.005:0.030)", "TC(0.005:0.03)", "TC(0.005:0.030) returns the number of data points with values between "
                                          "0.005 (exclusive) and 0.030 (inclusive)"),
    ("ts90", "ts90", "ts90 returns the sum of the data points not including any data points that fall in the highest "
                     "10% of the values"),
    ("TS(80%:)", "TS(80%:)", "TS(80%:) returns the sum of the data point values, not including any data points with "
                             "values in the lowest 80%"),
    ("TM(:95%)", "TM(:95%)", "TM(:95%) uses the values from the lowest end of the data set up to the 95th percentile"),
    ("TC(80:500)", "TC(80:500)", "TC(80:500) uses only the values that are between 80 (exclusive) and 500 (inclusive)"),
    ("TM(0.0000000001%:99.9999999999%)", "TM(0.0000000001%:99.9999999999%)",
     "You define the boundaries as one or two numbers between 0 and 100, up to 10 decimal places."),
    ("p99.9", "p99.9", "Percentile (p)"),
])
def test_every_spelling_the_page_uses_is_read(given, canonical, sentence):
    assert normalize_stat(given) == canonical, sentence
    MetricQuery("AWS/ApplicationELB", "TargetResponseTime", stat=given)  # a query takes it
    assert Alarm(AlarmName="a", Namespace="AWS/X", MetricName="m", ExtendedStatistic=given, Period=60,
                 EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold").ExtendedStatistic \
        == canonical


@pytest.mark.parametrize("bad", ["TM(:)", "TM(10%:90)", "PR(:50%)", "TM(90%:10%)", "p101", "TM(10%:101%)", "XM(1:2)"])
def test_what_is_not_a_statistic_is_refused(bad):
    with pytest.raises(ValueError):
        normalize_stat(bad)


def test_a_simple_statistic_is_not_an_extended_one():
    with pytest.raises(ValueError, match="goes in Statistic"):
        Alarm(AlarmName="a", Namespace="AWS/X", MetricName="m", ExtendedStatistic="Average", Period=60,
              EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")


def test_units_follow_the_statistic():
    assert parse_stat("PR(:3)").unit("Seconds") == "Percent"
    assert parse_stat("TC(:3)").unit("Seconds") == "Count"
    assert parse_stat("TM(10%:90%)").unit("Seconds") == "Seconds"


def _raw(stat, values):
    v = np.asarray(values, dtype=float)
    group = np.zeros(v.size, dtype=np.int64)
    return float(gauge_stat(stat, v, group, group_starts(group))[0])


@pytest.mark.parametrize("stat, values, expected, why", [
    ("TM(10%:90%)", range(1, 11), 5.5, "the lowest and the highest of ten removed: mean of 2..9"),
    ("tm90", range(1, 11), 5.0, "the highest 10 % removed: mean of 1..9"),
    ("tc90", range(1, 11), 9, "the highest 10 % removed: nine datapoints"),
    ("ts90", range(1, 11), 45, "sum of 1..9: trimmed mean times trimmed count"),
    ("TS(80%:)", range(1, 11), 19, "the lowest 80 % removed: 9 + 10"),
    ("WM(10%:90%)", range(1, 11), 5.5, "1 counted as 2 and 10 as 9"),
    ("wm90", range(1, 11), 5.4, "10 counted as 9"),
    ("IQM", range(1, 9), 4.5, "the middle 50 % of 1..8: 3, 4, 5, 6"),
    ("TM(150:1000)", [100, 150, 151, 1000, 1001], 575.5, "150 and below, and above 1000, removed"),
    ("TC(80:500)", [80, 81, 500, 501], 2, "80 exclusive, 500 inclusive"),
    ("TC(:0.5)", [0.1, 0.5, 0.6], 2, "TC(:0.5) uses only the values that equal 0.5 or are lower"),
    ("PR(:300)", [100, 200, 300, 400], 75.0, "the percentage of data points that have a value of 300 or less"),
    ("PR(100:2000)", [100, 200, 2000, 2001], 50.0, "between 100 and 2000"),
    ("WM(2:3)", [1, 2.5, 4], 2.5, "a fixed range: the values outside count as its edges, 2 and 3"),
    ("p50", [1, 2, 3, 4], 2.5, "percentile by linear interpolation of the order statistics"),
])
def test_statistics_of_raw_datapoints_worked_by_hand(stat, values, expected, why):
    assert _raw(stat, values) == pytest.approx(expected), why


@pytest.mark.parametrize("stat", ["tm90", "TM(10%:90%)", "TS(80%:)", "tc70", "WM(20%:90%)", "IQM", "PR(:0.5)",
                                  "TC(0:1)", "TS(0.5:2)", "TM(:0)", "WM(0.2:0.7)"])
def test_zeros_and_ones_agree_with_their_raw_datapoints(stat):
    # Lambda Errors: n samples of which k are 1 (binary), ALB RequestCount: k samples of 1 (event)
    for k in (0, 3, 7, 10):
        raw = [0.0] * (10 - k) + [1.0] * k
        starts = np.array([0])
        got = float(binary_stat(stat, np.array([10]), np.array([k]), starts)[0])
        want = _raw(stat, raw)
        assert (np.isnan(got) and np.isnan(want)) or got == pytest.approx(want), (stat, k)
    ones = float(event_stat(stat, np.array([10]), np.array([0]))[0])
    want = _raw(stat, [1.0] * 10)
    assert (np.isnan(ones) and np.isnan(want)) or ones == pytest.approx(want), stat


def _mixture(n, mu, sigma):
    comps = [stats.lognorm(s=s, scale=np.exp(m)) for m, s in zip(mu, sigma)]
    w = np.asarray(n, float) / np.sum(n)
    cdf = lambda x: sum(wi * c.cdf(x) for wi, c in zip(w, comps))  # noqa: E731
    pdf = lambda x: sum(wi * c.pdf(x) for wi, c in zip(w, comps))  # noqa: E731
    q = lambda p: optimize.brentq(lambda x: cdf(x) - p, 1e-12, 1e6, xtol=1e-14, rtol=1e-14)  # noqa: E731
    return cdf, pdf, q


def _integral(f, a, b):
    # split at the decades so that quad sees the mass wherever it lies
    pts = [a] + [x for x in (0.01, 0.1, 0.3, 1, 3, 10, 30, 100) if a < x < b] + [b]
    return sum(integrate.quad(f, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=200)[0] for lo, hi in zip(pts, pts[1:]))


@pytest.mark.parametrize("stat", ["TM(10%:90%)", "tm99", "IQM", "WM(5%:95%)", "wm98", "TC(:0.5)", "TC(0.2:1)",
                                  "tc90", "TS(:0.5)", "ts90", "TS(80%:)", "PR(:0.3)", "PR(0.2:1)", "TM(0.1:0.5)",
                                  "WM(0.1:0.6)"])
def test_the_demos_latency_statistics_match_numeric_integration(stat):
    # three minutes of latencies in one 3-minute period: a lognormal mixture weighted by each minute's requests
    n, mu, sigma = np.array([120.0, 40.0, 300.0]), np.array([-1.2, -0.4, -1.6]), np.array([0.5, 0.8, 0.35])
    starts = np.array([0])
    got = float(dist_stat(stat, n, mu, sigma, starts)[0])
    cdf, pdf, q = _mixture(n, mu, sigma)
    N, st = n.sum(), parse_stat(stat)
    if st.percent:
        fa, fb = st.fractions()
        a, b = (q(fa) if fa > 0 else 0.0), (q(fb) if fb < 1 else np.inf)
    else:
        a, b = (st.lo or 0.0), (np.inf if st.hi is None else st.hi)
    hi_int = min(b, 1e4)
    mass = cdf(hi_int) - cdf(a)
    part = _integral(lambda x: x * pdf(x), a, hi_int)
    want = {"tm": part / mass, "tc": N * mass, "ts": N * part, "pr": 100 * mass,
            "wm": part + cdf(a) * a + (1 - cdf(hi_int)) * (b if np.isfinite(b) else 0.0)}[st.kind]
    assert got == pytest.approx(want, rel=1e-6, abs=1e-9), (stat, got, want)


def test_the_demo_serves_every_statistic_and_they_agree(tmp_path):
    from rtanalytics.sources.demo import DemoSource
    from rtanalytics.timewindow import TimeWindow

    src = DemoSource()
    q = next(q for q in _demo_latency_queries(src))
    win = TimeWindow.parse("2026-11-02T00:00Z", "2026-11-02T06:00Z")
    qs = [q.with_(stat=s, label=s) for s in ("SampleCount", "TC(:1)", "PR(:1)", "p95", "PR(:100000)", "IQM",
                                               "TM(25%:75%)")]
    df = src.metrics(qs, win)
    assert df["PR(:1)"].between(0, 100).all() and df["PR(:1)"].notna().all()
    assert np.allclose(df["TC(:1)"] / df["SampleCount"] * 100, df["PR(:1)"])
    assert np.allclose(df["PR(:100000)"], 100.0)
    assert np.allclose(df["IQM"], df["TM(25%:75%)"])
    # PR at the period's own p95 value is 95 %, whichever period: PR and p are inverse functions
    row = df.iloc[5]
    pr = src.metrics([q.with_(stat=f"PR(:{row['p95']:.10f})", label="x")], win)["x"].iloc[5]
    assert pr == pytest.approx(95.0, abs=1e-4)


def _demo_latency_queries(src):
    from rtanalytics.queries import MetricQuery as Q
    yield Q("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": _first_lb(src)}, stat="Average", period=300)


def _first_lb(src):
    for m in src.list_metrics(namespace="AWS/ApplicationELB", metric="TargetResponseTime"):
        return dict(m.dimensions)["LoadBalancer"]
    raise AssertionError("the demo has no ALB latency")


def test_an_export_with_extended_statistics_is_read(tmp_path):
    # aws cloudwatch get-metric-statistics --extended-statistics p99 "TM(10%:90%)" "PR(:0.5)" (the CLI's output)
    pts = [{"Timestamp": f"2026-11-02T00:0{i}:00Z", "SampleCount": 100.0,
            "ExtendedStatistics": {"p99": 1.0 + i, "TM(10%:90%)": 0.2 + i, "PR(:0.5)": 90.0 - i}, "Unit": "Seconds"}
           for i in range(5)]
    (tmp_path / "latency.json").write_text(json.dumps({"Label": "TargetResponseTime", "Datapoints": pts}))
    from rtanalytics.sources.files import FilesSource
    from rtanalytics.timewindow import TimeWindow

    src = FilesSource(path=tmp_path)
    win = TimeWindow.parse("2026-11-02T00:00Z", "2026-11-02T00:05Z")
    qs = [MetricQuery("AWS/ApplicationELB", "TargetResponseTime", stat=s, period=60, label=s)
          for s in ("p99", "tm(10%:90%)", "PR(:0.5)")]
    df = src.metrics(qs, win)
    assert df["p99"].tolist() == [1, 2, 3, 4, 5]
    assert df["tm(10%:90%)"].tolist() == pytest.approx([0.2, 1.2, 2.2, 3.2, 4.2])
    assert df["PR(:0.5)"].tolist() == [90, 89, 88, 87, 86]


def test_a_dashboard_widget_takes_every_statistic():
    from rtanalytics.dashboards import parse
    body = {"widgets": [{"type": "metric", "properties": {"region": "us-west-1", "period": 300, "metrics": [
        ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", "app/web/1", {"stat": "PR(:3)"}],
        [".", ".", ".", ".", {"stat": "tm(10%:90%)"}],
        [".", ".", ".", ".", {"stat": "IQM"}]]}}]}
    stats_ = [m.query.stat for w in parse(body) for m in w.metrics]
    assert stats_ == ["PR(:3)", "TM(10%:90%)", "IQM"]
