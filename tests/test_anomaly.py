"""Anomaly episodes on any series: rises and drops, several per series, irregular spacing and repeated
timestamps, short history; and on NAB's real labelled series when ../shared/realdata is there."""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtanalytics.anomaly import anomalies, regular, scan

ROOT = Path(__file__).resolve().parents[1]


def noisy(n=3 * 288, step="5min", seed=0, level=100.0, sd=2.0):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2026-11-01", periods=n, freq=step, tz="UTC")
    return pd.Series(level + rng.normal(0, sd, n), index=idx, name="m")


def test_a_rise_and_a_drop_are_two_episodes_with_their_onsets():
    s = noisy(n=6 * 288)
    s.iloc[400:430] += 40  # rise at point 400
    s.iloc[1400:1440] -= 40  # drop three days later (an episode raises the bar for the 2 days after it)
    ep = anomalies(s)
    assert list(ep["direction"]) == ["rise", "drop"]
    assert abs((ep["onset"].iloc[0] - s.index[400]).total_seconds()) <= 3 * 300
    assert abs((ep["onset"].iloc[1] - s.index[1400]).total_seconds()) <= 3 * 300
    assert (ep["strength"] > 4.5).all() and ep["end"].notna().all()


def test_quiet_noise_has_no_episode_and_less_than_a_week_is_enough():
    assert anomalies(noisy(n=2 * 288, seed=3)).empty  # two days of plain noise
    s = noisy(n=2 * 288, seed=4)
    s.iloc[500:520] *= 1.8
    assert len(anomalies(s)) == 1


def test_irregular_repeated_and_unsorted_timestamps():
    s = noisy(seed=5)
    s.iloc[600:630] += 50
    rng = np.random.default_rng(1)
    jitter = pd.to_timedelta(rng.integers(-60, 60, len(s)), unit="s")
    t = s.index + jitter
    dup = pd.Series(s.to_numpy()[:50], index=t[:50])  # the same timestamps again (an export's repeated hour)
    messy = pd.concat([pd.Series(s.to_numpy(), index=t), dup]).sample(frac=1, random_state=2)
    r = regular(messy)
    assert r.index.is_monotonic_increasing and not r.index.has_duplicates
    ep = anomalies(messy)
    assert len(ep) == 1 and abs((ep["onset"].iloc[0] - s.index[600]).total_seconds()) <= 4 * 300


def test_a_seasonal_series_is_judged_against_its_season():
    """A daily cycle of +-50 is normal; a night that looks like noon is not."""
    idx = pd.date_range("2026-10-01", periods=21 * 96, freq="15min", tz="UTC")
    hour = idx.hour + idx.minute / 60
    rng = np.random.default_rng(7)
    v = 100 + 50 * np.sin(2 * np.pi * hour / 24) + rng.normal(0, 2, len(idx))
    s = pd.Series(v, index=idx)
    night = (idx >= "2026-10-18T02:00Z") & (idx < "2026-10-18T05:00Z")
    s[night] += 80
    ep = anomalies(s)
    assert len(ep) >= 1
    assert any(abs((o - pd.Timestamp("2026-10-18T02:00Z")).total_seconds()) <= 3600 for o in ep["onset"])
    assert len(ep) <= 2  # the ordinary cycle itself raises nothing (at most one more episode)


def test_scan_a_frame_strongest_first():
    a, b = noisy(seed=8).rename("a"), noisy(seed=9).rename("b")
    b.iloc[500:530] += 100
    a.iloc[300:330] += 20
    out = scan(pd.concat([a, b], axis=1))
    assert list(out["series"])[:1] == ["b"] and set(out["series"]) == {"a", "b"}


def test_nothing_to_judge_is_no_episode():
    assert anomalies(pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz="UTC"))).empty
    assert anomalies(noisy(n=10)).empty


REAL = Path(os.environ.get("RTANALYTICS_REALDATA", ROOT.parent / "shared" / "realdata")) / "nab"


def _nab_family(family: str):
    sys.path.insert(0, str(ROOT / "bench"))
    import eval_anomaly as E

    hit = fp = wins_n = n = 0
    for key, s, wins in E.load(REAL):
        if not key.startswith(family + "/"):
            continue
        h, f = E.score(list(anomalies(s)["onset"]), wins, s.index)
        hit, fp, wins_n, n = hit + h, fp + f, wins_n + len(wins), n + 1
    return hit, fp, wins_n, n


@pytest.mark.skipif(not (REAL / "labels").exists(), reason="../shared/realdata/nab not present")
def test_nab_real_series_recall_and_false_positives():
    """The goal (recall >= 0.7 at <= 2 false positives per series) on the two families the detector was designed
    with; the family added later is the next test."""
    hit = fp = wins_n = n = 0
    for family in ("realKnownCause", "realTraffic"):
        h, f, w, k = _nab_family(family)
        hit, fp, wins_n, n = hit + h, fp + f, wins_n + w, n + k
    assert n == 14 and hit / wins_n >= 0.7 and fp / n <= 2.0, (hit, wins_n, fp, n)


@pytest.mark.skipif(not (REAL / "data" / "realAWSCloudwatch").exists(), reason="NAB's realAWSCloudwatch not present")
@pytest.mark.xfail(strict=True, reason="issue #40: on the real CloudWatch family nobody designed with, recall is "
                                       "about 0.4 at under 1 false positive per series — the goal does not carry yet")
def test_nab_real_cloudwatch_family_meets_the_same_goal():
    hit, fp, wins_n, n = _nab_family("realAWSCloudwatch")
    assert n == 17 and hit / wins_n >= 0.7 and fp / n <= 2.0, (hit, wins_n, fp, n)


def test_a_sparse_series_is_not_judged():
    s = noisy(n=300)
    s.iloc[::7] = np.nan
    s = s.iloc[:40]  # too little history for any predictor
    assert anomalies(s).empty


def test_a_habit_is_not_an_anomaly_but_what_breaks_it_is():
    """The same spike every other day is reported the first times only; a stronger one still is; with the
    rarity stage off every spike is."""
    from rtanalytics.anomaly import AnomalySettings, rare

    s = noisy(n=40 * 288, seed=11)
    spikes = list(range(3 * 288 + 100, 36 * 288, 2 * 288))  # every other day from day 3
    for i in spikes:
        s.iloc[i:i + 6] += 30
    big = 37 * 288 + 50
    s.iloc[big:big + 6] += 120
    ep = anomalies(s).sort_values("onset")
    every = anomalies(s, AnomalySettings(rarity_count=0)).sort_values("onset")
    assert len(every) >= len(spikes)  # the detector itself sees every spike
    d = AnomalySettings()
    assert len(ep) == d.rarity_count + 1  # the first three spikes, then the habit is set aside ...
    assert abs((ep["onset"].iloc[-1] - s.index[big]).total_seconds()) <= 3 * 300  # ... but not what breaks it
    for a, b in zip(ep["onset"].iloc[:3], [s.index[i] for i in spikes[:3]]):
        assert abs((a - b).total_seconds()) <= 3 * 300
    # the filter is causal and order-free: the same episodes whichever order they come in
    shuffled = every.sample(frac=1, random_state=3)
    assert sorted(rare(shuffled, d.rarity_window, d.rarity_count, d.rarity_ratio)["onset"]) == list(ep["onset"])
