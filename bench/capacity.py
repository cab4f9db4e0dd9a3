"""Forecast 200 series x 90 days at 5-minute resolution (the capacity model: least squares on trend + daily and
weekly Fourier terms, 30-day horizon with 95% prediction intervals), quiet and with the other core busy.

Each measurement runs in a fresh interpreter with one BLAS thread (as the runner sets for report kernels), once on
a quiet machine and once while a second process keeps the other core busy; statsmodels is checked not to be
imported. The reference is statsmodels' OLS + get_prediction (what the model used before), run the same way on
the first 20 series and scaled.

Last line: series=200 seconds_quiet=X seconds_load=X statsmodels_imported=false import_seconds=X
reference_seconds_load=X speedup_load=X
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N, DAYS, REF_N = 200, 90, 20

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd
sys.path.insert(0, %(root)r)
from rtanalytics.capacity import forecast, design
imp = time.perf_counter() - t0
rng = np.random.default_rng(5)
idx = pd.date_range("2026-08-22", periods=%(days)d * 288, freq="5min", tz="UTC")
t = np.arange(idx.size) / 288.0
base = (1.3 + np.sin(2 * np.pi * t)) * (1 + 0.3 * (idx.day_of_week < 5)) * (1.01 ** (t / 7))
series = [pd.Series(rng.poisson(base * rng.uniform(5, 500)).astype(float), index=idx) for _ in range(%(n)d)]
t0 = time.perf_counter()
if %(reference)r:
    import statsmodels.api as sm
    for s in series:
        y = np.log1p(s.to_numpy())
        fut = pd.date_range(idx[-1] + pd.Timedelta(minutes=5), periods=30 * 288, freq="5min", tz="UTC")
        sm.OLS(y, design(s.index, idx[0])).fit().get_prediction(design(fut, idx[0])).summary_frame(alpha=0.05)
else:
    out = [forecast(s, "30d") for s in series]
    assert all(len(f.mean) == 30 * 288 for f in out)
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "import": imp, "statsmodels": "statsmodels" in sys.modules}))
"""


def child(n: int, reference: bool = False) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    code = CHILD % {"root": str(ROOT), "days": DAYS, "n": n, "reference": reference}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    quiet = child(N)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        load = child(N)
        ref = child(REF_N, reference=True)
    finally:
        burner.kill()
    ref_s = ref["seconds"] * N / REF_N
    print(f"{N} series x {DAYS * 288:,} points, 30-day horizon with 95% intervals, one BLAS thread: "
          f"{quiet['seconds']:.2f} s quiet, {load['seconds']:.2f} s with the other core busy "
          f"({1000 * load['seconds'] / N:.0f} ms per series); importing rtanalytics.capacity {quiet['import']:.2f} s, "
          f"statsmodels imported: {quiet['statsmodels']}")
    print(f"reference (statsmodels OLS + get_prediction, {REF_N} series scaled, under the same load): {ref_s:.2f} s")
    print(f"series={N} seconds_quiet={quiet['seconds']:.2f} seconds_load={load['seconds']:.2f} "
          f"statsmodels_imported={str(quiet['statsmodels']).lower()} import_seconds={quiet['import']:.2f} "
          f"reference_seconds_load={ref_s:.2f} speedup_load={ref_s / load['seconds']:.1f}")


if __name__ == "__main__":
    main()
