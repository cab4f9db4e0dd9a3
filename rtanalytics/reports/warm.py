"""Kernels started ahead of a run, their imports done, each used for exactly one notebook.

A report's kernel spends most of its first second starting ipykernel and importing rtanalytics, pandas and
plotly; the notebook's own work comes after. A :class:`WarmKernel` does that part ahead of time — in a
long-lived process (the schedule daemon) between runs, or for the next of several reports due at once while
the one before runs — so the notebook starts on a ready kernel. (Starting one at the beginning of a single
``rtanalytics run`` was measured and gains nothing: bench/README.md.) Nothing of a previous run can leak
into the next: a warm kernel has only executed the notebook's own ``import`` lines and imported the modules of
:data:`PRELOAD` (silently: no history, no execution count; no catalog or data loaded), and is shut down after
its one notebook, like the kernel papermill would have started.

At hand-off the kernel's environment is brought to the one a freshly started kernel would inherit (variables
set, changed or removed since it started). Variables read when a library is imported (BLAS thread counts,
``PYTHONPATH``) cannot be changed afterwards: a kernel started with different ones is not used, and the run
starts its own kernel as before (said on stderr).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import re
import textwrap
import threading
import time
from pathlib import Path

from .kernels import ipc_kernel_manager, kernel_environment, shutdown

#: read when a library is imported, so a kernel started with other values is not handed out
IMPORT_TIME_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONPATH", "PYTHONHASHSEED",
                    "VIRTUAL_ENV", "PATH")
_IMPORT_LINE = re.compile(r"^(?:import [\w., ]+|from [\w.]+ import [\w., ()]+)\s*(?:#.*)?$")
HIST = "--HistoryManager.hist_file=:memory:"  # as nbclient starts its kernels: no history database
#: imported lazily by the reports' first calls (the sources, the analytics, plotly's figure machinery, pandas'
#: Styler for the tables): 0.35 s of the KPI report's first cell on a kernel that had only run the notebook's
#: own imports. Code only, no data. In the order the reports need them, what every report loads first (a
#: forked kernel stops part-way, when its first cell starts): the KPI report, the smallest and most frequent,
#: needs everything up to pyarrow.parquet and none of the analytics after it.
PRELOAD = ("rtanalytics.sources.demo", "pandas.io.formats.style", "rtanalytics.figures", "plotly.subplots",
           "plotly.graph_objects", "rtanalytics.backtest", "rtanalytics.sources.cloudwatch",
           "rtanalytics.sources.cache", "rtanalytics.sources.files", "rtanalytics.alarms", "rtanalytics.retention",
           "rtanalytics.reports.registry", "pyarrow.parquet", "rtanalytics.slo", "rtanalytics.capacity",
           "rtanalytics.health", "rtanalytics.anomaly", "rtanalytics.forensics")
#: plotly loads its validators on the first figure: a throwaway one, nothing kept
_PLOTLY_WARMUP = """
__import__("plotly.subplots", fromlist=["_"]).make_subplots(rows=2, cols=1, subplot_titles=["a", "b"]).add_trace(
    {"type": "scatter", "x": [0], "y": [0]}, row=1, col=1).update_layout(template="plotly_white").to_json()
"""
_PRELOAD_CODE = f"""
import importlib as _rt_il
for _rt_m in {PRELOAD!r}:
    try:
        _rt_il.import_module(_rt_m)
    except Exception:  # only a head start: the notebook imports what it needs itself
        pass
try:
{textwrap.indent(_PLOTLY_WARMUP.strip(), "    ")}
except Exception:
    pass
del _rt_il
"""


def notebook_imports(*notebooks: Path) -> list[str]:
    """The top-level ``import``/``from … import`` lines of the notebooks' code cells (parameters cells excluded),
    in order, without repeats: what a warm kernel runs ahead of time."""
    out: list[str] = []
    for nb in notebooks:
        data = json.loads(Path(nb).read_text())
        for cell in data.get("cells", []):
            if cell.get("cell_type") != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
                continue
            src = cell.get("source", "")
            for line in (src if isinstance(src, str) else "".join(src)).splitlines():
                if _IMPORT_LINE.match(line) and line.split("#")[0].strip() not in out:
                    out.append(line.split("#")[0].strip())
    return out


class WarmKernel:
    """One kernel, started now in the background with ``cwd`` (the notebooks' folder) and the current
    environment, that then runs ``imports``. :meth:`claim` hands it to papermill (``km=``); :meth:`retire`
    shuts it down (always call it: a kernel nobody claimed is also shut down at exit)."""

    def __init__(self, cwd: Path, imports: list[str], kernel_name: str = "python3", preload: bool = True):
        kernel_environment()
        self.cwd = str(Path(cwd).resolve())
        self.imports = list(imports)
        self.preload = preload
        self.env = dict(os.environ)
        self.km = ipc_kernel_manager()(kernel_name=kernel_name)
        self.boot_error: str | None = None  # it did not start or its imports failed
        self.refused: str | None = None  # why the last claim was refused
        self.warm_seconds: float | None = None
        self._kc = None
        self.pid: int | None = None
        self._retired = False
        self._booted = False  # the starting thread is done (the kernel is up, or failed to start)
        self._lock = threading.Lock()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._boot, name="warm-kernel", daemon=True)
        self._thread.start()
        atexit.register(self.retire)

    def _boot(self) -> None:
        try:
            asyncio.run(self.km.start_kernel(cwd=self.cwd, env=self.env, extra_arguments=[HIST]))
            self.pid = getattr(getattr(self.km.provisioner, "process", None), "pid", None)
            kc = self.km.blocking_client()
            kc.start_channels()
            self._kc = kc
            kc.wait_for_ready(timeout=60)
            if self.imports and not self._retired:
                reply = self._execute("\n".join(self.imports), timeout=300)
                if reply.get("status") != "ok":
                    raise RuntimeError(f"{reply.get('ename')}: {reply.get('evalue')}")
            if self.preload and not self._retired:
                self._execute(_PRELOAD_CODE, timeout=300)
            self.warm_seconds = time.perf_counter() - self._t0
        except Exception as e:  # the run starts its own kernel, which shows the error where it belongs
            self.boot_error = f"{type(e).__name__}: {e}"
        finally:
            with self._lock:
                orphaned = self._retired  # retired while this was still starting it: stopping it is ours
                self._booted = True
            if orphaned:
                self._shutdown()

    def _execute(self, code: str, timeout: float) -> dict:
        msg_id = self._kc.execute(code, silent=True, store_history=False)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]

    def ready(self, timeout: float | None = None) -> bool:
        """Whether it started and ran its imports (waiting up to ``timeout`` s, or until it is done)."""
        self._thread.join(timeout)
        return not self._thread.is_alive() and self.boot_error is None and not self._retired

    @property
    def error(self) -> str | None:
        """Why it was not (or cannot be) used."""
        return self.refused or self.boot_error

    def claim(self, cwd: Path, timeout: float = 60) -> bool:
        """Make this kernel the one a run would start now: same folder, same import-time variables, the current
        environment. False (with the reason in :attr:`error`) when it cannot be: the run starts its own."""
        self.refused = None
        if not self.ready(timeout):
            self.refused = self.boot_error or ("retired" if self._retired else f"not ready after {timeout} s")
            return False

        try:
            alive = asyncio.run(self.km.is_alive())
        except Exception as e:
            alive, self.refused = False, f"{type(e).__name__}: {e}"
        if not alive:  # died while it waited (killed, out of memory): a run on it would fail
            self.refused = self.refused or "the kernel is no longer running"
            return False
        if str(Path(cwd).resolve()) != self.cwd:
            self.refused = f"started in {self.cwd}, the notebook runs in {cwd}"
            return False
        now = dict(os.environ)
        changed = [v for v in IMPORT_TIME_VARS if now.get(v) != self.env.get(v)]
        if changed:
            self.refused = f"{', '.join(changed)} changed since it started"
            return False
        update = {k: v for k, v in now.items() if self.env.get(k) != v}
        removed = [k for k in self.env if k not in now]
        if update or removed:
            code = (f"import os as _rt_os\n_rt_os.environ.update({json.dumps(update)})\n"
                    f"for _rt_k in {json.dumps(removed)}:\n    _rt_os.environ.pop(_rt_k, None)\n"
                    "del _rt_os")
            try:
                reply = self._execute(code, timeout=10)
            except Exception as e:
                self.refused = f"{type(e).__name__}: {e}"
                return False
            if reply.get("status") != "ok":
                self.refused = f"{reply.get('ename')}: {reply.get('evalue')}"
                return False
        return True

    def retire(self) -> None:
        """Shut the kernel down (its notebook is done, or nobody will claim it). If it is still starting, the
        thread starting it shuts it down as soon as it is up (no waiting here on a kernel that hangs)."""
        with self._lock:
            if self._retired:
                return
            self._retired = True
            booted = self._booted
        atexit.unregister(self.retire)
        if booted:
            self._shutdown()

    def _shutdown(self) -> None:
        shutdown(self.km, "warm", [self._kc] if self._kc is not None else [])


class KernelPool:
    """Keeps ``size`` warm kernels for the notebooks of a long-lived process (the schedule daemon): each run
    takes one, and a replacement starts at once, so the next run finds it ready. With ``budget`` (a known
    number of runs: several entries due at once) no more than that many are started. Thread-safe."""

    def __init__(self, notebooks: list[Path], size: int = 1, budget: int | None = None):
        self.notebooks = [Path(n) for n in notebooks]
        self.cwd = self.notebooks[0].parent if self.notebooks else Path.cwd()
        self.imports = notebook_imports(*self.notebooks)
        self.size = max(1, size)
        self.budget = budget  # kernels to start in all (a known number of runs), or None: as many as taken
        self._lock = threading.Lock()
        self._ready: list[WarmKernel] = []
        self._closed = False
        self.fill()

    def fill(self) -> None:
        with self._lock:
            while not self._closed and len(self._ready) < self.size and (self.budget is None or self.budget > 0):
                self._ready.append(WarmKernel(self.cwd, self.imports))
                if self.budget is not None:
                    self.budget -= 1

    def take(self) -> WarmKernel | None:
        """The oldest warm kernel (it may still be starting), and a new one started in its place."""
        with self._lock:
            k = self._ready.pop(0) if self._ready else None
        self.fill()
        return k

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, []
        for k in ready:
            k.retire()
        for k in ready:  # one still starting is stopped by its own thread once up: give it the time to
            k._thread.join(30)
