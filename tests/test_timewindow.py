import pandas as pd
import pytest

from rtanalytics.timewindow import TimeWindow, parse_duration, parse_time, period_seconds

NOW = pd.Timestamp("2026-11-20T12:34:56Z")


@pytest.mark.parametrize("text,expected", [
    ("now", "2026-11-20T12:34:56Z"),
    ("-7d", "2026-11-13T12:34:56Z"),
    ("24h", "2026-11-19T12:34:56Z"),
    ("now-1h30m", "2026-11-20T11:04:56Z"),
    ("now+5m", "2026-11-20T12:39:56Z"),
    ("today", "2026-11-20T00:00:00Z"),
    ("yesterday", "2026-11-19T00:00:00Z"),
    ("2026-11-01", "2026-11-01T00:00:00Z"),
    ("2026-11-01T06:00+02:00", "2026-11-01T04:00:00Z"),
])
def test_parse_time(text, expected):
    got = parse_time(text, NOW)
    assert got == pd.Timestamp(expected)
    assert str(got.tz) == "UTC"


@pytest.mark.parametrize("bad", ["not-a-time", "", "-7x", "2026-13-45"])
def test_parse_time_rejects(bad):
    with pytest.raises(ValueError, match="time"):
        parse_time(bad, NOW)


def test_durations_and_periods():
    assert parse_duration("1h30m") == pd.Timedelta(minutes=90)
    assert parse_duration(300) == pd.Timedelta(minutes=5)
    assert period_seconds("5m") == 300
    with pytest.raises(ValueError, match="multiple of 60"):
        period_seconds("90s")
    with pytest.raises(ValueError):
        parse_duration("-5m")


def test_window_must_be_ordered():
    with pytest.raises(ValueError, match="not before"):
        TimeWindow.parse("now", "-1h", now=NOW)
    w = TimeWindow.parse("-1h", "now", now=NOW)
    assert w.duration == pd.Timedelta(hours=1)
