"""Capacity forecasting on series with known truth, and the weekly performance analysis."""

import numpy as np
import pandas as pd
import pytest

from rtanalytics import capacity as C
from rtanalytics.reports.capacity import rating, run, weekly

NOW = "2026-11-20T00:00Z"


def synthetic(days=56, growth=0.02, level=100.0, noise=0.05, seed=1):
    idx = pd.date_range("2026-09-01", periods=days * 288, freq="5min", tz="UTC")
    t = np.arange(idx.size) / 288.0
    rng = np.random.default_rng(seed)
    y = level * (1 + 0.5 * np.sin(2 * np.pi * t)) * (1 + growth) ** (t / 7) * np.exp(noise * rng.standard_normal(t.size))
    return pd.Series(y, index=idx)


def test_forecast_recovers_growth_and_crossing():
    s = synthetic(growth=0.05)
    f = C.forecast(s, "30d")
    assert f.weekly_growth == pytest.approx(0.05, abs=0.005)
    # the daily peak is 150 x 1.05^(week); it reaches 240 when 1.05^w = 1.6 -> w = 9.63 weeks after the start
    expected = s.index[0] + pd.Timedelta(weeks=np.log(1.6) / np.log(1.05))
    tt = C.time_to_threshold(f, 240.0)
    assert abs((tt["expected"] - expected).total_seconds()) < 1.5 * 86400
    assert tt["earliest"] <= tt["expected"] <= tt["latest"]
    # what if traffic doubled: the crossing comes (much) earlier
    assert C.time_to_threshold(f, 240.0, growth=2.0)["expected"] < tt["expected"]


def test_backtest_scores_and_interval_coverage():
    bt = C.backtest(synthetic(noise=0.1))
    assert bt["mape_pct"] < 15
    assert 0.85 <= bt["coverage"] <= 1.0 and bt["nominal"] == 0.95


def test_too_little_data_is_a_clear_error():
    with pytest.raises(ValueError, match="too little data"):
        C.forecast(pd.Series([1.0, 2.0], index=pd.date_range("2026-01-01", periods=2, freq="5min", tz="UTC")), "1d")


def test_capacity_report_on_the_demo():
    r = run(now=NOW, end=NOW)
    t = r.table
    assert len(t) >= 15 and {"resource", "headroom_pct", "limit_expected x2"} <= set(t.columns)
    alb = t.set_index("resource").loc["ALB requests/s"]
    assert 0 < alb["headroom_pct"] < 100
    assert len(r.accuracy) == len(t) and r.accuracy["coverage"].between(0, 1).all()


def test_vitals_rating_bands():
    assert rating(2500, 2500, 4000) == "good" and rating(2501, 2500, 4000) == "needs improvement"
    assert rating(4001, 2500, 4000) == "poor" and rating(float("nan"), 1, 2) == "no data"


def test_weekly_report_on_the_demo():
    w = weekly(now=NOW, end="2026-11-20T00:00Z")
    assert len(w.response_daily) == 7
    assert (w.response_daily["maximum_s"] >= w.response_daily["average_s"]).all()
    core = w.vitals[w.vitals["kind"] == "Core Web Vital"]
    assert set(core["metric"]) == {"LargestContentfulPaint", "InteractionToNextPaint", "CumulativeLayoutShift"}
    assert len(core) == 18  # six pages x three Core Web Vitals (INP, not FID, since March 2024)
    fid = w.vitals[w.vitals["metric"] == "FirstInputDelay"]
    assert len(fid) == 6 and fid["kind"].str.startswith("legacy").all()  # shown because the data still has it
    inp = core[core["metric"] == "InteractionToNextPaint"].iloc[0]
    assert (inp["good_at_most"], inp["poor_above"]) == (200.0, 500.0)
    assert {"TimeToFirstByte", "PageLoadTime"} <= set(w.vitals["metric"])
    assert (w.vitals[w.vitals["metric"] == "PageLoadTime"]["rating"] == "—").all()
    assert set(w.business["metric"]) == {"RequestsSubmitted", "QuotesGenerated", "ProjectsCompleted"}
    v = w.volume.set_index("week")["requests"]
    assert v["this"] > 0 and v["previous"] > 0


def test_forecasts_admit_what_they_do_not_know():
    """Never negative; no weekly growth from under two weekly cycles; a seasonal-naive baseline and the skill
    beside every backtest; a backtest that cannot score says why."""
    idx = pd.date_range("2026-10-01", periods=10 * 288, freq="5min", tz="UTC")
    hour = idx.hour + idx.minute / 60
    falling = pd.Series(np.maximum(0.0, 50 - np.arange(len(idx)) * 0.02 + 5 * np.sin(2 * np.pi * hour / 24)),
                        index=idx, name="q")
    f = C.forecast(falling, "14d")
    assert (f.mean >= 0).all() and (f.lower >= 0).all()
    assert np.isnan(f.weekly_growth)  # 10 days: growth is not separable from the weekly cycle
    rng = np.random.default_rng(0)
    idx3 = pd.date_range("2026-09-01", periods=28 * 288, freq="5min", tz="UTC")
    h3 = idx3.hour + idx3.minute / 60
    daily = pd.Series(100 + 30 * np.sin(2 * np.pi * h3 / 24) + rng.normal(0, 2, len(idx3)), index=idx3, name="d")
    b = C.backtest(daily, "7d")
    assert {"naive_mape_pct", "skill"} <= set(b) and b["skill"] > 0  # the model beats repeating last week
    assert np.isfinite(C.forecast(daily, "7d").weekly_growth)
    with pytest.raises(ValueError, match="cannot hold out"):
        C.backtest(daily.iloc[:5 * 288], "7d")
    zeros = pd.Series(0.0, index=idx3, name="z")
    with pytest.raises(ValueError, match="no non-zero value"):
        C.backtest(zeros, "7d")


def test_business_metrics_funnel_target_and_quote_sizes(demo):
    """The seed's business metrics: requests against 100/day, the funnel requests -> quotes -> projects as ratios
    of sums, quote sizes in the collector's buckets, users; checked against the demo's own raw counts."""
    from rtanalytics.business import business
    from rtanalytics.timewindow import TimeWindow

    w = TimeWindow.parse("2026-11-13", "2026-11-20")
    b = business(demo, w)
    assert list(b.quote_sizes["range"]) == ["under 5k", "5k–25k", "25k–100k", "100k and over"]
    m0, m1 = int(w.start.timestamp()) // 60, int(w.end.timestamp()) // 60
    raw_req = sum(demo.raw_range(k, m0, m1)["k"].sum() for k in demo.by_key if k.startswith("biz.requests."))
    assert b.totals["RequestsSubmitted"] == raw_req
    assert b.totals["quote_rate"] == pytest.approx(b.totals["QuotesGenerated"] / raw_req)
    assert b.daily["request_target_met"].dtype == bool and b.totals["days"] == 7
    assert b.quote_sizes["quotes"].sum() == b.totals["QuotesGenerated"]
    assert b.quote_sizes.set_index("quote size").loc["Medium", "share"] > 0.4  # lognormal median 15k
    assert not b.missing


def test_least_squares_forecast_equals_statsmodels():
    """The capacity model's own least squares and prediction interval equal statsmodels' OLS / get_prediction
    (which the report no longer imports: 1.7 s of its run)."""
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    from rtanalytics.capacity import design, ols_forecast

    rng = np.random.default_rng(11)
    idx = pd.date_range("2026-09-01", periods=5000, freq="5min", tz="UTC")
    X = design(idx, idx[0])
    y = X @ rng.normal(size=X.shape[1]) + rng.normal(0, 0.3, idx.size)
    fut = pd.date_range(idx[-1] + pd.Timedelta(minutes=5), periods=600, freq="5min", tz="UTC")
    Xn = design(fut, idx[0])
    params, mean, lo, hi = ols_forecast(X, y, Xn, 0.05)
    ref = sm.OLS(y, X).fit()
    frame = ref.get_prediction(Xn).summary_frame(alpha=0.05)
    assert np.allclose(params, ref.params, rtol=1e-9, atol=1e-9)
    assert np.allclose(mean, frame["mean"], rtol=1e-9, atol=1e-9)
    assert np.allclose(lo, frame["obs_ci_lower"], rtol=1e-9, atol=1e-9)
    assert np.allclose(hi, frame["obs_ci_upper"], rtol=1e-9, atol=1e-9)


def test_the_forecast_method_is_chosen_on_the_series_own_last_week():
    """A shape the trend-and-cycles model cannot draw (a sharp weekly on/off pattern) is forecast by repeating
    the last season, chosen on the history's own last week and said so; a smooth growing series keeps the
    model; the backtest scores the method the forecast would have used."""
    idx = pd.date_range("2026-09-07", periods=35 * 288, freq="5min", tz="UTC")
    on = ((idx.day_of_week == 2) & (idx.hour >= 9) & (idx.hour < 11)).astype(float)
    rng = np.random.default_rng(1)
    sharp = pd.Series(10 + 500 * on + rng.normal(0, 0.5, len(idx)), index=idx, name="batch")
    f = C.forecast(sharp, "7d")
    assert f.method == "seasonal naive + trend" and "seasonal forecast is used" in f.why
    nxt = f.mean[(f.mean.index.day_of_week == 2) & (f.mean.index.hour == 10)]
    assert nxt.min() > 400  # next Wednesday's batch is in the forecast
    assert (f.lower <= f.mean).all() and (f.mean <= f.upper).all() and (f.lower >= 0).all()
    assert C.backtest(sharp, "7d")["method"] == "seasonal naive + trend"
    smooth = C.forecast(synthetic(growth=0.05), "30d")
    assert smooth.method.startswith("trend") and "model missed by" in smooth.why
    # chosen or not, the seasonal forecast carries the trend: a growing sharp pattern keeps growing
    grown = C.forecast(sharp * np.power(1.05, (sharp.index - sharp.index[0]) / pd.Timedelta(days=7)), "14d")
    week2 = grown.mean[grown.mean.index >= grown.mean.index[0] + pd.Timedelta(days=7)]
    assert grown.method == "seasonal naive + trend" and week2.max() > 1.03 * grown.mean.iloc[:len(week2)].max()
