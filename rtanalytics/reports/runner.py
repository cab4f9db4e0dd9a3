"""Run a report: validate parameters, execute the notebook with papermill, render, publish atomically.

Layout of a run (``outputs/REPORT/RUN_ID/``): ``report.ipynb`` (executed), ``report.html``, ``params.json``
(as requested and as resolved), ``summary.json`` (status, key figures, timings, error). The run is staged in
``outputs/REPORT/.RUN_ID.partial/`` and renamed into place when complete, so readers never see half a run.
``outputs/REPORT/latest.json`` names the last good run and changes only when a run succeeds.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..catalog import catalog
from ..errors import ParameterError, ReportError
from ..sources.aws import credentials_problem
from ..plotlyjs import write_plotlyjs_asset
from ..settings import current as current_project
from ..settings import default_outputs
from ..timewindow import to_utc, utcnow
from .glue import read_summary
from .html import read_notebook, render_html, share_styles, warm_renderer
from .index import write_index
from .kernels import after_next_launch, kernel_environment, run_after_launch
from .kernels import ipc_kernel_manager as _ipc_kernel_manager
from .ledger import append
from .publish import atomic_write_json, atomic_write_text, locked
from .registry import get_report, resolve_params


@dataclass
class RunResult:
    report: str
    run_id: str
    status: str  # ok | partial | no-data | failed
    run_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """The run completed (``ok``, ``partial`` or ``no-data``); only ``ok`` is trusted as complete."""
        return self.status in ("ok", "partial", "no-data")


def new_run_id(now) -> str:
    return f"{to_utc(now):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def run_report(name: str, params: dict[str, Any] | None = None, outputs: Path | str | None = None,
               now=None, timeout: float | None = 900, progress: bool = True, standalone: bool = False,
               run_id: str | None = None, extra: dict[str, Any] | None = None,
               assets: Path | str | None = None, kernel=None) -> RunResult:
    """Run report ``name`` with ``params`` and publish it under ``outputs``.

    Raises :class:`~rtanalytics.errors.ParameterError` (nothing written) when parameters are bad. Otherwise
    always publishes a run folder and returns its :class:`RunResult`; a failed run has ``status == "failed"``
    and keeps its executed notebook and error, and ``latest.json`` still names the last good run.
    ``kernel``: a :class:`~rtanalytics.reports.warm.WarmKernel` started ahead for this run (shut down after
    it; when it cannot be used the run starts its own, as without it). ``timeout`` bounds each cell (seconds).
    The page loads plotly.js from ``outputs/_assets/`` (one shared, versioned copy that works offline from
    disk); ``standalone`` inlines it instead (a report sent by itself).
    A fleet passes its own ``run_id`` (so a retry knows what an attempt that died left behind), ``extra`` fields
    for summary.json (fleet, attempt) and ``assets``: the one ``_assets`` folder at the root of its outputs.
    """
    import papermill as pm  # lazy: papermill (~0.5 s) only when a report runs, not for `check`, `list` or `--help`

    report = get_report(name)
    project = current_project()
    if not project.bundled:  # the kernel reads the same catalog, cache and history as this process
        os.environ["RTANALYTICS_PROJECT"] = str(project.root)
    started = utcnow()
    now = to_utc(now) if now is not None else started
    resolved = resolve_params(report, dict(params or {}), now=now)  # raises before anything is written
    refuse_without_credentials(resolved)
    requested = {"start": resolved.pop("requested_start"), "end": resolved.pop("requested_end")}
    outputs = Path(outputs) if outputs else default_outputs()
    discard_partials(outputs)  # staging folders of runs that died hours ago (a live run's is never that old)
    run_id = run_id or new_run_id(started)
    report_dir = outputs / name
    stage = report_dir / f".{run_id}.partial"
    final = report_dir / run_id
    stage.mkdir(parents=True)
    atomic_write_json(stage / "params.json", {"requested": dict(params or {}) | requested, "resolved": resolved,
                                              "resolved_at": now.isoformat()})
    nb_out = stage / "report.ipynb"
    inject = dict(resolved, evidence_dir=str((stage / "evidence").resolve()) if resolved.get("evidence") else "",
                  output_dir=str(stage.resolve()))

    # the kernel inherits this: the same relative path for every report (outputs/REPORT/RUN/report.html)
    assets = Path(assets) if assets else outputs / "_assets"
    os.environ["RTANALYTICS_PLOTLYJS_SRC"] = "" if standalone else write_plotlyjs_asset(assets.parent, final)
    kernel_environment()
    t0 = time.perf_counter()
    error = None
    status = "ok"

    after_next_launch(warm_renderer)  # while the kernel works: once it is launched, not before (the GIL)
    warm = {}
    if kernel is not None:  # a kernel started ahead (warm.py): used when it is what this run would start
        if kernel.claim(report.notebook.parent):
            warm = {"km": kernel.km}
        else:
            print(f"rtanalytics: {name}: {getattr(kernel, 'kind', 'warm')} kernel not used ({kernel.error}); "
                  "starting one", file=sys.stderr)
            kernel.retire()
    if warm and warm["km"].has_kernel:  # a kernel started ahead (the daemon's): no launch in this run
        run_after_launch()
    try:
        pm.execute_notebook(str(report.notebook), str(nb_out), parameters=inject, kernel_name="python3",
                            progress_bar=progress, report_mode=True, execution_timeout=timeout,
                            cwd=str(report.notebook.parent), request_save_on_cell_execute=False,
                            kernel_manager_class=_ipc_kernel_manager(),
                            shutdown_kernel="immediate", **warm)  # outputs are in: no 0.4 s graceful shutdown
    except pm.PapermillExecutionError as e:
        status, error = "failed", f"cell {e.exec_count}: {e.ename}: {e.evalue}"
    except Exception as e:  # timeouts (CellTimeoutError), dead kernels...: status from the exception
        status, error = "failed", f"{type(e).__name__}: {e}".strip()
        if "Timeout" in type(e).__name__ or "timed out" in str(e).lower():
            error = f"timed out after {timeout} s per cell: {error}"
    finally:
        if kernel is not None:
            kernel.retire()  # one notebook per kernel, warm or not
    duration = time.perf_counter() - t0
    glued = None
    catalog_used = project.provenance()
    banner = (f"{report.title} · {resolved.get('environment')} · {resolved.get('source')} source"
              f"{' (SIMULATED)' if resolved.get('source') == 'demo' else ''} · run {run_id} · "
              f"{resolved['start'][:16]} → {resolved['end'][:16]} UTC · "
              f"catalog: {'bundled example' if project.bundled else 'project ' + project.name} "
              f"{catalog_used['sha256'][:12]} · ")
    if nb_out.exists():
        try:
            nb = read_notebook(nb_out)
            glued = read_summary(nb)
            if status == "ok" and glued and glued.get("status") in ("partial", "no-data"):
                status = glued["status"]
            win = (glued or {}).get("window") or {"start": resolved["start"], "end": resolved["end"]}
            # the window the report analysed (the daily check's day, the incident), not only what was asked for
            banner = banner.replace(f"{resolved['start'][:16]} → {resolved['end'][:16]}",
                                    f"{win['start'][:16]} → {win['end'][:16]}")
            title = (f"{report.title} — {resolved.get('environment')} — {win['start'][:16]} → "
                     f"{win['end'][:16]} UTC — {status if not error else 'FAILED'}")
            page = render_html(nb, banner + ("FAILED: " + error if error else status), title)
            if not standalone:  # JupyterLab's 250 KB theme once under _assets/, not in every report

                page = share_styles(page, assets, final)
            atomic_write_text(stage / "report.html", page)
        except Exception as e:
            status = "failed"
            error = (error + "; " if error else "") + f"rendering failed: {type(e).__name__}: {e}"
            traceback.print_exc()
    elif error is None:
        status, error = "failed", "papermill wrote no output notebook"
    if status == "ok" and glued is None:
        status, error = "failed", "the notebook published no summary (rt.report_summary was not called)"
    summary = {"report": name, "title": report.title, "run_id": run_id, "status": status, "error": error,
               "params": resolved, "started": started.isoformat(), "finished": utcnow().isoformat(),
               "duration_s": round(duration, 2), "kernel": _kernel_kind(kernel, warm),
               "figures": (glued or {}).get("figures", {}),
               "notes": (glued or {}).get("notes", []),
               "provenance": dict((glued or {}).get("provenance") or {}, catalog=catalog_used),
               "catalog": {k: catalog_used[k] for k in ("project", "root", "bundled", "sha256")},
               "headline": (glued or {}).get("headline", []), "window": (glued or {}).get("window"),
               "tables": (glued or {}).get("tables", []),
               "evidence": "evidence/manifest.json" if (final / "evidence" / "manifest.json").exists() or (
                   stage / "evidence" / "manifest.json").exists() else None,
               **(extra or {}),
               "rtanalytics_version": __version__,
               "python": sys.version.split()[0]}
    summary["files"] = sorted(p.name for p in stage.iterdir() if p.name != "summary.json")
    atomic_write_json(stage / "summary.json", summary)
    with locked(outputs / ".lock"):
        os.rename(stage, final)
        if status == "ok":  # only a run computed from complete data becomes the latest good one
            atomic_write_json(report_dir / "latest.json", {"run_id": run_id, "status": status})
        try:
            append(outputs, summary)
        except Exception as e:  # the ledger is a convenience: never lose the run over it
            print(f"rtanalytics: ledger not updated: {e}", file=sys.stderr)
        write_index(outputs)
    return RunResult(name, run_id, status, final, summary)


def _kernel_kind(kernel, claimed: dict) -> str:
    """``warm`` (started ahead, warm.py) or ``new`` (papermill's own start)."""
    return "warm" if claimed else "new"


def discard_partials(outputs: Path, older_than_s: float = 6 * 3600) -> list[Path]:
    """Remove staging folders left by runs that died (older than ``older_than_s``)."""
    gone = []
    now = time.time()
    for p in Path(outputs).glob("*/.*.partial"):
        if now - p.stat().st_mtime > older_than_s:
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    return gone


__all__ = ["run_report", "RunResult", "ReportError"]


def refuse_without_credentials(resolved: dict) -> None:
    """A run that reads CloudWatch without credentials is refused before any kernel starts (exit 2, nothing
    written), with the fix — never a ``failed`` run on the team's board at its third cell."""
    if resolved.get("source") != "cloudwatch":
        return
    env = catalog().environment(resolved["environment"])
    why = credentials_problem(env.profile, env.region)
    if why:
        raise ParameterError("environment", f"{resolved['environment']} reads CloudWatch, but {why}",
                             "give credentials through the standard chain (AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                             "AWS_SECRET_ACCESS_KEY, ~/.aws/credentials), name a profile for the environment in "
                             "environments.yaml, or run `aws sso login` for an SSO profile")
