"""1,000 alarms over 90 days of 1-minute data: the vectorised evaluator against a per-datapoint Python loop.

The series are the demo's (a mix of counts that go missing when zero, latencies and error rates, with the
scenario's incidents), and the 1,000 alarms vary threshold, M of N and TreatMissingData over them. The loop
reference (``rtanalytics.alarms.evaluate_loop``, the documented rules written one evaluation at a time) costs
about 0.9 s per alarm here, so it runs on a sample of ``LOOP_SAMPLE`` alarms; ``loop_seconds`` is that time
scaled to 1,000 alarms, and ``identical`` compares the sampled alarms' state timelines exactly.

Last line: alarms=1000 seconds=X loop_seconds=Y speedup=Z identical=true
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtanalytics.alarms import Alarm, STATE_NAMES, evaluate_loop, evaluate_states  # noqa: E402
from rtanalytics.sources.demo import DemoSource  # noqa: E402
from rtanalytics.timewindow import TimeWindow  # noqa: E402

N_ALARMS, DAYS, LOOP_SAMPLE = 1000, 90, 10
MODES = ["missing", "ignore", "breaching", "notBreaching"]


def main() -> None:
    src = DemoSource(now="2026-11-20T00:00Z")
    window = TimeWindow.parse(f"-{DAYS}d", "now", now="2026-11-20T00:00Z")
    picks = [m for m, s in src.by_id.items() if s.kind in ("event", "dist", "binary")][:40]
    t0 = time.perf_counter()
    df = src.metrics([m.query("Sum" if src.by_id[m].kind != "dist" else "Average", 60) for m in picks], window)
    df = df.loc[:, df.notna().sum() > 100]  # series that have data (throttles stay absent without incidents)
    print(f"data: {df.shape[1]} series x {len(df):,} one-minute datapoints generated in "
          f"{time.perf_counter() - t0:.1f} s ({df.isna().mean().mean():.0%} missing)")
    rng = np.random.default_rng(1)
    alarms, columns = [], []
    for i in range(N_ALARMS):
        col = df.columns[i % df.shape[1]]
        q = np.nanquantile(df[col].to_numpy(), rng.uniform(0.5, 0.999))
        n = int(rng.integers(1, 6))
        alarms.append(Alarm(AlarmName=f"a{i}", Namespace="Bench", MetricName=col, Statistic="Sum", Period=60,
                            EvaluationPeriods=n, DatapointsToAlarm=int(rng.integers(1, n + 1)), Threshold=float(q),
                            ComparisonOperator="GreaterThanThreshold", TreatMissingData=MODES[i % 4]))
        columns.append(col)
    arrays = {c: df[c].to_numpy() for c in df.columns}
    t0 = time.perf_counter()
    results = [evaluate_states(a, arrays[c]) for a, c in zip(alarms, columns)]
    vec = time.perf_counter() - t0
    print(f"vectorised: {N_ALARMS} alarms x {len(df):,} evaluations in {vec:.2f} s")
    t0 = time.perf_counter()
    identical = True
    for a, c, codes in list(zip(alarms, columns, results))[:: N_ALARMS // LOOP_SAMPLE]:
        ref = evaluate_loop(a, list(arrays[c]))
        identical &= ref == list(STATE_NAMES[codes])
    loop_sample = time.perf_counter() - t0
    loop = loop_sample * N_ALARMS / LOOP_SAMPLE
    print(f"loop reference: {LOOP_SAMPLE} alarms in {loop_sample:.1f} s -> {loop:.0f} s for {N_ALARMS} "
          f"(scaled); identical state timelines on the sample: {identical}")
    print(f"alarms={N_ALARMS} seconds={vec:.2f} loop_seconds={loop:.1f} speedup={loop / vec:.0f} "
          f"identical={'true' if identical else 'false'}")


if __name__ == "__main__":
    main()
