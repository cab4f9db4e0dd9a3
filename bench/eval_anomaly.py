"""Score :func:`rtanalytics.anomaly.anomalies` on NAB's real labelled series (realKnownCause, realTraffic).

Data: ``../shared/realdata/nab`` (or ``$RTANALYTICS_REALDATA/nab``): one ``timestamp,value`` CSV per series,
naive timestamps taken as UTC, and ``labels/combined_windows.json``. Scoring (the realdata README's): a window
is detected when a detection (an episode onset) falls inside it or within one window length before it; every
other detection after the first 15 % of the series (NAB's probationary period) is a false positive.

Beside it, in the same run, the baseline an engineer would write plainly: a point more than 3 standard
deviations from the series' mean over the probationary period (global z-score), one detection per run of such
points. Prints one line per series, then the totals as the last line:
``series= windows= detected= recall= false_positives= fp_per_series= baseline_recall= baseline_fp_per_series=``
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


def main() -> int:
    d = nab_dir()
    if d is None:
        print("realdata/nab not found: set RTANALYTICS_REALDATA (skipped)")
        return 0
    tot_w = tot_hit = tot_fp = b_hit = b_fp = n = 0
    t0 = time.perf_counter()
    for key, s, wins in load(d):
        ep = anomalies(s)
        det = list(ep["onset"])
        hit, fp = score(det, wins, s.index)
        bh, bf = score(baseline(s), wins, s.index)
        n += 1
        tot_w += len(wins)
        tot_hit += hit
        tot_fp += fp
        b_hit += bh
        b_fp += bf
        print(f"{key:55s} windows={len(wins)} detected={hit} fp={fp}  baseline: detected={bh} fp={bf}")
    secs = time.perf_counter() - t0
    print(f"series={n} windows={tot_w} detected={tot_hit} recall={tot_hit / tot_w:.3f} false_positives={tot_fp} "
          f"fp_per_series={tot_fp / n:.2f} baseline_recall={b_hit / tot_w:.3f} baseline_fp_per_series={b_fp / n:.2f} "
          f"seconds={secs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
