"""Wall time of `rtanalytics run kpis` (and `--all`) against the floor: a trivial notebook through papermill in a
lean environment (papermill + ipykernel + nbformat only, nothing else), both as fresh processes (what cron and
`make demo` pay). The benchmark builds the lean environment itself (`.cache/bench-lean-venv`, reused) and also
prints the floor in the project's own venv (heavier imports), to show where the difference lies.

Also measured: a report run by a long-lived process (the schedule daemon, ``schedule.warm_runner``) whose pool
keeps a kernel warm (started, the notebook's imports and the reports' lazily imported modules done while the
daemon waits for the next slot; reports/warm.py): the time of each run from the call to the published folder,
against the same lean floor.

Run: .venv/bin/python bench/run_overhead.py [repeats]
Last line: floor_seconds=X project_floor_seconds=X run_seconds=X ratio=X all_seconds=X all_per_report_ratio=X
warm_run_seconds=X warm_ratio=X
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LEAN = ROOT / ".cache" / "bench-lean-venv"


def lean_env() -> Path:
    """A venv with papermill, ipykernel and nbformat only (built once; the same versions as the project's)."""
    py = LEAN / "bin" / "python"
    if not (LEAN / ".ready").exists():
        from importlib.metadata import version

        subprocess.run([sys.executable, "-m", "venv", "--clear", str(LEAN)], check=True)
        pins = [f"{p}=={version(p)}" for p in ("papermill", "ipykernel", "nbformat")]
        subprocess.run([str(py), "-m", "pip", "install", "-q", *pins], check=True)
        (LEAN / ".ready").write_text(" ".join(pins))
    return LEAN / "bin"


def timed(cmd: list[str], **env) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, **env) if env else None)
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return time.perf_counter() - t0


def warm_runs(outputs: Path, repeats: int) -> list[float]:
    """``kpis`` runs as the schedule daemon makes them: its runner and warm pool, in this one process. The first
    run (papermill and nbconvert imported in this process) is not counted; before each timed run the pool's
    kernel has finished warming, as it has between a daemon's slots."""
    sys.path.insert(0, str(ROOT))
    from rtanalytics.reports.schedule import warm_runner

    runner = warm_runner(["kpis"])
    params = {"start": "2026-11-13T00:00Z", "end": "2026-11-20T00:00Z"}
    out = []
    try:
        for i in range(repeats + 1):
            runner.pool._ready[0].ready(120)
            t0 = time.perf_counter()
            res = runner("kpis", dict(params), outputs, progress=False)
            if res.status != "ok":
                raise SystemExit(f"warm run {res.status}: {res.summary.get('error')}")
            if i:
                out.append(time.perf_counter() - t0)
    finally:
        runner.pool.close()
    return out


def main(repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = tmp / "empty.ipynb"
        nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]})])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, str(empty))
        lean = lean_env()
        # the lean venv's own kernel (its ipykernel), never the project's
        subprocess.run([str(lean / "python"), "-m", "ipykernel", "install", "--prefix", str(LEAN), "--name",
                        "leanpy"], check=True, capture_output=True)
        nb.metadata["kernelspec"] = {"name": "leanpy", "display_name": "lean", "language": "python"}
        nbformat.write(nb, str(empty))
        window = ["-p", "start", "2026-11-13T00:00Z", "-p", "end", "2026-11-20T00:00Z"]
        kpis = [str(BIN / "rtanalytics"), "run", "kpis", "--no-progress", "--outputs", str(tmp / "o"), *window]
        floor, project_floor, run = [], [], []
        # interleaved, one of each per round: the floor and the runs see the same machine (this VM's speed drifts
        # by 10-20 % over a minute; measured in blocks, a fast floor block against a slow run block moved the
        # ratio by 0.2)
        for _ in range(repeats):
            floor.append(timed([str(lean / "papermill"), "-k", "leanpy", "--no-progress-bar", str(empty),
                                str(tmp / "out.ipynb")]))
            project_floor.append(timed([str(BIN / "papermill"), "-k", "python3", "--no-progress-bar", str(empty),
                                        str(tmp / "out2.ipynb")]))
            run.append(timed(kpis))  # its kernel started as papermill starts it
        every = timed([str(BIN / "rtanalytics"), "run", "--all", "--no-progress", "--outputs", str(tmp / "a")])
        warm = warm_runs(tmp / "d", repeats)
    f, pf, r = statistics.median(floor), statistics.median(project_floor), statistics.median(run)
    w = statistics.median(warm)
    print(f"lean floor (papermill + ipykernel + nbformat only, trivial notebook): "
          f"{', '.join(f'{x:.2f}' for x in floor)} s")
    print(f"the same notebook in the project's venv: {', '.join(f'{x:.2f}' for x in project_floor)} s")
    print(f"rtanalytics run kpis (7 days, validate+execute+render+publish; papermill's own kernel start): "
          f"{', '.join(f'{x:.2f}' for x in run)} s")
    print(f"rtanalytics run --all (9 reports, 2 at a time): {every:.2f} s, {every / 9:.2f} s a report")
    print(f"kpis in the schedule daemon's process, kernel from its warm pool (validate+execute+render+publish): "
          f"{', '.join(f'{x:.2f}' for x in warm)} s")
    print(f"floor_seconds={f:.2f} project_floor_seconds={pf:.2f} run_seconds={r:.2f} ratio={r / f:.2f} "
          f"all_seconds={every:.2f} all_per_report_ratio={every / 9 / f:.2f} warm_run_seconds={w:.2f} warm_ratio={w / f:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
