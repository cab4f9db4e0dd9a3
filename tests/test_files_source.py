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


def test_values_land_on_the_query_grid_or_fail_clearly(tmp_path):
    ts = ["2026-11-11T18:02Z", "2026-11-11T18:07Z", "2026-11-11T18:12Z"]  # an export that started at :02
    pd.DataFrame({"timestamp": ts, "RequestCount": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "m.csv", index=False)
    q = MetricQuery("AWS/ApplicationELB", "RequestCount", {}, "Sum", 300, label="RequestCount")
    df = FilesSource(tmp_path).metrics([q], W)
    assert df.iloc[:3, 0].tolist() == [1.0, 2.0, 3.0]  # 18:02 → the 18:00 period, and so on
    assert df.iloc[:, 0].sum() == 6.0  # nothing lost
    fine = MetricQuery("AWS/ApplicationELB", "RequestCount", {}, "Sum", 600, label="RequestCount")
    with pytest.raises(SourceError, match="several values per 600 s period"):
        FilesSource(tmp_path).metrics([fine], W)
