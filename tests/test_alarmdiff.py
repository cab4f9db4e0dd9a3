"""`rtanalytics alarms diff`: two versions of an alarm replayed over the same history, with figures worked by
hand; the command on Terraform folders and on git revisions; exit 3 past --max-new-pages."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd

from rtanalytics.alarmdiff import diff, replay
from rtanalytics.alarms import Alarm, load_alarms
from rtanalytics.cli import main
from rtanalytics.iac import terraform

BASE = dict(AlarmName="errors", Namespace="T", MetricName="E", Statistic="Sum", Period=60, EvaluationPeriods=1,
            Threshold=3.0, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
#            0  1  2  3  4  5  6  7  8  9 10 11
VALUES = [0, 0, 5, 5, 0, 5, 0, 0, 5, 5, 5, 0]
SERIES = pd.Series(VALUES, index=pd.date_range("2026-11-20T10:00Z", periods=12, freq="min"), dtype=float)
INCIDENTS = pd.DataFrame({"id": ["i1", "i2"], "start": pd.to_datetime(["2026-11-20T10:02Z", "2026-11-20T10:08Z"]),
                          "end": pd.to_datetime(["2026-11-20T10:04Z", "2026-11-20T10:11Z"])})


def test_one_of_one_against_two_of_two_worked_by_hand():
    before = Alarm(**BASE)
    after = Alarm(**(BASE | {"EvaluationPeriods": 2, "DatapointsToAlarm": 2}))
    b = replay(before, SERIES, INCIDENTS, flap_periods=2)
    # 1 of 1: ALARM at 2-3, 5, 8-10 — three pages, 6 minutes in ALARM, one flap (the 1-minute one at 5)
    assert (b["pages"], b["minutes_in_alarm"], b["flaps"]) == (3, 6.0, 1)
    # caught: both incidents, each at its first minute (evaluated one period after the datapoint): 1 minute late
    assert (b["incidents_caught"], b["incidents_missed"], b["detection_minutes"]) == (2, 0, 1.0)
    a = replay(after, SERIES, INCIDENTS, flap_periods=2)
    # 2 of 2: ALARM only where two consecutive breach — at 3 and at 9-10: two pages, 3 minutes, the 3 a flap
    assert (a["pages"], a["minutes_in_alarm"], a["flaps"]) == (2, 3.0, 1)
    assert (a["incidents_caught"], a["detection_minutes"]) == (2, 2.0)  # a minute later each
    table = diff([before], [after], lambda al: SERIES, INCIDENTS, flap_periods=2)
    (row,) = table.to_dict("records")
    assert row["change"] == "changed" and "EvaluationPeriods: 1 → 2" in row["fields"]
    assert (row["before_pages"], row["after_pages"]) == (3, 2)
    unchanged = diff([before], [before], lambda al: SERIES)
    assert unchanged.empty


def test_added_and_removed_alarms_have_one_side():
    t = diff([Alarm(**BASE)], [Alarm(**(BASE | {"AlarmName": "new"}))], lambda al: SERIES)
    rows = {r["alarm"]: r for r in t.to_dict("records")}
    assert rows["errors"]["change"] == "removed" and np.isnan(rows["errors"].get("after_pages", np.nan))
    assert rows["new"]["change"] == "added" and rows["new"]["after_pages"] == 3


def test_the_command_on_folders_and_git_revisions(tmp_path, capsys, monkeypatch):
    seed = load_alarms(environment="demo")
    loud = [a.model_copy(update={"Threshold": 0.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold"})
            if a.AlarmName == "RealTechee-Critical-Error-Rate" else a for a in seed]
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    (tmp_path / "before" / "main.tf").write_text(terraform(seed))
    (tmp_path / "after" / "main.tf").write_text(terraform(loud))
    args = ["alarms", "diff", str(tmp_path / "before"), str(tmp_path / "after"), "--start", "2026-11-13T00:00Z",
            "--end", "2026-11-20T00:00Z", "--format", "json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    (row,) = out["alarms"]
    assert row["alarm"] == "RealTechee-Critical-Error-Rate" and row["after_minutes_in_alarm"] > row[
        "before_minutes_in_alarm"]
    assert main(args + ["--max-new-pages", "-1"]) == 3  # any page more than the setting: the PR check fails
    assert "pages" in capsys.readouterr().err
    # the same through git revisions of a team's repository
    repo = tmp_path / "repo"
    (repo / "infra").mkdir(parents=True)
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "infra" / "main.tf").write_text(terraform(seed))
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "one"], check=True)
    (repo / "infra" / "main.tf").write_text(terraform(loud))
    subprocess.run(git + ["commit", "-qam", "two"], check=True)
    monkeypatch.chdir(repo)
    assert main(["alarms", "diff", "git:HEAD~1:infra", "git:HEAD:infra", "--start", "2026-11-13T00:00Z",
                 "--end", "2026-11-20T00:00Z", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["alarms"][0]["alarm"] == "RealTechee-Critical-Error-Rate"
