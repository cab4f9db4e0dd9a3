"""1,000 alarms over 90 days of 1-minute data: the vectorised evaluator against a lean per-datapoint loop.

The series are the demo's (a mix of counts that go missing when zero, latencies and error rates, with the
scenario's incidents), and the 1,000 alarms vary threshold, M of N and TreatMissingData over them.

The baseline is what an engineer would write plainly (``evaluate_lean`` below): one pass over the datapoints
keeping the evaluation range in a ``deque`` of breaching flags, the documented rules applied to it. It runs on a
sample stratified over the four TreatMissingData modes (``LOOP_SAMPLE`` alarms, a quarter each), timed and
scaled to 1,000 alarms, and every sampled alarm's state timeline is compared with the vectorised one exactly.
Then the vectorised evaluator over 30, 60 and 90 days, to show how its cost grows with the history.

Last line: alarms=1000 seconds=X seconds_unshared=X lean_seconds=Y speedup=Z speedup_unshared=Z identical=true
modes_checked=4 seconds_30d=..
seconds_60d=.. seconds_90d=.. growth_exponent=E
"""

from __future__ import annotations

import math
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtanalytics.alarms import (ALARM, INSUFFICIENT, OK, OPERATORS, Alarm, evaluate_many,  # noqa: E402
                                evaluate_states, evaluation_range)
from rtanalytics.sources.demo import DemoSource  # noqa: E402
from rtanalytics.timewindow import TimeWindow  # noqa: E402

N_ALARMS, DAYS, LOOP_SAMPLE = 1000, 90, 16
MODES = ["missing", "ignore", "breaching", "notBreaching"]


def evaluate_lean(a: Alarm, values: np.ndarray) -> np.ndarray:
    """The plain loop: the documented rules (see ``rtanalytics.alarms.evaluate_states``) at every datapoint."""
    n, m, r = a.EvaluationPeriods, a.m, evaluation_range(a)
    mode = a.effective_treat_missing
    op, thr = OPERATORS[a.ComparisonOperator], a.Threshold
    win = deque([None] * r, maxlen=r)  # oldest first: None missing, else breaching or not
    state = INSUFFICIENT
    out = np.empty(len(values), dtype=np.int8)
    for i, v in enumerate(values.tolist()):
        win.append(None if v != v else bool(op(v, thr)))
        pts = [b for b in reversed(win) if b is not None]  # newest first
        if len(pts) >= n:
            state = ALARM if sum(pts[:n]) >= m else OK
        else:
            nb = sum(pts)
            if mode == "breaching":
                state = ALARM if nb + n - len(pts) >= m else OK
            elif mode == "notBreaching":
                state = ALARM if nb >= m else OK
            elif not pts:
                state = INSUFFICIENT if mode == "missing" else state
            elif nb >= m:
                state = ALARM
            else:
                oldest = max(age for age, b in enumerate(reversed(win)) if b is not None)
                if all(pts) and oldest + 1 >= m:
                    state = ALARM if mode == "missing" else state
                else:
                    state = OK
        out[i] = state
    return out


def make_alarms(df, rng):
    alarms, columns = [], []
    for i in range(N_ALARMS):
        col = df.columns[i % df.shape[1]]
        q = np.nanquantile(df[col].to_numpy(), rng.uniform(0.5, 0.999))
        n = int(rng.integers(1, 6))
        alarms.append(Alarm(AlarmName=f"a{i}", Namespace="Bench", MetricName=col, Statistic="Sum", Period=60,
                            EvaluationPeriods=n, DatapointsToAlarm=int(rng.integers(1, n + 1)), Threshold=float(q),
                            ComparisonOperator="GreaterThanThreshold", TreatMissingData=MODES[i % 4]))
        columns.append(col)
    return alarms, columns


def run_vectorised(alarms, columns, arrays, days=None, shared=True):
    """Every alarm evaluated; ``shared``: alarms on the same series share its preparation (evaluate_many)."""
    sl = slice(None) if days is None else slice(len(next(iter(arrays.values()))) - days * 1440, None)
    t0 = time.perf_counter()
    if shared:
        by_col: dict = {}
        for i, c in enumerate(columns):
            by_col.setdefault(c, []).append(i)
        results = [None] * len(alarms)
        for c, idx in by_col.items():
            for i, st in zip(idx, evaluate_many([alarms[i] for i in idx], arrays[c][sl])):
                results[i] = st
    else:
        results = [evaluate_states(a, arrays[c][sl]) for a, c in zip(alarms, columns)]
    return time.perf_counter() - t0, results


def main() -> None:
    src = DemoSource(now="2026-11-20T00:00Z")
    window = TimeWindow.parse(f"-{DAYS}d", "now", now="2026-11-20T00:00Z")
    picks = [m for m, s in src.by_id.items() if s.kind in ("event", "dist", "binary")][:40]
    t0 = time.perf_counter()
    # the values as published (full resolution): CloudWatch evaluates alarms on fresh 1-minute data
    df = src.full_resolution([m.query("Sum" if src.by_id[m].kind != "dist" else "Average", 60) for m in picks], window)
    df = df.loc[:, df.notna().sum() > 100]  # series that have data (throttles stay absent without incidents)
    print(f"data: {df.shape[1]} series x {len(df):,} one-minute datapoints generated in "
          f"{time.perf_counter() - t0:.1f} s ({df.isna().mean().mean():.0%} missing)")
    alarms, columns = make_alarms(df, np.random.default_rng(1))
    arrays = {c: np.ascontiguousarray(df[c].to_numpy()) for c in df.columns}
    vec, results = run_vectorised(alarms, columns, arrays)
    alone, results_alone = run_vectorised(alarms, columns, arrays, shared=False)
    assert all(np.array_equal(x, y) for x, y in zip(results, results_alone))
    print(f"vectorised: {N_ALARMS} alarms x {len(df):,} evaluations in {vec:.2f} s "
          f"({alone:.2f} s when every alarm prepares its series alone)")

    # the lean loop on a sample stratified over the four modes
    per_mode = LOOP_SAMPLE // 4
    sample = [i for mode in MODES for i in [j for j in range(N_ALARMS) if alarms[j].TreatMissingData == mode]
              [:: N_ALARMS // 4 // per_mode][:per_mode]]
    identical, modes_checked, t_lean = True, set(), 0.0
    for i in sample:
        t0 = time.perf_counter()
        ref = evaluate_lean(alarms[i], arrays[columns[i]])
        t_lean += time.perf_counter() - t0
        same = np.array_equal(ref, results[i])
        identical &= same
        modes_checked.add(alarms[i].TreatMissingData)
        if not same:
            print(f"  differs: {alarms[i].AlarmName} {alarms[i].TreatMissingData} at "
                  f"{np.flatnonzero(ref != results[i])[:5]}")
    lean = t_lean * N_ALARMS / len(sample)
    print(f"lean loop: {len(sample)} alarms ({per_mode} per TreatMissingData mode) in {t_lean:.1f} s -> "
          f"{lean:.0f} s for {N_ALARMS} (scaled); identical state timelines on every sampled alarm: {identical}")

    growth = {}
    for d in (30, 60, 90):
        growth[d] = min(run_vectorised(alarms, columns, arrays, d)[0] for _ in range(2))
    expo = math.log(growth[90] / growth[30]) / math.log(3)
    print("vectorised by history length: " + ", ".join(f"{d} d {s:.2f} s" for d, s in growth.items())
          + f" (cost ~ days^{expo:.2f})")
    print(f"alarms={N_ALARMS} seconds={vec:.2f} seconds_unshared={alone:.2f} lean_seconds={lean:.1f} "
          f"speedup={lean / vec:.0f} speedup_unshared={lean / alone:.0f} "
          f"identical={'true' if identical else 'false'} modes_checked={len(modes_checked)} "
          + " ".join(f"seconds_{d}d={s:.2f}" for d, s in growth.items()) + f" growth_exponent={expo:.2f}")


if __name__ == "__main__":
    main()
