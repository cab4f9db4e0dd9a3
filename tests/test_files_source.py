"""The files source: AWS CLI JSON exports, CSV/Parquet tables, and evidence bundles read back to identical
report figures."""

import json

import numpy as np
import pandas as pd
import pytest

from rtanalytics.errors import SourceError
from rtanalytics.queries import MetricQuery
from rtanalytics.reports.runner import run_report
from rtanalytics.sources.files import FilesSource
from rtanalytics.timewindow import TimeWindow

W = TimeWindow.parse("2026-11-11T18:00Z", "2026-11-11T18:30Z")


def test_cli_json_exports(tmp_path):
    q = MetricQuery("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", {"LoadBalancer": "RealTechee-ALB"}, "Sum",
                    300, id="e5")
    (tmp_path / "queries.json").write_text(json.dumps([q.to_cloudwatch()]))
    # what `aws cloudwatch get-metric-data` prints (missing periods simply absent)
    (tmp_path / "gmd.json").write_text(json.dumps({"MetricDataResults": [{
        "Id": "e5", "Label": "HTTPCode_Target_5XX_Count", "StatusCode": "Complete", "Messages": [],
        "Timestamps": ["2026-11-11T18:10:00+00:00", "2026-11-11T18:15:00+00:00", "2026-11-11T18:25:00+00:00"],
        "Values": [41.0, 33.0, 2.0]}]}))
    (tmp_path / "history.json").write_text(json.dumps({"AlarmHistoryItems": [{
        "AlarmName": "RealTechee-Critical-Error-Rate", "AlarmType": "MetricAlarm",
        "Timestamp": "2026-11-11T18:15:03.123000+00:00", "HistoryItemType": "StateUpdate",
        "HistorySummary": "Alarm updated from OK to ALARM",
        "HistoryData": json.dumps({"oldState": {"stateValue": "OK"}, "newState": {
            "stateValue": "ALARM", "stateReason": "Threshold Crossed"}})}]}))
    (tmp_path / "__aws__amplify__RealTechee-Gen2.json").write_text(json.dumps({"events": [
        {"logStreamName": "application-2026-11-11", "timestamp": 1794420000000 + i * 1000, "ingestionTime": 0,
         "message": json.dumps({"level": "error", "message": "Application Error", "error": {"name": "TypeError"}}),
         "eventId": str(i)} for i in range(5)], "searchedLogStreams": []}))
    src = FilesSource(tmp_path)
    df = src.metrics([q], W)
    assert df.iloc[:, 0].tolist()[:3] == [pytest.approx(np.nan, nan_ok=True), pytest.approx(np.nan, nan_ok=True),
                                          41.0]
    assert np.isnan(df.iloc[4, 0]) and df.iloc[5, 0] == 2.0  # 18:20 missing stays missing
    h = src.alarm_history(W)
    assert h.iloc[0][["from_state", "to_state"]].tolist() == ["OK", "ALARM"]
    logs = src.logs("/aws/amplify/RealTechee-Gen2", TimeWindow.parse("2026-11-11", "2026-11-13"))
    assert len(logs) == 5 and (logs["error.name"] == "TypeError").all()


def test_csv_wide_table_and_bad_folder(tmp_path):
    pd.DataFrame({"timestamp": ["2026-11-11T18:00Z", "2026-11-11T18:05Z"], "RequestCount": [10, 12]}).to_csv(
        tmp_path / "m.csv", index=False)
    q = MetricQuery("AWS/ApplicationELB", "RequestCount", {}, "Sum", 300, label="RequestCount")
    assert FilesSource(tmp_path).metrics([q], W).iloc[:2, 0].tolist() == [10.0, 12.0]
    with pytest.raises(SourceError, match="not a folder"):
        FilesSource(tmp_path / "nope")


def test_evidence_bundle_reruns_offline_to_identical_figures(tmp_path):
    out = tmp_path / "outputs"
    p = {"start": "2026-11-11T12:00Z", "end": "2026-11-12T00:00Z", "evidence": "true"}
    first = run_report("kpis", p, out, progress=False)
    assert first.status == "ok", first.summary
    bundle = first.run_dir / "evidence"
    assert (bundle / "manifest.json").is_file() and first.summary["evidence"] == "evidence/manifest.json"
    again = run_report("kpis", {"start": p["start"], "end": p["end"], "source": "files",
                                "files_path": str(bundle)}, out, progress=False)
    assert again.status == "ok", again.summary
    f1 = {k: v for k, v in first.summary["figures"].items()}
    f2 = {k: v for k, v in again.summary["figures"].items()}
    assert f1 == f2
    assert first.summary["provenance"]["data_sha256"] == again.summary["provenance"]["data_sha256"]
    assert again.summary["provenance"]["source"] == "files"


def test_values_land_on_the_query_grid_and_several_per_period_combine_by_the_statistic(tmp_path):
    ts = ["2026-11-11T18:02Z", "2026-11-11T18:07Z", "2026-11-11T18:12Z"]  # an export that started at :02
    pd.DataFrame({"timestamp": ts, "RequestCount": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "m.csv", index=False)
    q = MetricQuery("AWS/ApplicationELB", "RequestCount", {}, "Sum", 300, label="RequestCount")
    df = FilesSource(tmp_path).metrics([q], W)
    assert df.iloc[:3, 0].tolist() == [1.0, 2.0, 3.0]  # 18:02 → the 18:00 period, and so on
    assert df.iloc[:, 0].sum() == 6.0  # nothing lost
    coarse = MetricQuery("AWS/ApplicationELB", "RequestCount", {}, "Sum", 600, label="RequestCount")
    src = FilesSource(tmp_path)
    df = src.metrics([coarse], W)
    assert df.iloc[:2, 0].tolist() == [3.0, 3.0]  # 18:02 + 18:07 in the 18:00 period; 18:12 alone
    assert any("combined with Sum" in n for n in src.notes)
    mx = src.metrics([coarse.with_(stat="Maximum", label="mx")], W)
    assert mx.iloc[:2, 0].tolist() == [2.0, 3.0]


# ------------------------------------------------------------------------------- real exports of any metric
def test_a_folder_of_one_csv_per_series_is_many_series(tmp_path):
    """The common export shape (NAB's, many tools'): timestamp,value per file, naive times, irregular spacing,
    a repeated timestamp. Each file is a series named after it; nothing collapses into one 'value'."""
    t = pd.date_range("2026-11-10", periods=100, freq="5min")
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M:%S"), "value": range(100)}).to_csv(
        tmp_path / "latency.csv", index=False)
    jitter = t + pd.to_timedelta([7 * (i % 3) for i in range(100)], unit="s")
    rows = pd.DataFrame({"timestamp": jitter.strftime("%Y-%m-%d %H:%M:%S"), "value": [2.0] * 100})
    pd.concat([rows, rows.iloc[[50]]]).to_csv(tmp_path / "cpu.csv", index=False)  # one timestamp twice
    src = FilesSource(tmp_path)
    assert sorted(m.metric for m in src.list_metrics("files")) == ["cpu", "latency"]
    w = TimeWindow.parse("2026-11-10", "2026-11-10T08:20Z")
    df = src.metrics([MetricQuery("files", "latency", {}, "Average", 300, label="lat"),
                      MetricQuery("files", "cpu", {}, "Sum", 300, label="cpu")], w)
    assert df["lat"].tolist() == [float(i) for i in range(100)]  # naive = UTC, each value in its period
    assert df["cpu"].iloc[50] == 4.0 and df["cpu"].drop(df.index[50]).eq(2.0).all()  # the repeat summed
    assert any("combined with Sum" in n for n in src.notes)


def test_get_metric_data_json_with_epoch_timestamps_and_unmatched_queries_named(tmp_path):
    t0 = int(pd.Timestamp("2026-11-11T18:00Z").timestamp())
    (tmp_path / "gmd.json").write_text(json.dumps({"MetricDataResults": [
        {"Id": "m1", "Label": "RequestCount", "Timestamps": [t0 + 300 * i for i in range(3)],
         "Values": [5.0, 6.0, 7.0], "StatusCode": "Complete"}], "Messages": []}))
    src = FilesSource(tmp_path)
    q = MetricQuery("AWS/ApplicationELB", "RequestCount", {}, "Sum", 300, label="rq")  # matched by its metric
    other = MetricQuery("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", {"LoadBalancer": "x"}, "Sum", 300,
                        label="5xx")
    df = src.metrics([q, other], W)
    assert df["rq"].iloc[:3].tolist() == [5.0, 6.0, 7.0]  # epoch seconds read as times, not as zeros
    assert df.attrs["incomplete"] == {"5xx": src.problems[0]["reason"]}
    assert "HTTPCode_Target_5XX_Count" in src.problems[0]["reason"] and "RequestCount" in src.problems[0]["reason"]


def test_get_metric_statistics_json_and_local_time_exports(tmp_path):
    (tmp_path / "stats.json").write_text(json.dumps({"Label": "CPUUtilization", "Datapoints": [
        {"Timestamp": "2026-11-11T18:00:00Z", "Average": 10.0, "Maximum": 20.0, "Unit": "Percent"},
        {"Timestamp": "2026-11-11T18:05:00Z", "Average": 12.0, "Maximum": 30.0, "Unit": "Percent"}]}))
    df = FilesSource(tmp_path).metrics([MetricQuery("AWS/EC2", "CPUUtilization", {}, "Maximum", 300, label="c")], W)
    assert df["c"].iloc[:2].tolist() == [20.0, 30.0]
    local = tmp_path / "local"
    local.mkdir()
    pd.DataFrame({"timestamp": ["2026-11-01 01:30:00", "2026-11-01 01:30:00", "2026-11-01 02:30:00"],
                  "value": [1.0, 2.0, 3.0]}).to_csv(local / "req.csv", index=False)  # US DST ends: 01:30 twice
    src = FilesSource(local, tz="America/New_York")
    s = src.by_name["req"]
    assert str(s.index.tz) == "UTC" and s.index[-1] == pd.Timestamp("2026-11-01T07:30Z")


def test_incident_report_on_any_metrics_from_a_folder(tmp_path):
    """A folder of arbitrary series (no AWS names): every series is examined, with no week before it."""
    from rtanalytics.reports import incident

    rng = np.random.default_rng(3)
    t = pd.date_range("2026-03-01", periods=3 * 288, freq="5min")
    calm = pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%S"), "value": 50 + rng.normal(0, 1, len(t))})
    calm.to_csv(tmp_path / "queue_depth.csv", index=False)
    hot = calm.copy()
    hot.loc[600:640, "value"] += 30  # the cause: starts at point 600
    hot.to_csv(tmp_path / "checkout_latency.csv", index=False)
    r = incident.run(source="files", files_path=str(tmp_path), incident_start=str(t[590]), incident_end=str(t[650]),
                     now="2026-03-05T00:00Z", lookback="1d")
    assert r.leads.iloc[0]["signal"] == "checkout_latency"
    assert abs((r.leads.iloc[0]["onset"] - t[600].tz_localize("UTC")).total_seconds()) <= 600
    assert any("no data for the same time last week" in n for n in r.notes)
    assert set(r.metrics.columns) == {"queue_depth", "checkout_latency"}
    assert (r.episodes["series"] == "checkout_latency").any()


def test_a_bare_list_of_results_and_a_console_style_wide_csv(tmp_path):
    """`aws cloudwatch get-metric-data --query MetricDataResults` prints a bare list; a graph's CSV download is a
    time column and one column per metric label."""
    (tmp_path / "results.json").write_text(json.dumps([
        {"Id": "m1", "Label": "CPUUtilization", "Timestamps": ["2026-11-11T18:05:00+00:00", "2026-11-11T18:00:00+00:00"],
         "Values": [2.0, 1.0], "StatusCode": "Complete"}]))
    pd.DataFrame({"Label": ["2026-11-11 18:00:00", "2026-11-11 18:05:00"], "NetworkIn i-0abc": [10.0, 11.0],
                  "NetworkOut i-0abc": [5.0, None]}).to_csv(tmp_path / "graph.csv", index=False)
    src = FilesSource(tmp_path)
    df = src.metrics([MetricQuery("AWS/EC2", "CPUUtilization", {}, "Average", 300, label="cpu"),
                      MetricQuery("files", "NetworkOut i-0abc", {}, "Average", 300, label="out")], W)
    assert df["cpu"].iloc[:2].tolist() == [1.0, 2.0]
    assert df["out"].iloc[0] == 5.0 and np.isnan(df["out"].iloc[1])  # an empty cell stays missing
    assert {m.metric for m in src.list_metrics("files")} >= {"NetworkIn i-0abc", "NetworkOut i-0abc"}


def test_identical_log_events_are_not_merged(tmp_path):
    """The AWS CLI's own ``aws logs get-log-events`` example answers three events of which two share timestamp and
    message (different ingestion times): three events. Identical lines in one answer (same millisecond, same
    ingestion) are separate events too; the same answer recorded twice is still each event once; FilterLogEvents'
    eventId is the identity where it is given."""
    import json

    from rtanalytics.sources.files import FilesSource
    from rtanalytics.timewindow import TimeWindow

    cli = {"nextForwardToken": "f/31961209122447488583055879464742346735121166569214640130",
           "events": [{"ingestionTime": 1433190494190, "timestamp": 1433190184356, "message": "Example Event 1"},
                      {"ingestionTime": 1433190516679, "timestamp": 1433190184356, "message": "Example Event 1"},
                      {"ingestionTime": 1433190494190, "timestamp": 1433190184358, "message": "Example Event 2"}],
           "nextBackwardToken": "b/31961209122358285602261756944988674324553373268216709120",
           "logGroupName": "my-logs"}
    (tmp_path / "a.json").write_text(json.dumps(cli))
    win = TimeWindow.parse("2015-06-01T00:00Z", "2015-06-02T00:00Z")
    assert len(FilesSource(path=tmp_path).logs("my-logs", win)) == 3
    burst = {"logGroupName": "api", "events": [
        {"timestamp": 1433190184356, "ingestionTime": 1433190184400, "message": "ERROR db timeout",
         "logStreamName": "s"}] * 4}
    (tmp_path / "b.json").write_text(json.dumps(burst))
    (tmp_path / "b-again.json").write_text(json.dumps(burst))  # the same answer, recorded twice
    assert len(FilesSource(path=tmp_path).logs("api", win)) == 4
    ids = {"logGroupName": "f", "events": [
        {"eventId": str(i % 3), "timestamp": 1433190184356, "message": "same", "logStreamName": "s"}
        for i in range(6)]}
    (tmp_path / "c.json").write_text(json.dumps(ids))
    assert len(FilesSource(path=tmp_path).logs("f", win)) == 3


def test_an_export_is_read_for_what_it_says(tmp_path):
    """Issue #38 item 9: inf and 1e309 are not figures; a CSV mixing epoch seconds and milliseconds puts each row at
    its own time; CloudWatch's retention tiers are not applied to a local export by the wall clock."""
    from rtanalytics.queries import MetricQuery
    from rtanalytics.sources.evidence import served_period
    from rtanalytics.sources.files import FilesSource
    from rtanalytics.timewindow import TimeWindow

    t0 = 1400000000  # 2014-05-13 16:53:20 UTC
    rows = [f"{t0 + 60 * i},{v}" for i, v in enumerate(["1", "inf", "1e309", "4"])]
    rows += [f"{(t0 + 60 * i) * 1000},{i}" for i in range(4, 8)]  # the same series, from a tool writing ms
    (tmp_path / "x.csv").write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    src = FilesSource(path=tmp_path)
    s = src.by_name["x"]
    assert s.index.min().year == 2014 and s.index.is_monotonic_increasing and len(s) == 8
    assert np.isnan(s.iloc[1]) and np.isnan(s.iloc[2]) and s.iloc[3] == 4 and s.iloc[7] == 7
    assert sum("not a finite number" in m["reason"] for m in src.malformed) == 2
    win = TimeWindow(pd.Timestamp(t0, unit="s", tz="UTC"), pd.Timestamp(t0 + 480, unit="s", tz="UTC"))
    df = src.metrics([MetricQuery("files", "x", stat="Average", period=60, label="x")], win)
    assert df["x"].notna().sum() == 6
    # a 2014 export keeps its 1-minute data: no tier coarsens it (the demo, modelling CloudWatch, would)
    now = pd.Timestamp("2026-12-01", tz="UTC")
    assert served_period(src, 60, win.start, now) == 60
    from rtanalytics.sources.demo import DemoSource
    assert served_period(DemoSource(), 60, win.start, now) == 3600


def test_a_file_per_metric_answers_its_metric_and_says_so(tmp_path):
    """Issue #38 item 4: RequestCount.csv and TargetResponseTime.csv answer the ALB queries (the README's "a file per
    metric"), the report says which file answered which query; several candidates and none for the statistic
    asked are not guessed."""
    from rtanalytics.queries import MetricQuery
    from rtanalytics.sources.files import FilesSource
    from rtanalytics.timewindow import TimeWindow

    t0 = pd.Timestamp("2026-11-02T00:00Z")
    stamps = [(t0 + pd.Timedelta(minutes=5 * i)).isoformat() for i in range(6)]
    (tmp_path / "RequestCount.csv").write_text("timestamp,value\n" + "\n".join(f"{t},{100 + i}"
                                                                             for i, t in enumerate(stamps)))
    (tmp_path / "TargetResponseTime|Average.csv").write_text("timestamp,value\n" + "\n".join(f"{t},0.2"
                                                                                         for t in stamps))
    (tmp_path / "TargetResponseTime|p99.csv").write_text("timestamp,value\n" + "\n".join(f"{t},1.5" for t in stamps))
    src = FilesSource(path=tmp_path)
    lb = {"LoadBalancer": "app/web/1"}
    qs = [MetricQuery("AWS/ApplicationELB", "RequestCount", lb, "Sum", 300, label="req"),
          MetricQuery("AWS/ApplicationELB", "TargetResponseTime", lb, "p99", 300, label="p99"),
          MetricQuery("AWS/ApplicationELB", "TargetResponseTime", lb, "Maximum", 300, label="max")]
    df = src.metrics(qs, TimeWindow(t0, t0 + pd.Timedelta(minutes=30)))
    assert df["req"].tolist() == [100, 101, 102, 103, 104, 105] and df["p99"].tolist() == [1.5] * 6
    assert df["max"].isna().all()
    assert "several series for TargetResponseTime and none for Maximum" in df.attrs["incomplete"]["max"]
    assert any(n.startswith("req: answered by RequestCount.csv by its metric name") for n in src.notes)
    assert src.answered["p99"].startswith("TargetResponseTime|p99.csv")
