"""100 SLOs x 90 days of 1-minute data: the full analysis against a straightforward pandas implementation.

Full analysis per SLO: rolling attainment over 28 and 30 days, the 30-day error budget, its burndown, burn
rates over 5m, 30m, 1h, 6h and 3d, and the multiwindow alert simulation. The baseline does the same with
pandas' time-based ``rolling(...).sum()`` on Series, in the same process, and the results are compared.

Compared: every array with NaN in the same positions and every other value within 1e-9, and the alert episodes
as (rule, start, end).

Both are measured again while a second process keeps the other core busy (``busy_*``: the goal holds only if
the ratio holds there too). Ours runs as the SLO report runs it (``map_slos``: a thread per core that no other
process keeps busy, so one there: ``busy_threads``); one SLO after another is printed too (``serial_*``).

Last line: slos=100 seconds=X baseline_seconds=Y speedup=Z threads=T serial_seconds=X serial_speedup=Z
identical=true episodes=N busy_seconds=X busy_baseline_seconds=Y busy_speedup=Z busy_threads=T busy_runs=3
busy_speedup_min=Z (busy_*: the run with the median ratio of three; the worst ratio beside it)
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtanalytics import slo as S  # noqa: E402

N_SLO, DAYS, TARGET = 100, 90, 0.999
BUSY_RUNS = 3


def make_data():
    rng = np.random.default_rng(3)
    n = DAYS * 1440
    idx = pd.date_range("2026-08-22", periods=n, freq="1min", tz="UTC")
    minute = np.arange(n)
    base = 40 * (1.2 + np.sin(2 * np.pi * minute / 1440))
    data = []
    for i in range(N_SLO):
        total = rng.poisson(base).astype(float)
        p = np.full(n, 0.0004)
        for s in rng.integers(0, n - 120, 3):  # three incidents each
            p[s:s + rng.integers(10, 90)] = rng.uniform(0.02, 0.5)
        bad = rng.binomial(total.astype(np.int64), p).astype(float)
        total[rng.random(n) < 0.01] = np.nan  # 1% missing minutes
        data.append((total, bad))
    return idx, data


def ours(idx, total, bad):
    sli = S.occurrences_sli(idx, bad=bad, total=total)
    out = {"att28": S.attainment(sli, "28d").to_numpy(), "att30": S.attainment(sli, "30d").to_numpy()}
    end = idx[-1] + pd.Timedelta(minutes=1)
    b = S.budget(sli, TARGET, end - pd.Timedelta(days=30), end)
    out["remaining"] = b.remaining
    out["burndown"] = S.burndown(sli, TARGET, end - pd.Timedelta(days=30), end).to_numpy()
    for w in ("5m", "30m", "1h", "6h", "3d"):
        out[f"burn_{w}"] = S.burn_rate(sli, w, TARGET)
    al = S.burn_alerts(sli, TARGET)
    out["episodes"] = list(zip(al["rule"], al["start"], al["end"]))
    return out


def baseline(idx, total, bad):
    t = pd.Series(total, index=idx).fillna(0.0)
    b = pd.Series(np.where(np.isnan(total), 0.0, bad), index=idx)
    g = t - b
    out = {}
    for k, w in (("att28", "28D"), ("att30", "30D")):
        gs, ts = g.rolling(w).sum(), t.rolling(w).sum()
        out[k] = (gs / ts.where(ts > 0)).to_numpy()
    end = idx[-1] + pd.Timedelta(minutes=1)
    win = (idx >= end - pd.Timedelta(days=30))
    bad30, tot30 = b[win].sum(), t[win].sum()
    out["remaining"] = 1 - bad30 / ((1 - TARGET) * tot30)
    out["burndown"] = (1 - b[win].cumsum() / ((1 - TARGET) * tot30)).to_numpy()
    burns = {}
    for w, pw in (("5m", "5min"), ("30m", "30min"), ("1h", "1h"), ("6h", "6h"), ("3d", "3D")):
        bs, ts = b.rolling(pw).sum(), t.rolling(pw).sum()
        burns[w] = ((bs / ts).where(ts > 0, 0.0) / (1 - TARGET)).to_numpy()
        out[f"burn_{w}"] = burns[w]
    episodes = []
    step = pd.Timedelta(minutes=1)
    for name, lw, sw, rate in (("page-fast-burn", "1h", "5m", 14.4), ("page-slow-burn", "6h", "30m", 6.0),
                               ("ticket-burn", "3d", "6h", 1.0)):
        on = pd.Series((burns[lw] >= rate) & (burns[sw] >= rate), index=idx)
        change = on.astype(int).diff().fillna(on.astype(int))
        starts = idx[(change == 1).to_numpy()]
        ends = list(idx[(change == -1).to_numpy()])
        for k, st in enumerate(starts):  # an episode ends at the first minute the rule no longer holds
            en = ends[k] + step if k < len(ends) else pd.NaT
            episodes.append((name, st + step, en))
    out["episodes"] = episodes
    return out


def child(mode: str, busy: bool = False) -> list[float]:
    """A measurement in a fresh interpreter (its memory as this one's was at the start: nothing freed to reuse),
    with the other core kept busy when ``busy``."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        if burner:
            time.sleep(0.5)
        r = subprocess.run([sys.executable, __file__, "--child", mode], capture_output=True, text=True, check=True)
    finally:
        if burner:
            burner.kill()
    return [float(x) for x in r.stdout.split()]


def main() -> None:
    # the children first: each starts from a quiet memory state (measured right after this process had freed
    # 2 GB, a child's first touches were up to twice as slow on this VM)
    (serial_s,) = child("serial")
    # the busy measurement three times (a fresh pair of processes each): on this VM one such run moves by ±10 %,
    # so the median is printed, and the worst ratio beside it
    busy = sorted((child("both", busy=True) for _ in range(BUSY_RUNS)), key=lambda r: r[1] / r[0])
    busy_s, busy_base_s, busy_threads = busy[len(busy) // 2]
    busy_ratios = [b / o for o, b, _ in busy]
    idx, data = make_data()
    t0 = time.perf_counter()
    res = S.map_slos(lambda tb: ours(idx, *tb), data)  # what the SLO report does: one SLO per thread
    ours_s = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    ref = [baseline(idx, t, b) for t, b in data]
    base_s = time.perf_counter() - t0
    def same_array(x, y):  # NaN exactly where the other has NaN, every other value within 1e-9
        x, y = np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))
        nx, ny = np.isnan(x), np.isnan(y)
        return x.shape == y.shape and np.array_equal(nx, ny) and np.allclose(x[~nx], y[~ny], rtol=1e-9, atol=1e-9)

    def same_episodes(x, y):
        return len(x) == len(y) and all(a[0] == b[0] and a[1] == b[1] and (a[2] == b[2] or (pd.isna(a[2]) and
                                                                                          pd.isna(b[2])))
                                        for a, b in zip(sorted(x, key=str), sorted(y, key=str)))

    values_same = all(same_array(a[k], r[k]) for a, r in zip(res, ref) for k in a if k != "episodes")
    episodes_same = all(same_episodes(a["episodes"], r["episodes"]) for a, r in zip(res, ref))
    n_nan = sum(int(np.isnan(np.asarray(a[k], dtype=float)).sum()) for a in res for k in a if k != "episodes")
    n_ep = sum(len(a["episodes"]) for a in res)
    same = values_same and episodes_same
    print(f"rtanalytics.slo: {N_SLO} SLOs x {len(idx):,} minutes (attainment 28d/30d, budget, burndown, 5 burn-rate "
          f"windows, multiwindow alerts) in {ours_s:.2f} s on {S.threads()} thread(s) (map_slos, as the SLO report "
          f"runs); {serial_s:.2f} s one SLO after another; peak RSS {rss:.0f} MiB")
    print(f"pandas rolling baseline: {base_s:.2f} s; values identical (NaN positions included, {n_nan:,} NaN): "
          f"{values_same}; alert episodes identical (rule, start, end; {n_ep} episodes): {episodes_same}")
    print(f"with the other core busy ({BUSY_RUNS} runs, the median): ours {busy_s:.2f} s on {busy_threads:.0f} "
          f"thread(s), pandas {busy_base_s:.2f} s; ratios {', '.join(f'{r:.1f}' for r in busy_ratios)}")
    print(f"slos={N_SLO} seconds={ours_s:.2f} baseline_seconds={base_s:.2f} speedup={base_s / ours_s:.1f} "
          f"threads={S.threads()} serial_seconds={serial_s:.2f} serial_speedup={base_s / serial_s:.1f} "
          f"identical={'true' if same else 'false'} episodes={n_ep} busy_seconds={busy_s:.2f} "
          f"busy_baseline_seconds={busy_base_s:.2f} busy_speedup={busy_base_s / busy_s:.1f} "
          f"busy_threads={busy_threads:.0f} busy_runs={BUSY_RUNS} busy_speedup_min={busy_ratios[0]:.1f}")


def child_main(mode: str) -> None:
    """``serial``: ours one SLO after another; ``both``: ours as the report runs it, then the baseline (the order
    and the memory main() measures them in)."""
    idx, data = make_data()
    t0 = time.perf_counter()
    if mode == "serial":
        res = [ours(idx, t, b) for t, b in data]
        print(time.perf_counter() - t0)
        return
    workers = S.threads()  # what map_slos takes: fewer beside a busy process
    res = S.map_slos(lambda tb: ours(idx, *tb), data, workers=workers)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = [baseline(idx, t, b) for t, b in data]
    base_s = time.perf_counter() - t0
    assert len(res) == len(ref)
    print(ours_s, base_s, workers)


if __name__ == "__main__":
    child_main(sys.argv[2]) if "--child" in sys.argv else main()
