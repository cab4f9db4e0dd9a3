"""The noise report from alarm history (backtest.noise), on a hand-built DescribeAlarmHistory whose figures are
counted by hand."""

import pandas as pd

from rtanalytics.backtest import BusinessHours, noise
from rtanalytics.timewindow import TimeWindow

W = TimeWindow(pd.Timestamp("2026-11-16T00:00Z"), pd.Timestamp("2026-11-17T00:00Z"))  # a Monday, 24 h


def h(rows):
    return pd.DataFrame([{"timestamp": pd.Timestamp(t), "alarm": a, "from_state": f, "to_state": to, "reason": ""}
                         for t, a, f, to in rows])


HISTORY = h([
    # flappy: three 5-minute ALARMs in the afternoon UTC (morning in Los Angeles: business hours), one at night
    ("2026-11-16T17:00Z", "flappy", "OK", "ALARM"), ("2026-11-16T17:05Z", "flappy", "ALARM", "OK"),
    ("2026-11-16T17:20Z", "flappy", "OK", "ALARM"), ("2026-11-16T17:25Z", "flappy", "ALARM", "OK"),
    ("2026-11-16T18:00Z", "flappy", "OK", "ALARM"), ("2026-11-16T18:05Z", "flappy", "ALARM", "OK"),
    ("2026-11-16T06:00Z", "flappy", "OK", "ALARM"), ("2026-11-16T06:05Z", "flappy", "ALARM", "OK"),
    # steady: one 2-hour ALARM
    ("2026-11-16T10:00Z", "steady", "OK", "ALARM"), ("2026-11-16T12:00Z", "steady", "ALARM", "OK"),
    # stuck: in ALARM before the window, one blip to OK for 6 minutes at 12:00
    ("2026-11-16T12:00Z", "stuck", "ALARM", "OK"), ("2026-11-16T12:06Z", "stuck", "OK", "ALARM"),
    # quiet: a transition to OK only (it was INSUFFICIENT_DATA)
    ("2026-11-16T01:00Z", "quiet", "INSUFFICIENT_DATA", "OK"),
])
BH = BusinessHours(timezone="America/Los_Angeles", start="08:00", end="18:00", weekdays=[0, 1, 2, 3, 4])


def test_noise_figures_counted_by_hand():
    t = noise(HISTORY, W, ["steady", "flappy", "stuck", "quiet", "silent"], BH, replayed={"steady": 1, "flappy": 2})
    r = {row["alarm"]: row for row in t.to_dict("records")}
    f = r["flappy"]
    assert (f["pages"], f["flaps"], f["median_minutes"], f["longest_minutes"]) == (4, 4, 5.0, 5.0)
    assert f["off_hours_pages"] == 1  # 06:00 UTC is 22:00 in Los Angeles; 17:00-18:00 UTC is 09:00-10:00 there
    assert f["verdict"] == "flapping" and f["agrees"] is False and f["replay_pages"] == 2
    s = r["steady"]
    assert (s["pages"], s["flaps"], s["longest_minutes"], s["verdict"], s["agrees"]) == (1, 0, 120.0, "ok", True)
    assert abs(s["share_in_alarm"] - 120 / 1440) < 1e-12
    k = r["stuck"]  # in ALARM from the window's start to 12:00, then from 12:06 to the end
    assert k["pages"] == 1 and k["longest_minutes"] == 12 * 60 and abs(k["share_in_alarm"] - 1434 / 1440) < 1e-12
    assert k["verdict"] == "always firing"
    assert r["quiet"]["verdict"] == "never fired" and r["quiet"]["pages"] == 0
    assert r["silent"]["verdict"].startswith("no transition")
    assert list(t["alarm"])[:2] == ["flappy", "steady"] or list(t["alarm"])[0] == "flappy"  # noisiest first


def test_the_daily_ops_summary_carries_the_fortnights_noise(demo):
    """daily-ops: the noise over the 14 days of history before its end, in the checklist, the tables and the
    summary — the same figures as the noise report on the same history, counted from the transitions."""
    from rtanalytics.reports import health

    from .conftest import NOW

    ops = health.daily(end=NOW, now=NOW, probe=False)
    hist = demo.alarm_history(TimeWindow(pd.Timestamp(NOW) - pd.Timedelta(days=14), pd.Timestamp(NOW)))
    entries = int((hist["to_state"] == "ALARM").sum())
    assert entries > 0  # the demo's incidents page
    assert int(ops.noise["pages"].sum()) == entries
    assert ops.summary()["alarm_pages_14d"] == entries
    line = ops.checklist().set_index("check").loc["Alarm noise (14 days)", "result"]
    assert line.startswith(f"{entries} pages from {int(hist.loc[hist['to_state'] == 'ALARM', 'alarm'].nunique())} "
                           "alarms")
    assert "alarm_noise" in ops.tables()
    noisy = ops.summary()["noisy_alarms"]
    assert all(n in set(hist["alarm"]) for n in noisy.split(", ") if n)
