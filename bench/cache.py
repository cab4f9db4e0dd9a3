"""The long cache: 100 series x 15 months x 1-minute read back from the Parquet cache (65.7 M cells).

A year and a quarter of 1-minute data is what the cache accumulates when reports run daily (CloudWatch keeps
1-minute data 15 days; the cache keeps what it fetched). The bench fills a cache with that much (the demo's
values at full resolution, settled), then reads it back through ``CachedSource.metrics`` in a fresh process, as
a report would, and prints the wall time, the peak memory and the files it is kept in (each query's history is
compacted into one file per grid phase once four weekly chunk files accumulate). The baseline for the figure is
the goal the issue set (< 3 s, < 2 GB), not another implementation.

Last line: series=100 days=456 cells=N files=N read_seconds=X read_peak_mib=X fill_seconds=X
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERIES, DAYS = int(sys.argv[1]) if len(sys.argv) > 1 else 100, 456
NOW = "2026-11-20T00:00Z"

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, %(root)r)
import pandas as pd
from rtanalytics.sources.cache import CachedSource
from rtanalytics.sources.demo import DemoSource
from rtanalytics.timewindow import TimeWindow

class Full:
    name = "demo-full"
    def __init__(self):
        self.d = DemoSource(now=%(now)r)
        self.now = self.d.now
        self.calls = 0
    def metrics(self, qs, w):
        self.calls += 1
        return self.d.full_resolution(qs, w)

inner = Full()
ids = [m for m, s in inner.d.by_id.items() if s.kind in ("event", "dist", "binary")]
qs = []
for i in range(%(series)d):
    m = ids[i %% len(ids)]
    q = m.query("Sum" if inner.d.by_id[m].kind != "dist" else "Average", 60)
    qs.append(q.__class__(q.namespace, q.metric, q.dimensions, q.stat, q.period, label=f"s{i}", id=f"q{i}")
              if i >= len(ids) else q)
end = pd.Timestamp(%(now)r) - pd.Timedelta(days=2)
w = TimeWindow(end - pd.Timedelta(days=%(days)d), end)
src = CachedSource(inner, cache_dir=%(cache)r, now=%(now)r, key="bench")
t0 = time.perf_counter()
if %(fill)r:
    for k in range(0, %(days)d, 30):  # filled a month at a time, as daily runs would over the months
        ww = TimeWindow(w.start + pd.Timedelta(days=k), min(w.end, w.start + pd.Timedelta(days=k + 30)))
        src.metrics(qs, ww)
    df = None
else:
    df = src.metrics(qs, w)
secs = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {"seconds": secs, "peak_mib": peak, "inner_calls": inner.calls}
if df is not None:
    out |= {"cells": int(df.size), "present": int(df.notna().sum().sum()), "hits": src.stats.hits}
print(json.dumps(out))
"""


def child(cache: str, fill: bool) -> dict:
    code = CHILD % {"root": str(ROOT), "now": NOW, "series": SERIES, "days": DAYS, "cache": cache, "fill": fill}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        fill = child(cache, True)
        files = sum(1 for _ in Path(cache).rglob("*.parquet"))
        size = sum(p.stat().st_size for p in Path(cache).rglob("*.parquet")) / 2**20
        read = child(cache, False)
    print(f"filled: {SERIES} series x {DAYS} days of 1-minute data in {fill['seconds']:.1f} s -> {files:,} Parquet "
          f"files, {size:.0f} MiB")
    print(f"read back (fresh process): {read['cells']:,} cells ({read['present']:,} present) in {read['seconds']:.2f} s, "
          f"peak RSS {read['peak_mib']:.0f} MiB, {read['hits']:,} week-chunks served from {files:,} files, "
          f"{read['inner_calls']} source calls")
    print(f"series={SERIES} days={DAYS} cells={read['cells']} files={files} read_seconds={read['seconds']:.2f} "
          f"read_peak_mib={read['peak_mib']:.0f} fill_seconds={fill['seconds']:.1f} source_calls={read['inner_calls']}")


if __name__ == "__main__":
    main()
