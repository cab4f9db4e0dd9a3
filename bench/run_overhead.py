"""Wall time of `rtanalytics run kpis` against the kernel floor: a bare papermill run of an empty notebook in
the same environment, both as fresh processes (what cron and `make demo` pay). Prints the ratio.

Run: .venv/bin/python bench/run_overhead.py [repeats]
"""

from __future__ import annotations

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


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - t0


def main(repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = tmp / "empty.ipynb"
        nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]})])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, str(empty))
        floor = [timed([str(BIN / "papermill"), "-k", "python3", "--no-progress-bar", str(empty),
                        str(tmp / "out.ipynb")]) for _ in range(repeats)]
        window = ["-p", "start", "2026-11-13T00:00Z", "-p", "end", "2026-11-20T00:00Z"]
        run = [timed([str(BIN / "rtanalytics"), "run", "kpis", "--no-progress", "--outputs", str(tmp / "o"),
                      *window]) for _ in range(repeats)]
    f, r = statistics.median(floor), statistics.median(run)
    print(f"bare papermill, empty notebook (kernel floor): {', '.join(f'{x:.2f}' for x in floor)} s")
    print(f"rtanalytics run kpis (7 days, validate+execute+render+publish): {', '.join(f'{x:.2f}' for x in run)} s")
    print(f"floor_seconds={f:.2f} run_seconds={r:.2f} ratio={r / f:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
