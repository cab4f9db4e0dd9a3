"""Demo generation: 90 days of 1-minute data for every series of the simulated stack, then queries over it (the
last 60 days at 5 minutes and all 90 at one hour: CloudWatch keeps 5-minute data for 63 days). A run whose
queries come back mostly empty fails instead of printing a time for nothing.

Prints the figures; the last line is machine-readable. Run: .venv/bin/python bench/demo_generation.py
"""

from __future__ import annotations

import resource
import time

from rtanalytics.sources.demo import MIN_PER_DAY, DemoSource
from rtanalytics.timewindow import TimeWindow

NOW = "2026-11-20T00:00:00Z"
DAYS = 90
QUERY_DAYS = 60  # within the 63 days CloudWatch keeps 5-minute data


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

    # CloudWatch keeps 5-minute data for 63 days and hourly data for 455 (the demo returns nothing for a finer
    # period than is kept, as CloudWatch does): the last 60 days at 5 minutes, the whole 90 at one hour
    def queries(period):
        return [m.query("Sum" if s.kind in ("event", "remainder", "binary") else "p95", period)
                for m, s in src.by_id.items()]

    def populated(df) -> float:
        return float(df.notna().to_numpy().mean()) if df.size else 0.0

    window = TimeWindow.parse(f"-{QUERY_DAYS}d", "now", now=NOW)
    t0 = time.perf_counter()
    df = src.metrics(queries(300), window)
    q = time.perf_counter() - t0
    filled = populated(df)
    print(f"query (cached raw): {df.shape[1]} queries x {len(df)} 5-minute periods ({QUERY_DAYS} days) in {q:.2f} s; "
          f"{filled:.1%} of the cells have a value")
    hourly_window = TimeWindow.parse(f"-{DAYS}d", "now", now=NOW)
    t0 = time.perf_counter()
    hourly = src.metrics(queries(3600), hourly_window)
    qh = time.perf_counter() - t0
    print(f"query (cached raw): {hourly.shape[1]} queries x {len(hourly)} hourly periods ({DAYS} days) in {qh:.2f} s; "
          f"{populated(hourly):.1%} filled")

    cold = DemoSource(now=NOW)
    t0 = time.perf_counter()
    cold_df = cold.metrics(queries(300), window)
    cold_s = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"query (cold, generation included): {cold_s:.2f} s; peak RSS {rss:.0f} MiB")
    # a query answered with nothing measures nothing (sparse columns are CloudWatch's: event counts such as 5XX
    # are absent in periods without one)
    for frame in (df, hourly, cold_df):
        p95 = [c for c in frame.columns if " p95 " in f" {c} "]
        answered = sum(bool(frame[c].notna().any()) for c in p95)
        if not frame.notna().to_numpy().any() or answered < len(p95) / 2:
            raise SystemExit(f"queries came back empty ({answered} of {len(p95)} latency queries answered): "
                             f"{str(frame.attrs.get('incomplete'))[:500]}")
    print(f"series={len(src.specs)} days={DAYS} generate_seconds={gen:.2f} query_seconds={q:.2f} "
          f"cold_query_seconds={cold_s:.2f} query_days={QUERY_DAYS} populated={filled:.3f} "
          f"hourly_query_seconds={qh:.2f}")

if __name__ == "__main__":
    main()
