"""Forecast 200 series x 90 days at 5-minute resolution (the capacity model: statsmodels OLS on trend + daily and
weekly Fourier terms, 30-day horizon with 95% prediction intervals). Prints wall time, per-series time and peak
memory. Last line: series=200 seconds=X
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtanalytics.capacity import forecast  # noqa: E402

N, DAYS = 200, 90


def main() -> None:
    rng = np.random.default_rng(5)
    idx = pd.date_range("2026-08-22", periods=DAYS * 288, freq="5min", tz="UTC")
    t = np.arange(idx.size) / 288.0
    base = (1.3 + np.sin(2 * np.pi * t)) * (1 + 0.3 * (idx.day_of_week < 5)) * (1.01 ** (t / 7))
    series = [pd.Series(rng.poisson(base * rng.uniform(5, 500)).astype(float), index=idx) for _ in range(N)]
    t0 = time.perf_counter()
    out = [forecast(s, "30d") for s in series]
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert all(len(f.mean) == 30 * 288 for f in out)
    print(f"{N} series x {idx.size:,} points, 30-day horizon ({30 * 288:,} steps) with 95% intervals: {secs:.2f} s "
          f"({1000 * secs / N:.0f} ms per series); peak RSS {rss:.0f} MiB")
    print(f"series={N} seconds={secs:.2f}")


if __name__ == "__main__":
    main()
