"""Inputs taken at their word only when they mean something: times refused before any kernel (naming the field),
a window reaching past now clipped and said, an incident analysed where it was asked for (issue #38, items 2, 9
and 10)."""

from __future__ import annotations

import pandas as pd
import pytest

from rtanalytics.errors import ParameterError
from rtanalytics.reports import incident, kpi
from rtanalytics.reports.registry import get_report, resolve_params
from rtanalytics.timewindow import report_window, utcnow

from .conftest import NOW


@pytest.mark.parametrize("report, raw, field, says", [
    ("incident", {"at": "notatime"}, "at", "not a time"),
    ("incident", {"incident_start": "notatime"}, "incident_start", "not a time"),
    ("incident", {"incident_start": "2026-11-25T18:20Z", "incident_end": "2026-11-25T17:00Z"}, "incident_end",
     "not after incident_start"),
    ("incident", {"incident_end": "2026-11-25T17:00Z"}, "incident_end", "give incident_start too"),
    ("incident", {"at": "2031-01-01T00:00Z"}, "at", "in the future"),
    ("kpis", {"start": "2031-01-01T00:00Z", "end": "2031-01-02T00:00Z"}, "start", "in the future"),
    ("kpis", {"start": "-1d", "end": "-2d"}, "end", "not after start"),
    ("capacity", {"horizon": "banana"}, "horizon", ""),
])
def test_what_is_not_a_time_or_runs_backwards_is_refused_before_any_kernel(report, raw, field, says):
    with pytest.raises(ParameterError) as e:
        resolve_params(get_report(report), raw)
    assert e.value.name == field and says in str(e.value)


def test_an_end_in_the_future_is_clipped_and_said_not_averaged_in_as_silence():
    # `run kpis -p start -1d -p end 2027-03-01T00:00Z` read minutes that had not happened as zero traffic
    p = resolve_params(get_report("kpis"), {"start": "-1d", "end": "2030-01-01T00:00Z"})  # accepted, not "start"
    assert p["end"].startswith("2030")
    window, notes = report_window("-1d", "2030-01-01T00:00Z", NOW)
    assert window.end == pd.Timestamp(NOW) and "in the future" in notes[0]
    with pytest.raises(ValueError, match="in the future"):
        report_window(pd.Timestamp(NOW) + pd.Timedelta(hours=1), "2030-01-01", NOW)
    clipped = kpi.run(start="-1d", end="2030-01-01T00:00Z", now=NOW)
    plain = kpi.run(start="-1d", end="now", now=NOW)
    assert any("in the future" in n for n in clipped.all_notes())
    pd.testing.assert_frame_equal(clipped.table, plain.table)  # the same figures: nothing diluted


def test_at_alone_analyses_the_incident_at_that_time_not_the_latest():
    latest = incident.run(now=NOW)
    older_start = latest.incident.start - pd.Timedelta(days=3)
    # the demo's incidents a few days before the latest: ask for one of them by a time inside it
    from rtanalytics.sources.demo import DemoSource
    from rtanalytics.timewindow import TimeWindow
    inc = DemoSource().incidents(TimeWindow(older_start - pd.Timedelta(days=7), latest.incident.start))
    assert len(inc), "the demo has earlier incidents"
    target = inc.iloc[0]
    at = target["start"] + (target["end"] - target["start"]) / 2
    rep = incident.run(at=at.isoformat(), now=NOW)
    assert (rep.incident.start, rep.incident.end) == (target["start"], target["end"])
    assert rep.incident.start != latest.incident.start
    quiet = incident.run(at=(target["end"] + pd.Timedelta(hours=6)).isoformat(), now=NOW)
    assert quiet.incident.end - quiet.incident.start == pd.Timedelta(hours=1) and any("hour around" in n for n in quiet.all_notes())


def test_cloudwatch_without_credentials_is_refused_before_any_kernel(tmp_path, monkeypatch):
    """Issue #38 item 10: no credentials for an AWS environment used to fail in cell 3 after a kernel started (a
    ``failed`` run on the board). Nothing is sent anywhere: the instance-metadata lookup is switched off here."""
    from rtanalytics.reports.runner import run_report as run

    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
              "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ParameterError) as e:
        run("kpis", {"environment": "production", "start": "-1h"}, outputs=tmp_path / "out")
    assert e.value.name == "environment" and "aws sso login" in str(e.value) and "no credentials" in str(e.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.ipynb"))


def test_an_incidents_file_that_is_not_there_is_refused_and_an_unknown_symptom_is_said(tmp_path):
    with pytest.raises(ParameterError) as e:
        resolve_params(get_report("alarms"), {"incidents_file": str(tmp_path / "nonexistent.csv")})
    assert e.value.name == "incidents_file"
    rep = incident.run(symptom="nosuchsignal", now=NOW)
    assert rep.status == "partial" and any("nosuchsignal" in n for n in rep.all_notes())


@pytest.mark.parametrize("pts, shown, moved", [
    ([0.79031, 0.79034], ["0.7903", "0.7903"], False),        # the same figure as shown: no verdict
    ([486400.0, 486401.0], ["4.864e+05", "4.864e+05"], False),
    ([10, 12, 10, 12, 11, 13], ["10", "12", "10", "12", "11", "13"], False),  # within its run-to-run noise
    ([10, 10.2, 10.1, 10.2, 10.1, 14], ["10", "10.2", "10.1", "10.2", "10.1", "14"], True),
    ([1.0, 2.0], ["1", "2"], True),
])
def test_the_status_board_judges_moves_not_noise(pts, shown, moved):
    """Issue #38 item 8: the trend strip said "0.7903–0.7903 ↑ worse" of identical values a minute apart."""
    from rtanalytics.reports.index import move

    d, verdict, arrow = move(pts, shown)
    assert verdict is moved and (arrow == "→") is (not moved)
