"""The demo source: determinism, CloudWatch-like statistics, missing data and injected incidents."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from rtanalytics.queries import MetricQuery
from rtanalytics.timewindow import TimeWindow

ALB = {"LoadBalancer": "RealTechee-ALB"}


def q(metric, stat, period=300, ns="AWS/ApplicationELB", dims=ALB):
    return MetricQuery(ns, metric, dims, stat, period)


def test_same_timestamp_same_value_whatever_the_window(demo):
    qs = [q("RequestCount", "Sum", 60), q("TargetResponseTime", "p95", 60)]
    a = demo.metrics(qs, TimeWindow.parse("2026-11-10T10:00Z", "2026-11-10T12:00Z"))
    b = demo.metrics(qs, TimeWindow.parse("2026-11-09T00:00Z", "2026-11-12T00:00Z"))
    from rtanalytics.sources.demo import DemoSource

    c = DemoSource(now="2026-11-20T00:00Z").metrics(qs, TimeWindow.parse("2026-11-10T11:00Z", "2026-11-10T11:30Z"))
    pd.testing.assert_frame_equal(a, b.loc[a.index])
    pd.testing.assert_frame_equal(c, a.loc[c.index])


def test_period_aggregation_is_consistent(demo):
    w = TimeWindow.parse("2026-11-10T00:00Z", "2026-11-11T00:00Z")
    five = demo.metrics([q("RequestCount", "Sum", 300), q("TargetResponseTime", "SampleCount", 300),
                         q("TargetResponseTime", "Sum", 300), q("TargetResponseTime", "Average", 300)], w)
    hour = demo.metrics([q("RequestCount", "Sum", 3600)], w)
    # sums add up across periods
    np.testing.assert_allclose(five.iloc[:, 0].resample("1h").sum().to_numpy(), hour.iloc[:, 0].to_numpy())
    # SampleCount of latency = number of requests; Average = Sum / SampleCount
    np.testing.assert_allclose(five.iloc[:, 1], five.iloc[:, 0])
    np.testing.assert_allclose(five.iloc[:, 3], five.iloc[:, 2] / five.iloc[:, 1])


def test_percentile_of_a_period_is_the_mixture_quantile(demo):
    w = TimeWindow.parse("2026-11-11T18:05Z", "2026-11-11T18:10Z")  # latency ramps up at 18:07
    p5 = demo.metrics([q("TargetResponseTime", "p95", 300)], w).iloc[0, 0]
    p1 = demo.metrics([q("TargetResponseTime", "p95", 60)], w).iloc[:, 0]
    # independent: solve the weighted lognormal mixture CDF = 0.95 from the raw per-minute parameters
    m0 = int(w.start.timestamp()) // 60
    raw = demo.raw_range("alb.latency", m0, m0 + 5)
    n, mu, s = raw["n"].astype(float), raw["mu"], raw["sigma"]
    f = lambda x: (n * norm.cdf((np.log(x) - mu) / s)).sum() / n.sum() - 0.95
    expected = brentq(f, 1e-4, 100, xtol=1e-10)
    assert p5 == pytest.approx(expected, rel=1e-6)
    assert p5 != pytest.approx(p1.mean(), rel=1e-3)  # not the mean of the 1-minute p95s


def test_alb_code_counts_are_absent_when_zero_and_add_up(demo):
    w = TimeWindow.parse("2026-11-10T03:00Z", "2026-11-10T09:00Z")
    df = demo.metrics([q("HTTPCode_Target_5XX_Count", "Sum", 60), q("HTTPCode_Target_2XX_Count", "Sum", 60),
                       q("HTTPCode_Target_4XX_Count", "Sum", 60), q("RequestCount", "Sum", 60),
                       q("HTTPCode_Target_5XX_Count", "Average", 60)], w)
    five = df.iloc[:, 0]
    assert five.isna().any() and not (five == 0).any()  # missing, never zero
    codes = df.iloc[:, :3].fillna(0).sum(axis=1)
    np.testing.assert_allclose(codes, df.iloc[:, 3])
    assert set(df.iloc[:, 4].dropna().unique()) == {1.0}  # unit samples: Average of a count is 1


def test_frames_honour_the_contract(demo):
    from rtanalytics.frames import check_metrics_frame

    df = demo.metrics([q("RequestCount", "Sum", 300), q("TargetResponseTime", "p99", 3600)],
                      TimeWindow.parse("2026-11-10T00:07Z", "2026-11-10T06:00Z"))
    check_metrics_frame(df)
    assert df.index[0] == pd.Timestamp("2026-11-10T00:07Z")  # GetMetricData's grid starts at the start time
    assert df.iloc[:, 1].notna().sum() == 6  # hourly values only on the hourly grid points


def test_nothing_after_now(demo):
    w = TimeWindow.parse("2026-11-19T23:00Z", "2026-11-20T01:00Z")
    df = demo.metrics([q("RequestCount", "Sum", 300)], w)
    assert df.loc[:"2026-11-19T23:55Z"].notna().all().all()
    assert df.loc["2026-11-20T00:00Z":].isna().all().all()


def test_unknown_metric_is_missing_not_zero(demo):
    df = demo.metrics([q("NoSuchMetric", "Sum")], TimeWindow.parse("2026-11-10", "2026-11-11"))
    assert df.iloc[:, 0].isna().all()


def test_incidents_show_in_metrics_logs_alarms_and_events(demo):
    w = TimeWindow.parse("2026-11-06", "2026-11-20")
    inc = demo.incidents(w)
    assert set(inc["incident"]) == {"deploy-5xx", "dynamodb-throttle", "lambda-timeout-storm", "slow-s3"}
    d = inc[inc["incident"] == "deploy-5xx"].iloc[0]
    during = TimeWindow(d["start"], d["end"])
    before = TimeWindow(d["start"] - pd.Timedelta(hours=2), d["start"])
    five = q("HTTPCode_Target_5XX_Count", "Sum", 300)
    assert demo.metrics([five], during).iloc[:, 0].sum() > 10 * max(demo.metrics([five], before).iloc[:, 0].sum(), 1)
    logs = demo.logs("/aws/amplify/RealTechee-Gen2/errors", during)
    assert (logs["error.name"] == "TypeError").sum() > 20
    ev = demo.events(TimeWindow(d["start"] - pd.Timedelta(minutes=10), d["end"]))
    assert (ev["kind"] == "deploy").any()
    hist = demo.alarm_history(w)
    fired = hist[(hist["alarm"] == "RealTechee-Critical-Error-Rate") & (hist["to_state"] == "ALARM")]
    assert ((fired["timestamp"] >= d["start"]) & (fired["timestamp"] <= d["end"])).any()


def test_logs_parse_winston_and_filter(demo):
    w = TimeWindow.parse("2026-11-13T15:00Z", "2026-11-13T17:00Z")
    df = demo.logs("/aws/amplify/RealTechee-Gen2", w, '{ $.error.name = "Provisioned*" }')
    assert len(df) > 10
    assert (df["category"] == "error").all() and (df["service"] == "realtechee").all()
    assert df["timestamp"].is_monotonic_increasing and str(df["timestamp"].dt.tz) == "UTC"


def test_alarm_history_does_not_depend_on_the_window(demo):
    a = demo.alarm_history(TimeWindow.parse("2026-11-11T12:03Z", "2026-11-12T00:00Z"))
    b = demo.alarm_history(TimeWindow.parse("2026-11-10T07:41Z", "2026-11-13T00:00Z"))
    b = b[(b["timestamp"] >= pd.Timestamp("2026-11-11T12:03Z")) & (b["timestamp"] < pd.Timestamp("2026-11-12T00:00Z"))]
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert (a["timestamp"].dt.minute % 5 == 0).all()  # 5-minute alarms change state on the clock's 5 minutes


def test_mixture_quantiles_of_many_groups_each_match_an_independent_root():
    """Groups converge at different iterations (each iteration works on the groups still solving only): every
    group's p50/p95/p99 is the root of its own mixture CDF, empty groups are NaN and one-minute groups closed-form."""
    from rtanalytics.sources.stats import dist_stat, group_starts

    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 61, 300)
    g = np.repeat(np.arange(sizes.size), sizes)
    m = g.size
    n = rng.poisson(rng.uniform(0, 30), m).astype(float)
    n[rng.random(m) < 0.1] = 0
    n[g == 5] = 0  # a period without samples
    mu, s = rng.normal(-1.5, 0.8, m), rng.uniform(0.05, 1.5, m)
    starts = group_starts(g)
    for p in (0.5, 0.95, 0.99):
        got = dist_stat(f"p{p * 100:g}", n, mu, s, starts)
        assert np.isnan(got[5]) and np.isfinite(np.delete(got, 5)).all()
        for k in rng.choice(np.delete(np.arange(sizes.size), 5), 40, replace=False):
            sel = g == k
            nk, mk, sk = n[sel], mu[sel], s[sel]
            f = lambda x: (nk * norm.cdf((np.log(x) - mk) / sk)).sum() / nk.sum() - p
            assert got[k] == pytest.approx(brentq(f, 1e-9, 1e6, xtol=1e-14, rtol=1e-13), rel=1e-9), (p, k)
