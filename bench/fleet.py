"""A demo fleet of N simulated services × the kpis and health reports, run three ways in the same session:
one local worker process, two local worker processes (the ``processes`` executor: a plain process pool, the
baseline an engineer would write), and a 2-worker Dask cluster (``LocalCluster``, the default executor: the same
path as a remote cluster, with the quota limiter on its scheduler).

``efficiency`` is the 2-worker speed-up over one worker divided by 2 (1.0 = perfect on two cores);
``per_run_overhead_s`` is the wall time each run costs the fleet beyond the report's own notebook time
(workers × seconds − Σ run durations, over runs), for the Dask cluster. The quota limiter is measured too: two
workers drawing as fast as they can from one 50 TPS account quota, the most grants seen in any second.

    python bench/fleet.py [--services 200] [--reports kpis,health] [--only 1w,2w,dask]

Last line: services= runs= seconds_1w= seconds_2w= seconds_dask= efficiency= per_run_overhead_s=
quota_tps=50 quota_max_per_second=
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def params_with_fleet(services: int, reports: list[str]) -> Path:
    import yaml

    d = Path(tempfile.mkdtemp(prefix="rtbench-params-")) / "parameters"
    shutil.copytree(ROOT / "parameters", d)
    (d / "fleet.yaml").write_text(yaml.safe_dump({"fleets": {"bench": {
        "reports": reports, "defaults": {"source": "demo"}, "generate": {"count": services, "prefix": "b"}}}}))
    return d


def one(executor: str, workers: int, params: Path, now: str) -> dict:
    from rtanalytics.catalog import _CACHE
    from rtanalytics.reports.fleet import run_fleet

    _CACHE.clear()
    out = Path(tempfile.mkdtemp(prefix="rtbench-fleet-"))
    try:
        res = run_fleet("bench", None, {"start": "-24h"}, out, now=now, workers=workers, executor=executor,
                        progress=False, parameters=params)
        bad = [r for r in res.runs if r["status"] != "ok"]
        busy = sum(float(r["duration_s"] or 0) for r in res.runs)
        per = {}
        for r in res.runs:
            per.setdefault(r["report"], []).append(float(r["duration_s"] or 0))
        return {"seconds": res.seconds, "runs": len(res.runs), "not_ok": len(bad), "run_seconds": busy,
                "overhead": (workers * res.seconds - busy) / max(1, len(res.runs)),
                **{f"mean_{k}_s": sum(v) / len(v) for k, v in sorted(per.items())}}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def quota(tps: float = 50, per_worker: int = 150) -> int:
    from distributed import Client, LocalCluster

    from rtanalytics.quota import hammer, max_per_second

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cl, Client(cl) as c:
        ws = list(c.scheduler_info(n_workers=-1)["workers"])
        futs = [c.submit(hammer, per_worker, tps, cl.scheduler_address, "bench", workers=[w], pure=False)
                for w in ws]
        return max_per_second([t for f in futs for t in f.result()])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--reports", default="kpis,health")
    ap.add_argument("--only", default="1w,2w,dask")
    a = ap.parse_args()
    os.environ["PYTHONWARNINGS"] = "ignore"
    reports = a.reports.split(",")
    params = params_with_fleet(a.services, reports)
    os.environ["RTANALYTICS_PARAMETERS"] = str(params)
    now = "2026-11-20T00:00:00Z"  # a fixed demo clock: every configuration computes the same runs
    got = {}
    plan = {"1w": ("processes", 1), "2w": ("processes", 2), "dask": ("dask", 2)}
    for name in a.only.split(","):
        ex, w = plan[name]
        t0 = time.perf_counter()
        got[name] = one(ex, w, params, now)
        means = ", ".join(f"{k[5:-2]} {v:.2f} s" for k, v in got[name].items() if k.startswith("mean_"))
        print(f"{name}: {ex} x{w}: {got[name]['runs']} runs in {got[name]['seconds']:.1f} s "
              f"({got[name]['not_ok']} not ok), notebook time {got[name]['run_seconds']:.1f} s ({means} a run), "
              f"overhead {got[name]['overhead']:.2f} s/run", flush=True)
    shutil.rmtree(params.parent, ignore_errors=True)
    q = quota()
    runs = next(iter(got.values()))["runs"]
    s1, s2, sd = (got.get(k, {}).get("seconds") for k in ("1w", "2w", "dask"))
    eff = (s1 / (2 * sd)) if s1 and sd else float("nan")
    fmt = lambda v: "nan" if v is None else f"{v:.1f}"  # noqa: E731
    print(json.dumps({k: {kk: round(vv, 2) for kk, vv in v.items()} for k, v in got.items()}))
    print(f"services={a.services} runs={runs} seconds_1w={fmt(s1)} seconds_2w={fmt(s2)} seconds_dask={fmt(sd)} "
          f"efficiency={eff:.2f} per_run_overhead_s={(got.get('dask') or got.get('2w') or got['1w'])['overhead']:.2f} "
          f"quota_tps=50 quota_max_per_second={q}")


if __name__ == "__main__":
    main()
