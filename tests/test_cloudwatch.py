"""The boto3 paths against a real local endpoint (moto server on 127.0.0.1).

Where moto lacks a feature (percentiles in GetMetricData, DescribeAlarmHistory, Logs Insights aggregation)
the test uses botocore's Stubber with responses shaped as in the AWS API reference, and says so.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest

from rtanalytics.alarms import Alarm
from rtanalytics.queries import MetricQuery
from rtanalytics.sources import cloudwatch as cwmod
from rtanalytics.sources.cloudwatch import CloudWatchSource, finest_period, plan_requests
from rtanalytics.timewindow import TimeWindow

NS = "Test/Load"


def seed_metrics(aws, n_series, minutes, start):
    """n_series x minutes of 1-minute Sum data; value = 1000*i + m; every 7th (i+m) minute missing."""
    cw = aws.client("cloudwatch")
    items = []
    for i in range(n_series):
        for m in range(minutes):
            if (i + m) % 7 == 0:
                continue
            items.append({"MetricName": "Requests", "Dimensions": [{"Name": "Series", "Value": f"s{i:03d}"}],
                          "Timestamp": (start + pd.Timedelta(minutes=m)).to_pydatetime(),
                          "Value": float(1000 * i + m), "Unit": "Count"})
    for j in range(0, len(items), 1000):
        cw.put_metric_data(Namespace=NS, MetricData=items[j:j + 1000])


def expected(i, minutes):
    return np.array([np.nan if (i + m) % 7 == 0 else 1000 * i + m for m in range(minutes)], dtype=float)


def queries(n):
    return [MetricQuery(NS, "Requests", {"Series": f"s{i:03d}"}, "Sum", 60, id=f"q{i}") for i in range(n)]


@pytest.fixture
def window():
    start = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=3)
    return TimeWindow(start, start + pd.Timedelta(minutes=90))


def test_plan_meets_the_lower_bound():
    w = TimeWindow.parse("2026-11-01", "2026-11-15")
    qs = queries(200)
    plan = plan_requests(qs, w)
    points = 14 * 1440
    lower = max(math.ceil(200 * points / 100_800), math.ceil(200 / 500))
    assert len(plan) == lower == 40
    for batch, tw in plan:
        npts = math.ceil(tw.duration.total_seconds() / 60)
        assert len(batch) <= 500 and len(batch) * npts <= 100_800
    many = [MetricQuery(NS, "M", {"i": str(i)}, "Average", 3600, id=f"a{i}") for i in range(1200)]
    assert len(plan_requests(many, TimeWindow.parse("2026-11-01", "2026-11-02"))) == 3  # 500 per request


def test_finest_retained_period():
    now = pd.Timestamp("2026-11-20T00:00Z")
    assert finest_period(TimeWindow.parse("-14d", "now", now=now), now) == 60
    assert finest_period(TimeWindow.parse("-30d", "now", now=now), now) == 300
    assert finest_period(TimeWindow.parse("-90d", "now", now=now), now) == 3600


def test_get_metric_data_batched_and_paged_through_moto(aws, window, monkeypatch):
    seed_metrics(aws, 12, 90, window.start)
    monkeypatch.setattr(cwmod, "MAX_DATAPOINTS", 60)  # force several requests and time slices
    src = CloudWatchSource("demo", context=aws)
    qs = queries(12)
    plan = plan_requests(qs, window)
    assert len({tw for _, tw in plan}) == 3  # 90 points per query in three 30-point slices, 2 queries each
    df = src.metrics(qs, window)
    assert aws.api_calls == len(plan) == math.ceil(12 * 90 / 60)
    assert len(df) == 90 and str(df.index.tz) == "UTC"
    for i, q in enumerate(qs):
        np.testing.assert_array_equal(df[q.label].to_numpy(), expected(i, 90))  # missing stays NaN
    assert src.problems == []


def test_list_metrics_with_globs(aws, window):
    seed_metrics(aws, 5, 2, window.start)
    src = CloudWatchSource("demo", context=aws)
    found = src.list_metrics(NS, "Requests", {"Series": "s00[0-2]"})
    assert [dict(m.dimensions)["Series"] for m in found] == ["s000", "s001", "s002"]


def test_describe_alarms_into_the_catalog_model(aws):
    seed = Alarm.from_cli_args("""aws cloudwatch put-metric-alarm --alarm-name RealTechee-Critical-Error-Rate
      --alarm-description "Application error rate exceeds 5%" --metric-name HTTPCode_Target_5XX_Count
      --namespace AWS/ApplicationELB --statistic Sum --dimensions Name=LoadBalancer,Value=RealTechee-ALB
      --period 300 --evaluation-periods 2 --datapoints-to-alarm 2 --threshold 10
      --comparison-operator GreaterThanThreshold
      --alarm-actions arn:aws:sns:us-west-1:123456789012:RealTechee-Critical-Alerts
      --ok-actions arn:aws:sns:us-west-1:123456789012:RealTechee-Info-Alerts --treat-missing-data notBreaching""")
    aws.client("cloudwatch").put_metric_alarm(**seed.model_dump(exclude_none=True, exclude={"Tags"}))
    src = CloudWatchSource("demo", context=aws)
    got = src.describe_alarms()
    (a,) = [Alarm.from_aws(x) for x in got["metric"]]
    assert a == seed


def test_filter_log_events_paginated_and_parsed(aws, window):
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="/aws/amplify/RealTechee-Gen2")
    logs.create_log_stream(logGroupName="/aws/amplify/RealTechee-Gen2", logStreamName="application-1")
    t0 = int(window.start.timestamp() * 1000)
    events = [{"timestamp": t0 + i * 1000, "message": json.dumps(
        {"level": "error" if i % 4 == 0 else "info", "message": "Application Error" if i % 4 == 0 else "ok",
         "service": "realtechee", "category": "error" if i % 4 == 0 else "business",
         "error": {"name": "TypeError", "message": "boom"} if i % 4 == 0 else None})} for i in range(300)]
    logs.put_log_events(logGroupName="/aws/amplify/RealTechee-Gen2", logStreamName="application-1", logEvents=events)
    src = CloudWatchSource("demo", context=aws)
    df = src.logs("/aws/amplify/RealTechee-Gen2", window)
    assert len(df) == 300 and df["timestamp"].is_monotonic_increasing
    assert (df["level"] == "error").sum() == 75 and (df["error.name"] == "TypeError").sum() == 75
    only = src.logs("/aws/amplify/RealTechee-Gen2", window, "Application Error")  # plain term: moto filters it
    assert len(only) == 75


def test_logs_insights_splits_past_the_row_cap(aws, window):
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t0 = int(window.start.timestamp() * 1000)
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t0 + i * 10_000, "message": f"line {i}"} for i in range(240)])
    src = CloudWatchSource("demo", context=aws)
    df = src.insights("g", "fields @timestamp, @message", TimeWindow(window.start, window.start + pd.Timedelta(
        hours=1)), limit=50, poll_s=0.05)
    assert len(df) == 240 and df.attrs["complete"] and df.attrs["slices"] >= 5
    assert df["@message"].nunique() == 240


def test_alarm_history_and_percentiles_with_stubber():
    """moto implements neither DescribeAlarmHistory nor percentiles: AWS-shaped responses via Stubber."""
    from botocore.stub import Stubber

    from rtanalytics.sources.aws import AwsContext

    from .aws_helpers import session

    ctx = AwsContext(session=session())
    cw = ctx.client("cloudwatch")
    w = TimeWindow.parse("2026-11-11T18:00Z", "2026-11-11T19:00Z")
    item = {"AlarmName": "RealTechee-Critical-Error-Rate", "AlarmType": "MetricAlarm",
            "Timestamp": pd.Timestamp("2026-11-11T18:15:03Z").to_pydatetime(), "HistoryItemType": "StateUpdate",
            "HistorySummary": "Alarm updated from OK to ALARM",
            "HistoryData": json.dumps({"version": "1.0", "oldState": {"stateValue": "OK", "stateReason": "x"},
                                       "newState": {"stateValue": "ALARM", "stateReason":
                                                    "Threshold Crossed: 2 out of the last 2 datapoints [41.0, 33.0] "
                                                    "were greater than the threshold (10.0)."}})}
    ts = [pd.Timestamp("2026-11-11T18:00Z") + pd.Timedelta(minutes=5 * i) for i in range(12)]
    q = MetricQuery("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "RealTechee-ALB"}, "p95", 300,
                    id="p95")
    with Stubber(cw) as st:
        st.add_response("describe_alarm_history", {"AlarmHistoryItems": [item], "NextToken": "t1"})
        st.add_response("describe_alarm_history", {"AlarmHistoryItems": []})
        st.add_response("get_metric_data", {"MetricDataResults": [
            {"Id": "p95", "Label": q.label, "Timestamps": [t.to_pydatetime() for t in ts[:6]],
             "Values": [0.7 + i / 10 for i in range(6)], "StatusCode": "PartialData"}], "NextToken": "n"})
        st.add_response("get_metric_data", {"MetricDataResults": [
            {"Id": "p95", "Label": q.label, "Timestamps": [t.to_pydatetime() for t in ts[7:]],
             "Values": [1.4 + i / 10 for i in range(5)], "StatusCode": "Complete"}]})
        src = CloudWatchSource("demo", context=ctx)
        hist = src.alarm_history(w)
        df = src.metrics([q], w)
    assert hist.iloc[0][["alarm", "from_state", "to_state"]].tolist() == ["RealTechee-Critical-Error-Rate", "OK",
                                                                         "ALARM"]
    assert "Threshold Crossed" in hist.iloc[0]["reason"]
    col = df[q.label]
    assert len(col) == 12 and math.isnan(col.iloc[6]) and col.iloc[0] == pytest.approx(0.7)
    assert col.iloc[11] == pytest.approx(1.8)


def test_insights_rows_are_typed_and_winston_parsed():
    from rtanalytics.sources.cloudwatch import insights_frame

    rows = [[{"field": "@timestamp", "value": "2026-11-11 18:07:12.000"},
             {"field": "@message", "value": json.dumps({"level": "error", "category": "error", "service": "realtechee",
                                                        "error": {"name": "TypeError", "message": "x"}})},
             {"field": "n", "value": "3"}, {"field": "@ptr", "value": "abc"}]]
    df = insights_frame(rows)
    assert df["@timestamp"].iloc[0] == pd.Timestamp("2026-11-11T18:07:12Z") and df["n"].iloc[0] == 3
    assert df["level"].iloc[0] == "error" and df["error.name"].iloc[0] == "TypeError" and "@ptr" not in df


def test_change_events_from_amplify_jobs_and_cloudtrail():
    """moto implements neither Amplify nor CloudTrail LookupEvents: AWS-shaped responses via Stubber, paginated."""
    from botocore.stub import ANY, Stubber

    from rtanalytics.catalog import catalog
    from rtanalytics.sources.aws import AwsContext

    from .aws_helpers import session

    env = catalog().environment("production")
    ctx = AwsContext(session=session())
    w = TimeWindow.parse("2026-11-11T17:00Z", "2026-11-11T20:00Z")
    amp, ct = Stubber(ctx.client("amplify")), Stubber(ctx.client("cloudtrail"))
    job = {"jobArn": "arn:aws:amplify:us-west-1:123456789012:apps/d200k2wsaf8th3/branches/main/jobs/0000000042",
           "jobId": "42", "commitId": "a1b2c3d4e5f6", "commitMessage": "Fix <script>quote</script> totals",
           "commitTime": pd.Timestamp("2026-11-11T18:00Z").to_pydatetime(),
           "startTime": pd.Timestamp("2026-11-11T18:02Z").to_pydatetime(), "status": "SUCCEED",
           "endTime": pd.Timestamp("2026-11-11T18:09Z").to_pydatetime(), "jobType": "RELEASE"}
    old = dict(job, jobId="41", startTime=pd.Timestamp("2026-11-01T10:00Z").to_pydatetime(),
               endTime=pd.Timestamp("2026-11-01T10:07Z").to_pydatetime())
    amp.add_response("list_jobs", {"jobSummaries": [job], "nextToken": "n"},
                     {"appId": "d200k2wsaf8th3", "branchName": "main", "maxResults": 50})
    amp.add_response("list_jobs", {"jobSummaries": [old]}, {"appId": "d200k2wsaf8th3", "branchName": "main",
                                                            "maxResults": 50, "nextToken": "n"})
    for name in cwmod.CHANGE_EVENTS:
        events = [{"EventId": "e1", "EventName": name, "EventTime": pd.Timestamp("2026-11-11T18:15Z").to_pydatetime(),
                   "Username": "deployer", "Resources": [{"ResourceType": "AWS::Lambda::Function",
                                                          "ResourceName": "notification-processor"}]}] \
            if name == "UpdateFunctionConfiguration20150331v2" else []
        ct.add_response("lookup_events", {"Events": events}, {"LookupAttributes": [
            {"AttributeKey": "EventName", "AttributeValue": name}], "StartTime": ANY, "EndTime": ANY, "MaxResults": 50})
    with amp, ct:
        df = CloudWatchSource(env, context=ctx).events(w)
    assert list(df["kind"]) == ["deploy", "change"]  # the old job is outside the window
    assert df.iloc[0]["start"] == pd.Timestamp("2026-11-11T18:02Z") and "job 42 succeed" in df.iloc[0]["summary"]
    assert "notification-processor by deployer" in df.iloc[1]["summary"]
    assert df.attrs["searched"][0].startswith("Amplify jobs of d200k2wsaf8th3/main")


def test_getmetricdata_timestamps_are_parsed_as_whole_arrays(aws):
    """GetMetricData's timestamps reach us raw (epoch seconds, botocore's JSON protocol) and become the index in
    one vectorised step; epoch numbers, ISO strings and datetimes give the same series, pages out of order and
    overlapping slices keep the last value of a period. Other APIs still get datetimes."""
    from rtanalytics.sources.cloudwatch import _series

    t0 = pd.Timestamp("2026-11-11T18:00Z")
    aws.call("cloudwatch", "put_metric_data", Namespace="T/Raw", MetricData=[
        {"MetricName": "m", "Timestamp": (t0 + pd.Timedelta(minutes=i)).to_pydatetime(), "Value": float(i)}
        for i in range(5)])
    resp = aws.call("cloudwatch", "get_metric_data", StartTime=t0.to_pydatetime(),
                    EndTime=(t0 + pd.Timedelta(minutes=5)).to_pydatetime(), MetricDataQueries=[
                        {"Id": "a", "MetricStat": {"Metric": {"Namespace": "T/Raw", "MetricName": "m"}, "Period": 60,
                                                   "Stat": "Sum"}}])
    raw = resp["MetricDataResults"][0]["Timestamps"]
    assert isinstance(raw, np.ndarray) and raw.dtype == np.float64 and len(raw) == 5  # epoch seconds, one array
    aws.call("cloudwatch", "put_metric_alarm", AlarmName="raw-check", Namespace="T/Raw", MetricName="m",
             Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    alarm = aws.call("cloudwatch", "describe_alarms")["MetricAlarms"][0]  # not GetMetricData: parsed as usual
    import datetime as dt

    assert isinstance(alarm["StateUpdatedTimestamp"], dt.datetime)
    epoch = [t0.timestamp() + 60 * i for i in (2, 0, 1, 1)]
    vals = [2.0, 0.0, 1.0, 1.5]
    a = _series([(epoch[:2], vals[:2]), (epoch[2:], vals[2:])])
    b = _series([([pd.Timestamp(x, unit="s", tz="UTC").isoformat() for x in epoch], vals)])
    c = _series([([pd.Timestamp(x, unit="s", tz="UTC").to_pydatetime() for x in epoch], vals)])
    for s in (a, b, c):
        assert str(s.index.tz) == "UTC" and s.index.is_monotonic_increasing
        assert s.tolist() == [0.0, 1.5, 2.0]  # sorted; the later of the two 18:01 values wins
    assert a.index.equals(b.index) and a.index.equals(c.index)
