"""Damaged AWS answers on loopback: a proxy in front of moto server cuts, truncates, empties or replaces the
answers of every API the sources call. An answer the API could not have sent is a fault — retried, then missing
data with the reason — never "no data", never zero, never cached.

The case that started it: botocore parses a JSON body cut short as ``{}`` with no error, and a ``GetMetricData``
answer of ``{}`` used to read as every query complete and empty — a 5XX count that CloudWatch publishes only when
non-zero became ``error_rate 0.0 %``, ``ok``, and the cache stored the zeros for good.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtanalytics.errors import SourceError
from rtanalytics.sources.aws import AwsContext, damage
from rtanalytics.sources.cache import CachedSource
from rtanalytics.sources.cloudwatch import CloudWatchSource
from rtanalytics.timewindow import TimeWindow

from .aws_helpers import DAMAGES, FaultProxy, session
from .test_cloudwatch import expected, queries, seed_metrics

ALL = (*DAMAGES, "close", "http500", "http503")


@pytest.fixture
def window():
    start = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=3)
    return TimeWindow(start, start + pd.Timedelta(minutes=60))


def ctx(url, **kw):
    return AwsContext(region="us-west-1", endpoint_url=url, session=session(), max_attempts=2, read_timeout=5, **kw)


def only(api: str, fault: str, first_n: int | None = None):
    """A plan: ``fault`` for requests of ``api`` (every one, or the first ``first_n`` of them)."""
    seen = {"n": 0}

    def plan(n, body, headers):
        target = headers.get("X-Amz-Target", "") + " " + body.decode("utf-8", "replace")[:200]
        if api not in target:
            return None
        seen["n"] += 1
        return fault if first_n is None or seen["n"] <= first_n else None
    return plan


@pytest.mark.parametrize("fault", ALL)
def test_a_damaged_get_metric_data_answer_is_missing_never_zero_and_never_cached(aws, moto_server, window,
                                                                                   tmp_path, fault):
    seed_metrics(aws, 2, 60, window.start)
    proxy = FaultProxy(moto_server.port, only("GetMetricData", fault))
    try:
        inner = CloudWatchSource("demo", context=ctx(proxy.url))
        cached = CachedSource(inner, cache_dir=tmp_path, now=window.end + pd.Timedelta(hours=30))
        df = cached.metrics(queries(2), window)
    finally:
        proxy.stop()
    incomplete = df.attrs.get("incomplete", {})
    if fault == "drop_result":  # the last query's result is gone: that one is missing, the other is data
        assert set(incomplete) == {df.columns[1]} and "no result for this query" in incomplete[df.columns[1]]
        np.testing.assert_array_equal(df.iloc[:, 0].to_numpy(), expected(0, 60))
        assert df.iloc[:, 1].isna().all()
    else:
        assert set(incomplete) == set(df.columns), incomplete
        assert df.isna().all().all()  # missing, never zero
    # nothing of the damaged answer was cached: a clean second run fetches what was missing, and gets it
    clean = CachedSource(CloudWatchSource("demo", context=ctx(moto_server.url)), cache_dir=tmp_path,
                         now=window.end + pd.Timedelta(hours=30))
    again = clean.metrics(queries(2), window)
    assert not again.attrs.get("incomplete")
    np.testing.assert_array_equal(again.iloc[:, 1].to_numpy(), expected(1, 60))


@pytest.mark.parametrize("fault", DAMAGES)
def test_a_damaged_answer_once_is_retried_to_the_same_data(aws, moto_server, window, fault):
    seed_metrics(aws, 2, 60, window.start)
    direct = CloudWatchSource("demo", context=ctx(moto_server.url)).metrics(queries(2), window)
    proxy = FaultProxy(moto_server.port, only("GetMetricData", fault, first_n=1))
    try:
        src = CloudWatchSource("demo", context=ctx(proxy.url))
        got = src.metrics(queries(2), window)
    finally:
        proxy.stop()
    assert proxy.faults == 1 and src.problems == []
    pd.testing.assert_frame_equal(got, direct)


@pytest.mark.parametrize("api, call", [
    ("FilterLogEvents", lambda s, w: s.logs("g", w)),
    ("DescribeAlarmHistory", lambda s, w: s.alarm_history(w)),
    ("ListMetrics", lambda s, w: s.list_metrics(namespace="Test/Requests")),
])
@pytest.mark.parametrize("fault", ("truncate", "empty", "html"))
def test_every_api_the_sources_call_refuses_a_damaged_answer(aws, moto_server, window, api, call, fault):
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": int(window.start.timestamp() * 1000) + i, "message": "ERROR x"} for i in range(5)])
    seed_metrics(aws, 1, 10, window.start)
    proxy = FaultProxy(moto_server.port, only(api, fault))
    try:
        src = CloudWatchSource("demo", context=ctx(proxy.url))
        with pytest.raises(SourceError, match="cut short or damaged|failed"):
            call(src, window)
    finally:
        proxy.stop()
    assert proxy.faults >= 1


@pytest.mark.parametrize("service, api, resp, says", [
    ("cloudwatch", "get_metric_data", {}, "no MetricDataResults"),
    ("cloudwatch", "get_metric_data", {"MetricDataResults": [{"Id": "a", "Timestamps": [], "Values": []}]},
     "without Id or StatusCode"),
    ("cloudwatch", "get_metric_data", {"MetricDataResults": [{"Id": "a", "StatusCode": "Complete",
                                                              "Timestamps": [1, 2], "Values": [1.0]}]},
     "2 timestamps for 1 values"),
    ("logs", "filter_log_events", {"ResponseMetadata": {}}, "no events"),
    ("cloudwatch", "describe_alarms", {"MetricAlarms": []}, None),
    ("logs", "get_query_results", {"results": []}, "no status"),
    ("sns", "publish", {}, None),  # not a read of data: nothing to check
])
def test_what_each_answer_must_carry(service, api, resp, says):
    got = damage(service, api, resp)
    assert (got is None) if says is None else (says in got)
