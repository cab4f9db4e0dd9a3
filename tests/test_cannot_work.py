"""Alarms that cannot work as written (backtest.cannot_work), against moto server: metrics with and without the
alarm's exact dimension set, a whole window without data or in ALARM, CloudWatch's period limits."""

import pandas as pd

from rtanalytics.alarms import Alarm
from rtanalytics.backtest import cannot_work
from rtanalytics.sources.cloudwatch import CloudWatchSource
from rtanalytics.timewindow import TimeWindow

BASE = dict(Namespace="T/Svc", MetricName="Throughput", Statistic="Sum", Period=300, EvaluationPeriods=3,
            Threshold=1.0, ComparisonOperator="LessThanThreshold")


def test_existence_data_and_limits_on_moto(aws):
    now = pd.Timestamp.now(tz="UTC").floor("min")
    aws.call("cloudwatch", "put_metric_data", Namespace="T/Svc", MetricData=[
        {"MetricName": "Throughput", "Dimensions": [{"Name": "Service", "Value": "api"}],
         "Timestamp": (now - pd.Timedelta(minutes=30)).to_pydatetime(), "Value": 5.0}])
    src = CloudWatchSource("demo", context=aws)
    window = TimeWindow(now - pd.Timedelta(hours=2), now)
    good = Alarm(AlarmName="ok", Dimensions=[{"Name": "Service", "Value": "api"}], **BASE)
    typo = Alarm(AlarmName="typo", Dimensions=[{"Name": "ServiceName", "Value": "api"}], **BASE)  # never emitted
    extra = Alarm(AlarmName="extra", Dimensions=[{"Name": "Service", "Value": "api"}, {"Name": "Stage", "Value": "p"}],
                  **BASE)
    long = Alarm(AlarmName="long", Dimensions=[{"Name": "Service", "Value": "api"}],
                 **(BASE | {"EvaluationPeriods": 300}))  # 300 x 5 min = 25 h
    idx = pd.date_range(window.start, window.end, freq="300s", inclusive="left")
    series = {"ok": pd.Series(5.0, index=idx), "long": pd.Series(float("nan"), index=idx)}
    t = cannot_work([good, typo, extra, long], src, window, series, now=now)
    found = {(r["alarm"], r["finding"].split(":")[0][:40]) for r in t.to_dict("records")}
    by = {r["alarm"]: [] for r in t.to_dict("records")}
    for r in t.to_dict("records"):
        by[r["alarm"]].append(r)
    assert "ok" not in by, by.get("ok")
    assert any("no metric T/Svc/Throughput with exactly" in r["finding"] and "Service=api" in r["fix"] for r in by["typo"])
    assert any("exactly the dimensions" in r["finding"] for r in by["extra"])
    assert {r["finding"] for r in by["long"]} >= {"the metric has no datapoint in the window"}
    assert any("over CloudWatch's limit" in r["finding"] for r in by["long"])
    assert found  # the table is what the alarms report's audit shows


def test_a_window_in_alarm_throughout(aws):
    now = pd.Timestamp.now(tz="UTC").floor("min")
    aws.call("cloudwatch", "put_metric_data", Namespace="T/Svc", MetricData=[
        {"MetricName": "Throughput", "Timestamp": now.to_pydatetime(), "Value": 0.0}])
    src = CloudWatchSource("demo", context=aws)
    window = TimeWindow(now - pd.Timedelta(hours=1), now)
    a = Alarm(AlarmName="zero", **(BASE | {"EvaluationPeriods": 1}))
    idx = pd.date_range(window.start, window.end, freq="300s", inclusive="left")
    t = cannot_work([a], src, window, {"zero": pd.Series(0.0, index=idx)}, now=now)
    assert list(t["finding"]) == ["in ALARM for the whole window"]


def test_actions_to_topics_that_are_missing_or_unheard(aws):
    """An alarm's actions, and a composite's, checked against the account's topics: one that does not exist, one
    nobody is subscribed to, one with a confirmed subscriber (an SQS queue)."""
    from rtanalytics.alarms import CompositeAlarm

    sns = aws.client("sns")
    heard = sns.create_topic(Name="oncall")["TopicArn"]
    sqs = aws.client("sqs").create_queue(QueueName="pager")["QueueUrl"]
    qarn = aws.client("sqs").get_queue_attributes(QueueUrl=sqs, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=heard, Protocol="sqs", Endpoint=qarn)
    unheard = sns.create_topic(Name="nobody")["TopicArn"]
    now = pd.Timestamp.now(tz="UTC").floor("min")
    aws.call("cloudwatch", "put_metric_data", Namespace="T/Svc", MetricData=[
        {"MetricName": "Throughput", "Timestamp": now.to_pydatetime(), "Value": 5.0}])
    src = CloudWatchSource("demo", context=aws)
    window = TimeWindow(now - pd.Timedelta(hours=1), now)
    ok = Alarm(AlarmName="ok", AlarmActions=[heard], **BASE)
    gone = Alarm(AlarmName="gone", AlarmActions=["arn:aws:sns:us-west-1:ACCOUNT:deleted-topic"],
                 OKActions=[heard], **BASE)
    quiet = Alarm(AlarmName="quiet", AlarmActions=[unheard], **BASE)
    comp = CompositeAlarm(AlarmName="both", AlarmRule="ALARM(ok) AND ALARM(quiet)", AlarmActions=[unheard])
    t = cannot_work([ok, gone, quiet], src, window, None, now=now, composites=[comp])
    by = {}
    for r in t.to_dict("records"):
        by.setdefault(r["alarm"], []).append(r["finding"])
    assert "ok" not in by
    assert by["gone"] == ["AlarmActions sends to the SNS topic deleted-topic, which does not exist (ListTopics)"]
    assert by["quiet"] == ["AlarmActions sends to nobody, which has no confirmed subscription: nobody receives it"]
    assert by["both"] == by["quiet"]
