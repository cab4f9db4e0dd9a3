"""Demo generation: 90 days of 1-minute data for every series of the simulated stack, then queries over it.

Prints the figures; the last line is machine-readable. Run: .venv/bin/python bench/demo_generation.py
"""

from __future__ import annotations

import resource
import time

from rtanalytics.sources.demo import MIN_PER_DAY, DemoSource
from rtanalytics.timewindow import TimeWindow

NOW = "2026-11-20T00:00:00Z"
DAYS = 90


def main() -> None:
    src = DemoSource(now=NOW)
    end_day = int(src.now.timestamp()) // 86400
    t0 = time.perf_counter()
    for spec in src.specs:
        for d in range(end_day - DAYS, end_day):
            src.raw(spec.key, d)
    gen = time.perf_counter() - t0
    values = len(src.specs) * DAYS * MIN_PER_DAY
    print(f"generate: {len(src.specs)} series ({len(src.by_id)} visible) x {DAYS} days x 1440 min = "
          f"{values / 1e6:.1f} M minute values in {gen:.2f} s ({values / gen / 1e6:.1f} M/s)")

    window = TimeWindow.parse(f"-{DAYS}d", "now", now=NOW)
    queries = [m.query("Sum" if s.kind in ("event", "remainder", "binary") else "p95", 300)
               for m, s in src.by_id.items()]
    t0 = time.perf_counter()
    df = src.metrics(queries, window)
    q = time.perf_counter() - t0
    print(f"query (cached raw): {len(queries)} queries x {len(df)} 5-minute periods in {q:.2f} s")

    cold = DemoSource(now=NOW)
    t0 = time.perf_counter()
    cold.metrics(queries, window)
    cold_s = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"query (cold, generation included): {cold_s:.2f} s; peak RSS {rss:.0f} MiB")
    print(f"series={len(src.specs)} days={DAYS} generate_seconds={gen:.2f} query_seconds={q:.2f} "
          f"cold_query_seconds={cold_s:.2f}")


if __name__ == "__main__":
    main()
