"""Score :func:`rtanalytics.anomaly.anomalies` on NAB's real labelled series (realKnownCause, realTraffic).

Data: ``../shared/realdata/nab`` (or ``$RTANALYTICS_REALDATA/nab``): one ``timestamp,value`` CSV per series,
naive timestamps taken as UTC, and ``labels/combined_windows.json``. Scoring (the realdata README's): a window
is detected when a detection (an episode onset) falls inside it or within one window length before it; every
other detection after the first 15 % of the series (NAB's probationary period) is a false positive.

Beside it, in the same run, the baseline an engineer would write plainly: a point more than 3 standard
deviations from the series' mean over the probationary period (global z-score), one detection per run of such
points. Prints one line per series, then the totals as the last line:
``series= windows= detected= recall= false_positives= fp_per_series= report_recall= report_fp_per_series=
heldout_recall= heldout_fp_per_series= random_heldout_recall= random_heldout_fp_per_series= baseline_recall=
baseline_fp_per_series=``

* ``report_*``: through the incident report's path — the series written to a folder, read back by the ``files``
  source at its natural period (values placed on the period grid, as a report's query gets them) and scanned by
  :func:`rtanalytics.anomaly.scan`, as the incident report does, with its default settings.
* ``heldout_*``: the defaults were chosen on all 14 series. Two-fold, through the report's path (the frames
  above, :func:`rtanalytics.anomaly.scan`): the series split in halves (alternating by name); on each half a
  grid of the settings that matter (threshold, min_raw, refractory, and the rarity stage's window and count) is tuned (most windows found at no
  more than 2 false positives per series), and the other half is scored with what was tuned. Beside it, each
  half's own tuned figure (``tuned_*``): a large gap says over-fitting. ``random_heldout_*``: the same over
  20 random half splits (seeded), with their spread: one split's figure depends on which series land together.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rtanalytics.anomaly import anomalies  # noqa: E402


def nab_dir() -> Path | None:
    base = Path(os.environ.get("RTANALYTICS_REALDATA", ROOT.parent / "shared" / "realdata"))
    d = base / "nab"
    return d if (d / "labels" / "combined_windows.json").exists() else None


def load(d: Path):
    labels = json.loads((d / "labels" / "combined_windows.json").read_text())
    for key, wins in sorted(labels.items()):
        df = pd.read_csv(d / "data" / key)
        s = pd.Series(df["value"].to_numpy(dtype=float), index=pd.to_datetime(df["timestamp"], utc=True), name=key)
        yield key, s, [(pd.Timestamp(a, tz="UTC"), pd.Timestamp(b, tz="UTC")) for a, b in wins]


def score(detections, windows, series_index) -> tuple[int, int]:
    """(windows detected, false positives) for onset times ``detections``."""
    t0, t1 = series_index.min(), series_index.max()
    prob_end = t0 + (t1 - t0) * 0.15
    ext = [(a - (b - a), b) for a, b in windows]
    hit = sum(any(a <= t <= b for t in detections) for a, b in ext)
    fp = sum(1 for t in detections if t > prob_end and not any(a <= t <= b for a, b in ext))
    return hit, fp


def baseline(s: pd.Series) -> list:
    """Global z-score over the probationary period (mean and std of the first 15 %), 3 sigma."""
    n = max(int(len(s) * 0.15), 10)
    mu, sd = s.iloc[:n].mean(), s.iloc[:n].std() or 1e-9
    on = (np.abs((s - mu) / sd) > 3).to_numpy()
    starts = np.flatnonzero(np.diff(np.r_[0, on.astype(np.int8)]) == 1)
    return list(s.index[starts])


def files_path_frames(data, folder: Path) -> dict:
    """Each series as the incident report would get it from a folder of exports: written as CSV, read back
    through the files source at the folder's natural period."""
    from rtanalytics.queries import MetricQuery
    from rtanalytics.sources.files import FilesSource
    from rtanalytics.timewindow import TimeWindow

    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for key, s, _ in data:
        name = key.replace("/", "__").removesuffix(".csv")
        pd.DataFrame({"timestamp": s.index.tz_localize(None), "value": s.to_numpy()}).to_csv(
            folder / f"{name}.csv", index=False)
        names[key] = name
    src = FilesSource(folder)
    period = src.natural_period()
    out = {}
    for key, s, _ in data:
        q = MetricQuery("NAB", names[key], {}, "Average", period, label=names[key])
        w = TimeWindow(s.index.min().floor(f"{period}s"), s.index.max().ceil(f"{period}s") + pd.Timedelta(
            seconds=period))
        out[key] = src.metrics([q], w)
    return out, period


def evaluate(data, settings=None, frames: dict | None = None) -> tuple[int, int, int]:
    """(windows, detected, false positives) with ``settings`` over ``data``: through the report's path
    (:func:`rtanalytics.anomaly.scan` of the files source's frame of each series) when ``frames`` is given,
    else :func:`anomalies` of the bare series."""
    from rtanalytics.anomaly import scan

    w = h = f = 0
    for key, s, wins in data:
        ep = scan(frames[key], settings) if frames is not None else anomalies(s, settings)
        hit, fp = score(list(ep["onset"]), wins, s.index)
        w, h, f = w + len(wins), h + hit, f + fp
    return w, h, f


SCAN_GRID = [dict(threshold=t, min_raw=m, refractory=r) for t in (3.5, 4.0, 4.5, 5.0, 5.5)
             for m in (3.0, 4.0, 5.0) for r in ("12h", "1D", "2D")]
RARITY_GRID = [dict(rarity_window=w, rarity_count=k) for w in ("14D", "30D") for k in (2, 3, 4)]
GRID = [{**g, **r} for g in SCAN_GRID for r in RARITY_GRID]


def grid_scores(data, frames) -> dict:
    """``{(grid index, series): (windows, detected, false positives)}`` for every point of ``GRID``, through
    the report's path. The rarity stage only filters a series' episodes, so each ``SCAN_GRID`` point is
    scanned once with it off and :func:`rtanalytics.anomaly.rare` — what :func:`~rtanalytics.anomaly.anomalies`
    calls last — is applied per rarity setting; checked against a full scan at the defaults first."""
    from dataclasses import replace

    from rtanalytics.anomaly import AnomalySettings, rare, scan

    for key, _, _ in data:  # the shortcut is the product's path: the same episodes as a plain scan
        d = AnomalySettings()
        cut = rare(scan(frames[key], replace(d, rarity_count=0)), d.rarity_window,
                   d.rarity_count, d.rarity_ratio).sort_values("onset")
        assert list(cut["onset"]) == sorted(scan(frames[key], d)["onset"]), key
    out = {}
    for si, g in enumerate(SCAN_GRID):
        st = AnomalySettings(**g, rarity_count=0)
        for key, s, wins in data:
            ep = scan(frames[key], st)
            for ri, r in enumerate(RARITY_GRID):
                kept = rare(ep, r["rarity_window"], r["rarity_count"], st.rarity_ratio)
                out[si * len(RARITY_GRID) + ri, key] = (len(wins), *score(list(kept["onset"]), wins, s.index))
    return out


def best_point(cache, keys) -> int:
    """The grid point finding the most windows of ``keys`` at no more than 2 false positives per series."""
    def ev(gi):
        return tuple(sum(cache[gi, k][j] for k in keys) for j in range(3))

    return max(range(len(GRID)), key=lambda gi: (ev(gi)[2] / len(keys) <= 2.0, ev(gi)[1] / ev(gi)[0], -ev(gi)[2]))


def random_halves(data, cache, splits: int = 20, seed: int = 0) -> list[tuple[float, float]]:
    """The two-fold held-out figure over ``splits`` random half splits (seeded): one split's figure depends on
    which seven series land together; the spread says how much."""
    def ev(keys, gi):
        return tuple(sum(cache[gi, k][j] for k in keys) for j in range(3))

    def best(keys):
        return best_point(cache, keys)

    keys = [k for k, _, _ in data]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(splits):
        a, b = np.split(rng.permutation(keys), [len(keys) // 2])
        w = h = f = 0
        for own, other in ((list(a), list(b)), (list(b), list(a))):
            tw, th, tf = ev(other, best(own))
            w, h, f = w + tw, h + th, f + tf
        out.append((h / w, f / len(keys)))
    return out


def main() -> int:
    import tempfile

    from rtanalytics.anomaly import scan

    d = nab_dir()
    if d is None:
        print("realdata/nab not found: set RTANALYTICS_REALDATA (skipped)")
        return 0
    tot_w = tot_hit = tot_fp = b_hit = b_fp = r_hit = r_fp = n = 0
    t0 = time.perf_counter()
    data = list(load(d))
    with tempfile.TemporaryDirectory() as tmp:
        frames, period = files_path_frames(data, Path(tmp))
    for key, s, wins in data:
        ep = anomalies(s)
        det = list(ep["onset"])
        hit, fp = score(det, wins, s.index)
        bh, bf = score(baseline(s), wins, s.index)
        rh, rf = score(list(scan(frames[key])["onset"]), wins, s.index)
        n += 1
        tot_w += len(wins)
        tot_hit += hit
        tot_fp += fp
        b_hit += bh
        b_fp += bf
        r_hit += rh
        r_fp += rf
        print(f"{key:55s} windows={len(wins)} detected={hit} fp={fp}  report: detected={rh} fp={rf}  "
              f"baseline: detected={bh} fp={bf}")
    halves = [data[0::2], data[1::2]]
    ho_w = ho_h = ho_f = 0
    tuned = []
    cache = grid_scores(data, frames)  # tuned and scored through the report's path, as the report runs

    def ev(part, gi):
        return tuple(sum(cache[gi, k][j] for k, _, _ in part) for j in range(3))

    for i in (0, 1):
        gi = best_point(cache, [k for k, _, _ in halves[i]])
        tw, th, tf = ev(halves[i], gi)
        w, h, f = ev(halves[1 - i], gi)
        ho_w, ho_h, ho_f = ho_w + w, ho_h + h, ho_f + f
        tuned.append((th / tw, tf / len(halves[i])))
        print(f"half {i + 1} ({len(halves[i])} series) tuned {GRID[gi]}: own recall={th / tw:.3f} fp_per_series="
              f"{tf / len(halves[i]):.2f}; other half recall={h / w:.3f} fp_per_series={f / len(halves[1 - i]):.2f}")
    gi = best_point(cache, [k for k, _, _ in data])
    print(f"tuned on all {len(data)} series: {GRID[gi]} recall={ev(data, gi)[1] / ev(data, gi)[0]:.3f} "
          f"fp_per_series={ev(data, gi)[2] / len(data):.2f} (the defaults are the line below's report_*)")
    rnd = random_halves(data, cache)
    print(f"{len(rnd)} random half splits, tuned on one half and scored on the other, through the report's path: "
          f"recall {np.mean([r[0] for r in rnd]):.3f} (sd {np.std([r[0] for r in rnd]):.3f}) at "
          f"{np.mean([r[1] for r in rnd]):.2f} false positives per series (sd {np.std([r[1] for r in rnd]):.2f})")
    secs = time.perf_counter() - t0
    print(f"series={n} windows={tot_w} detected={tot_hit} recall={tot_hit / tot_w:.3f} false_positives={tot_fp} "
          f"fp_per_series={tot_fp / n:.2f} report_recall={r_hit / tot_w:.3f} report_fp_per_series={r_fp / n:.2f} "
          f"report_period_s={period} heldout_recall={ho_h / ho_w:.3f} heldout_fp_per_series={ho_f / n:.2f} "
          f"tuned_recall={sum(t[0] for t in tuned) / 2:.3f} random_heldout_recall={np.mean([r[0] for r in rnd]):.3f} "
          f"random_heldout_fp_per_series={np.mean([r[1] for r in rnd]):.2f} baseline_recall={b_hit / tot_w:.3f} "
          f"baseline_fp_per_series={b_fp / n:.2f} seconds={secs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
