import pytest

from rtanalytics.frames import from_long, metrics_frame, to_long
from rtanalytics.queries import MetricQuery, normalize_stat, percentile_of


def test_stat_names():
    assert normalize_stat("avg") == "Average"
    assert normalize_stat("P95") == "p95"
    assert normalize_stat("p99.9") == "p99.9"
    assert normalize_stat("TM90") == "tm90"
    assert percentile_of("p95") == pytest.approx(0.95)
    with pytest.raises(ValueError, match="unknown statistic"):
        normalize_stat("median")


def test_query_roundtrip_and_identity():
    q = MetricQuery("AWS/ApplicationELB", "RequestCount", {"LoadBalancer": "RealTechee-ALB"}, "Sum", 300)
    q2 = MetricQuery.from_cloudwatch(q.to_cloudwatch())
    assert q2 == q
    assert q.to_cloudwatch()["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "LoadBalancer",
                                                                         "Value": "RealTechee-ALB"}]
    # dimension order does not change identity
    a = MetricQuery("AWS/DynamoDB", "SuccessfulRequestLatency", {"TableName": "t", "Operation": "Query"})
    b = MetricQuery("AWS/DynamoDB", "SuccessfulRequestLatency", [("Operation", "Query"), ("TableName", "t")])
    assert a.identity() == b.identity() and a.id == b.id


def test_query_rejects_bad_period_and_id():
    with pytest.raises(ValueError, match="period"):
        MetricQuery("N", "M", period=90)
    with pytest.raises(ValueError, match="lowercase"):
        MetricQuery("N", "M", id="Bad-Id")


def test_long_wide_roundtrip_keeps_missing():
    import numpy as np
    import pandas as pd

    idx = pd.date_range("2026-11-01", periods=4, freq="5min", tz="UTC")
    wide = metrics_frame({"a": [1.0, np.nan, 3.0, 4.0], "b": [np.nan, 2.0, np.nan, 5.0]}, idx)
    long = to_long(wide)
    assert len(long) == 5  # NaNs dropped, never zero
    back = from_long(long, labels=["a", "b"])
    pd.testing.assert_frame_equal(back, wide, check_freq=False)


def test_assemble_puts_off_grid_values_in_their_period():
    import numpy as np
    import pandas as pd

    from rtanalytics.sources.base import assemble
    from rtanalytics.timewindow import TimeWindow

    q = MetricQuery("N", "M", {}, "Sum", 300, label="x")
    w = TimeWindow.parse("2026-11-01T00:03Z", "2026-11-01T00:30Z")  # grid 00:03, 00:08, ...
    # CloudWatch rounded the start of old data to 5 minutes: values come stamped 00:00, 00:05, ...
    s = pd.Series([1.0, 2.0, 3.0], index=pd.to_datetime(["2026-11-01T00:05Z", "2026-11-01T00:10Z",
                                                          "2026-11-01T00:20Z"]))
    df = assemble({"x": s}, [q], w)
    assert df.index[0] == pd.Timestamp("2026-11-01T00:03Z")
    v = df["x"].to_numpy()
    assert v[0] == 1.0 and v[1] == 2.0 and np.isnan(v[2]) and v[3] == 3.0 and np.isnan(v[4:]).all()
