"""Fleets: every (environment × report) of a fleet (``parameters/fleet.yaml``) as its own immutable run, on local
worker processes or a Dask cluster, with the API quotas shared across the cluster.

Layout: ``OUTPUTS/fleets/FLEET/ENVIRONMENT/`` is a normal outputs folder for that environment (its reports'
runs, ``index.html``, ``ledger.sqlite``); ``OUTPUTS/fleets/FLEET/index.html`` and ``board.json`` are the fleet
board; ``OUTPUTS/_assets/`` holds the one shared plotly.js every report links. ``OUTPUTS`` may be a folder (a
shared filesystem all workers mount) or ``s3://bucket/prefix``: a worker renders into a private folder and uploads
the finished run with ``summary.json`` last, so a run exists for readers only once its summary has landed.

Executors: ``dask`` runs tasks on a :class:`distributed.LocalCluster` of worker processes, or on the cluster at
``scheduler`` (``tcp://HOST:8786`` or ``RTANALYTICS_DASK_SCHEDULER``): the same code path either way, and the
quota limiter (:mod:`rtanalytics.quota`) lives on its scheduler. ``processes`` runs them in a local process pool,
with no shared quota. ``auto`` (the default) takes Dask whenever there are quotas to share (a scheduler, or a
member reading AWS), else the pool, which measured 7 % faster on the demo (``bench/fleet.py``).

A run whose worker dies is retried once, elsewhere when the cluster has another worker: each attempt first
records itself in ``ENVIRONMENT/.attempts/``; the next attempt removes what the dead one staged (its
``.RUN.partial`` folder, or its objects under S3) and says in its summary that it is a retry and why. A
previous attempt that did land is returned as is, never run twice.
"""

from __future__ import annotations

import html
import json
import mimetypes
import multiprocessing as mp
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..catalog import catalog
from ..errors import ParameterError, RtAnalyticsError
from ..settings import default_outputs
from ..timewindow import to_utc, utcnow
from .index import _CSS, _when, write_index
from .ledger import read_ledger
from .publish import atomic_write_json, atomic_write_text
from .registry import REPORTS, get_report, resolve_params
from .runner import new_run_id, run_report

FLEETS = "fleets"
ENV_SCHEDULER = "RTANALYTICS_DASK_SCHEDULER"
STATUS_ORDER = {"failed": 0, "no-data": 1, "partial": 2, "ok": 3}


# --------------------------------------------------------------------------------------------------- storage
class LocalStore:
    """Outputs on a filesystem every worker sees (the default ``outputs/``, or a shared mount)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.url = str(self.root)

    def read_json(self, rel: str) -> dict | None:
        try:
            return json.loads((self.root / rel).read_text())
        except (OSError, ValueError):
            return None

    def write_json(self, rel: str, data: dict) -> None:
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.root / rel, data)

    def delete(self, rel: str) -> None:
        p = self.root / rel
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)

    def work_root(self) -> Path:
        return self.root

    def publish(self, work: Path, rels: list[str]) -> None:
        """Nothing to copy: runs were published in place (staged and renamed by the runner)."""

    def summaries(self, rel: str) -> list[dict]:
        out = []
        for f in sorted((self.root / rel).glob("*/*/*/summary.json")):
            if any(part.startswith(".") for part in f.relative_to(self.root / rel).parts[:-1]):
                continue
            try:
                s = json.loads(f.read_text())
            except (OSError, ValueError):
                continue
            s["_path"] = f.parent.relative_to(self.root / rel).as_posix()
            out.append(s)
        return out

    def write_text(self, rel: str, text: str) -> None:
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.root / rel, text)

    def exists(self, rel: str) -> bool:
        return (self.root / rel).exists()

    def cleanup(self, work: Path) -> None:
        pass


class S3Store:
    """Outputs under ``s3://bucket/prefix`` (boto3 from the process's own credential chain; the endpoint from
    ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` as botocore reads them, e.g. a local moto server in tests).
    Runs are rendered in a private folder and uploaded with ``summary.json`` last."""

    def __init__(self, url: str):
        rest = url[len("s3://"):]
        self.bucket, _, prefix = rest.partition("/")
        if not self.bucket:
            raise ParameterError("--outputs", f"{url!r} names no bucket", "s3://BUCKET/PREFIX")
        self.prefix = prefix.strip("/")
        self.url = url
        self._s3 = None

    @property
    def s3(self):
        if self._s3 is None:
            import boto3  # lazy: boto3 loads only on the AWS paths (the demo and files sources never pay for it)

            self._s3 = boto3.client("s3")
        return self._s3

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def read_json(self, rel: str) -> dict | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self.key(rel))["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        try:
            return json.loads(body)
        except ValueError:
            return None

    def write_json(self, rel: str, data: dict) -> None:
        self.write_text(rel, json.dumps(data, indent=2, default=str), "application/json")

    def write_text(self, rel: str, text: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self.key(rel), Body=text.encode(), ContentType=content_type)

    def exists(self, rel: str) -> bool:
        resp = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=self.key(rel), MaxKeys=1)
        return bool(resp.get("KeyCount"))

    def _keys(self, rel: str) -> list[str]:
        keys, token = [], None
        while True:
            kw = {"Bucket": self.bucket, "Prefix": self.key(rel)}
            if token:
                kw["ContinuationToken"] = token
            resp = self.s3.list_objects_v2(**kw)
            keys += [o["Key"] for o in resp.get("Contents", [])]
            token = resp.get("NextContinuationToken")
            if not token:
                return keys

    def delete(self, rel: str) -> None:
        keys = self._keys(rel)
        for i in range(0, len(keys), 1000):
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]]})

    def work_root(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="rtfleet-"))

    def publish(self, work: Path, rels: list[str]) -> None:
        """Upload each run folder ``rels`` (relative to ``work``), its ``summary.json`` last, and the shared
        assets once."""
        for asset in sorted((work / "_assets").glob("*")):
            rel = f"_assets/{asset.name}"
            if not self.exists(rel):
                self.s3.upload_file(str(asset), self.bucket, self.key(rel),
                                    ExtraArgs={"ContentType": mimetypes.guess_type(asset.name)[0] or "text/plain"})
        for rel in rels:
            folder = work / rel
            files = sorted(p for p in folder.rglob("*") if p.is_file())
            files.sort(key=lambda p: p.name == "summary.json")  # the commit marker goes last
            for p in files:
                ctype = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
                self.s3.upload_file(str(p), self.bucket, self.key(f"{rel}/{p.relative_to(folder).as_posix()}"),
                                    ExtraArgs={"ContentType": ctype})

    def summaries(self, rel: str) -> list[dict]:
        out = []
        for k in self._keys(rel + "/"):
            if not k.endswith("/summary.json"):
                continue
            path = k[len(self.key(rel)) + 1:-len("/summary.json")]
            if path.count("/") != 2 or any(p.startswith(".") for p in path.split("/")):
                continue
            s = self.read_json(f"{rel}/{path}/summary.json")
            if s is not None:
                s["_path"] = path
                out.append(s)
        return out

    def cleanup(self, work: Path) -> None:
        shutil.rmtree(work, ignore_errors=True)


def open_store(outputs: str | Path):
    return S3Store(str(outputs)) if str(outputs).startswith("s3://") else LocalStore(outputs)


# ------------------------------------------------------------------------------------------------------ tasks
@dataclass(frozen=True)
class Task:
    """One (environment × report) of a fleet cycle. Only names and settings: never credentials."""

    fleet: str
    environment: str
    report: str
    params: dict
    outputs: str
    now: str
    cycle: str
    timeout: float | None = 900
    parameters: str = ""
    scheduler: str | None = None
    quotas: dict = field(default_factory=dict)
    fail_after_s: float | None = None  # tests only: this attempt dies (os._exit) after that long

    @property
    def key(self) -> str:
        return f"{self.report}--{self.environment}--{self.cycle}"

    @property
    def env_rel(self) -> str:
        return f"{FLEETS}/{self.fleet}/{self.environment}"


def run_task(task: Task) -> dict:
    """Run one task in this (worker) process; returns what landed. Safe to call again after a crash."""
    if task.parameters:
        os.environ["RTANALYTICS_PARAMETERS"] = task.parameters
    if task.scheduler:  # report kernels inherit these and share the cluster's quota limiter
        os.environ[ENV_SCHEDULER] = task.scheduler
        os.environ["RTANALYTICS_QUOTAS"] = json.dumps(task.quotas)
    store = open_store(task.outputs)
    marker = f"{task.env_rel}/.attempts/{task.key}.json"
    prev = store.read_json(marker)
    if prev:
        landed = store.read_json(f"{task.env_rel}/{task.report}/{prev['run_id']}/summary.json")
        if landed is not None:  # it finished and landed; only its worker's reply was lost
            store.delete(marker)
            return _reply(task, landed, prev["attempt"])
        # what the dead attempt staged: never left half-written
        store.delete(f"{task.env_rel}/{task.report}/.{prev['run_id']}.partial")
        store.delete(f"{task.env_rel}/{task.report}/{prev['run_id']}")
    attempt = (prev or {}).get("attempt", 0) + 1
    run_id = f"{new_run_id(to_utc(task.now))}-a{attempt}"
    where = f"{socket.gethostname()}:{os.getpid()}"
    store.write_json(marker, {"attempt": attempt, "run_id": run_id, "worker": where,
                              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    extra: dict[str, Any] = {"fleet": task.fleet, "fleet_cycle": task.cycle, "attempt": attempt, "worker": where}
    if prev:
        extra["retried"] = (f"attempt {prev['attempt']} on {prev['worker']} stopped before its run landed "
                            f"(its worker died or lost contact); what it had staged was removed")
    if task.fail_after_s is not None and attempt == 1:
        _die_after(task.fail_after_s)
    work = store.work_root()
    try:
        res = run_report(task.report, dict(task.params, environment=task.environment), work / task.env_rel,
                         now=task.now, timeout=task.timeout, progress=False, run_id=run_id, extra=extra,
                         assets=work / "_assets")
        store.publish(work, [f"{task.env_rel}/{task.report}/{res.run_id}"])
    finally:
        store.cleanup(work)
    store.delete(marker)
    return _reply(task, res.summary, attempt)


def _die_after(seconds: float) -> None:
    """Tests: end this worker process abruptly mid-run, as a lost machine would."""
    def die():
        time.sleep(seconds)
        os._exit(137)

    threading.Thread(target=die, daemon=True).start()


def _reply(task: Task, summary: dict, attempt: int) -> dict:
    return {"environment": task.environment, "report": task.report, "run_id": summary.get("run_id"),
            "status": summary.get("status"), "error": summary.get("error"), "attempt": attempt,
            "retried": summary.get("retried"), "duration_s": summary.get("duration_s"),
            "worker": summary.get("worker"), "path": f"{task.env_rel}/{task.report}/{summary.get('run_id')}"}


# ---------------------------------------------------------------------------------------------------- running
@dataclass
class FleetResult:
    fleet: str
    cycle: str
    runs: list[dict]
    seconds: float
    executor: str
    workers: int
    board: str

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.runs:
            out[r["status"]] = out.get(r["status"], 0) + 1
        return out

    @property
    def retried(self) -> list[dict]:
        return [r for r in self.runs if r.get("attempt", 1) > 1]


def plan(fleet: str | None, reports: list[str] | None, params: dict | None, outputs, now=None,
         parameters: Path | str | None = None) -> tuple[list[Task], Any]:
    """The fleet's tasks (each member × its reports, or × ``reports`` where the member runs them), every
    parameter checked before anything starts."""
    cat = catalog(parameters)
    fl = cat.fleet(fleet)
    members = cat.fleet_members(fl.name)
    if reports:
        bad = [r for r in reports if r not in REPORTS]
        if bad:
            raise ParameterError("report", f"unknown report(s) {bad}", ", ".join(REPORTS))
        if not any(r in (m.reports or []) for m in members for r in reports):
            raise ParameterError("report", f"no member of fleet {fl.name!r} runs {reports}",
                                 ", ".join(sorted({r for m in members for r in m.reports or []})))
    now = to_utc(now) if now is not None else utcnow()
    params = dict(params or {})
    if "environment" in params:
        raise ParameterError("environment", "a fleet run sets the environment of each run itself",
                             "leave -p environment out with --fleet")
    cycle = f"{now:%Y%m%dT%H%M%SZ}-{os.urandom(3).hex()}"
    quotas = cat.fleet_file.quotas_for(fl.name)
    tasks = []
    for m in members:
        for r in (m.reports or []):
            if reports and r not in reports:
                continue
            resolve_params(get_report(r), dict(params, environment=m.name), now=now)  # raises before any run
            tasks.append(Task(fl.name, m.name, r, params, str(outputs), now.isoformat(), cycle,
                              parameters=str(cat.root), quotas=quotas))
    return tasks, fl


def run_fleet(fleet: str | None = None, reports: list[str] | None = None, params: dict | None = None,
              outputs=None, now=None, scheduler: str | None = None, workers: int | None = None,
              executor: str = "auto", timeout: float | None = 900, progress: bool = True,
              parameters: Path | str | None = None, _fail: dict | None = None) -> FleetResult:
    """Run a fleet cycle and rebuild its board; see the module docstring. ``workers`` (local only) defaults to
    the cores; ``scheduler`` (or ``RTANALYTICS_DASK_SCHEDULER``) sends the tasks to that Dask cluster.

    ``executor="auto"`` (the default) picks Dask when there are API quotas to share — a scheduler is given, or a
    member reads AWS — and the plain process pool when every member reads the demo or files: measured on
    2 cores with a 200-service demo fleet, the pool took 668 s and a 2-worker LocalCluster 715 s (bench/fleet.py)."""

    outputs = outputs or default_outputs()
    if not str(outputs).startswith("s3://"):  # workers elsewhere (or in another cwd) need the absolute path
        outputs = Path(outputs).resolve()
    scheduler = scheduler or os.environ.get(ENV_SCHEDULER) or None
    if executor not in ("auto", "dask", "processes"):
        raise ParameterError("--executor", f"unknown executor {executor!r}", "auto, dask or processes")
    if scheduler and executor == "processes":
        raise ParameterError("--scheduler", "a scheduler address needs the dask executor", "--executor dask")
    tasks, fl = plan(fleet, reports, params, outputs, now, parameters)
    if executor == "auto":
        envs = catalog(parameters).environments
        aws = any(envs[t.environment].source not in ("demo", "files") for t in tasks)
        executor = "dask" if scheduler or aws else "processes"
    if _fail:  # tests: make the first attempt of these tasks die mid-run
        tasks = [Task(**(asdict(t) | {"fail_after_s": _fail[(t.environment, t.report)]}))
                 if (t.environment, t.report) in _fail else t for t in tasks]
    workers = workers or max(1, os.cpu_count() or 1)
    t0 = time.perf_counter()
    if executor == "processes":
        runs = _run_processes(tasks, workers, progress)
        used = workers
    else:
        runs, used = _run_dask(tasks, scheduler, workers, progress)
    seconds = time.perf_counter() - t0
    store = open_store(outputs)
    board = write_board(store, fl.name, tasks[0].cycle if tasks else "")
    return FleetResult(fl.name, tasks[0].cycle if tasks else "", runs, seconds, executor, used, board)


def _say(progress: bool, done: int, total: int, r: dict) -> None:
    if progress:
        extra = f" (attempt {r['attempt']})" if r.get("attempt", 1) > 1 else ""
        print(f"[{done}/{total}] {r['environment']} {r['report']}: {r['status']}{extra}", file=sys.stderr,
              flush=True)


def _failed(t: Task, why: str, attempt: int = 1) -> dict:
    return {"environment": t.environment, "report": t.report, "run_id": None, "status": "failed",
            "error": why, "attempt": attempt, "retried": None, "duration_s": None, "worker": None,
            "path": None}


def _run_processes(tasks: list[Task], workers: int, progress: bool) -> list[dict]:
    runs: list[dict] = []
    pending = list(tasks)
    tries = {t.key: 0 for t in tasks}
    while pending:
        retry = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
            futs = {ex.submit(run_task, t): t for t in pending}
            for f in as_completed(futs):
                t = futs[f]
                tries[t.key] += 1
                try:
                    r = f.result()
                except BrokenProcessPool:  # a worker died: every task still in the pool is tried again once
                    if tries[t.key] < 2:
                        retry.append(t)
                        continue
                    r = _failed(t, "its worker process died on both attempts", tries[t.key])
                except Exception as e:  # noqa: BLE001 - reported per run, never lost
                    r = _failed(t, f"{type(e).__name__}: {e}", tries[t.key])
                runs.append(r)
                _say(progress, len(runs), len(tasks), r)
        pending = retry
    return runs


def _run_dask(tasks: list[Task], scheduler: str | None, workers: int, progress: bool) -> tuple[list[dict], int]:
    import dask  # lazy: Dask only for fleets
    from distributed import Client, LocalCluster, as_completed  # lazy: Dask only for fleets and shared quotas

    cluster = None
    # a task whose worker dies is rescheduled by the scheduler once (we start it), and retried once more here
    # for a cluster whose scheduler is configured otherwise; each attempt knows it is one (see run_task)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.worker.daemon": False}):  # workers start report kernels (processes)
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            # everything on loopback; the scheduler's HTTP endpoints on a free port (8787 may be taken)
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0", worker_dashboard_address=None)
            client = Client(cluster)
    try:
        address = client.scheduler.address
        used = len(client.scheduler_info(n_workers=-1)["workers"]) if scheduler else workers
        tasks = [Task(**(asdict(t) | {"scheduler": address})) for t in tasks]
        futs = {}
        for t in tasks:
            futs[client.submit(run_task, t, key=f"rtanalytics-{t.key}", pure=False)] = (t, 1)
        runs: list[dict] = []
        ac = as_completed(list(futs))
        for f in ac:
            t, n = futs.pop(f)
            try:
                r = f.result()
            except Exception as e:  # noqa: BLE001 - KilledWorker, a lost connection...: once more
                if n < 2:
                    nf = client.submit(run_task, t, key=f"rtanalytics-{t.key}-retry", pure=False)
                    futs[nf] = (t, n + 1)
                    ac.add(nf)
                    continue
                r = _failed(t, f"{type(e).__name__}: {e}", n)
            runs.append(r)
            _say(progress, len(runs), len(tasks), r)
        return runs, used
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ------------------------------------------------------------------------------------------------------ board
def board_rows(store, fleet: str) -> list[dict]:
    """One row per member: each report's latest landed run, the worst status first, then the most bad
    headline figures (what is failing or burning budget now)."""
    rel = f"{FLEETS}/{fleet}"
    latest: dict[tuple[str, str], dict] = {}
    for s in store.summaries(rel):
        env, report, _ = s["_path"].split("/")
        k = (env, report)
        if k not in latest or str(s.get("run_id")) > str(latest[k].get("run_id")):
            latest[k] = s
    try:
        members = {e.name: e for e in catalog().fleet_members(fleet)}
    except RtAnalyticsError:
        members = {}
    envs = sorted({k[0] for k in latest} | set(members))
    rows = []
    for env in envs:
        runs = {r: s for (e, r), s in latest.items() if e == env}
        m = members.get(env)
        statuses = [str(s.get("status")) for s in runs.values()]
        worst = min(statuses, key=lambda x: STATUS_ORDER.get(x, 1)) if statuses else "no runs"
        bad = [(r, f) for r, s in runs.items() for f in (s.get("headline") or []) if f.get("tone") == "bad"]
        warn = [(r, f) for r, s in runs.items() for f in (s.get("headline") or []) if f.get("tone") == "warn"]
        rows.append({"environment": env, "status": worst, "bad": len(bad), "warn": len(warn),
                     "region": m.region if m else None,
                     "account": (m.account.id if m and m.account else None),
                     "source": m.source if m else None,
                     "runs": {r: {"status": s.get("status"), "run_id": s.get("run_id"), "path": f"{env}/{r}/"
                                  f"{s.get('run_id')}/report.html", "finished": s.get("finished"),
                                  "attempt": s.get("attempt", 1), "error": s.get("error"),
                                  "headline": s.get("headline") or []} for r, s in sorted(runs.items())},
                     "findings": [{"report": r, "label": f.get("label"), "text": f.get("text"),
                                   "tone": f.get("tone")} for r, f in bad + warn]})
    # a member with no run that landed is missing data: ranked with no-data, never below the healthy ones
    rows.sort(key=lambda x: (STATUS_ORDER.get(x["status"], 1), -x["bad"], -x["warn"], x["environment"]))
    return rows


def write_board(store, fleet: str, cycle: str = "") -> str:
    """``fleets/FLEET/index.html`` and ``board.json`` rebuilt from the runs that landed; returns the page's
    location."""
    rows = board_rows(store, fleet)
    rel = f"{FLEETS}/{fleet}"
    store.write_json(f"{rel}/board.json", {"fleet": fleet, "cycle": cycle, "rows": rows,
                                           "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    store.write_text(f"{rel}/index.html", render_board(fleet, rows))
    if isinstance(store, LocalStore):
        write_index(store.root)  # the top status board links every fleet board
        return str(store.root / rel / "index.html")
    return f"{store.url.rstrip('/')}/{rel}/index.html"


def render_board(fleet: str, rows: list[dict]) -> str:
    e = html.escape
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = " · ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: STATUS_ORDER.get(kv[0], 4)))
    reports = sorted({k for r in rows for k in r["runs"]})
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
           "<meta name='viewport' content='width=device-width, initial-scale=1'>",
           f"<title>rtanalytics — fleet {e(fleet)} — {e(summary)}</title><style>{_CSS}</style></head><body>",
           f"<h1>Fleet {e(fleet)}</h1><p>{len(rows)} environments: {e(summary)}. Worst first: failing runs, then "
           "incomplete ones, then the most figures in the red (budgets burning, KPIs past their alert). "
           "Each environment's own status board is one click away.</p>",
           "<div class='wrap'><table class='board'><tr><th>environment</th><th>status</th>"
           + "".join(f"<th>{e(r)}</th>" for r in reports) + "<th>needs attention</th></tr>"]
    for r in rows:
        env = r["environment"]
        where = " · ".join(str(x) for x in (r.get("region"), r.get("account")) if x)
        cells = []
        for rep in reports:
            run = r["runs"].get(rep)
            if not run:
                cells.append("<td class='small'>—</td>")
                continue
            st = str(run["status"])
            retry = f" <span class='small'>(attempt {run['attempt']})</span>" if (run.get("attempt") or 1) > 1 else ""
            cells.append(f"<td class='nw'><a href='{e(run['path'], quote=True)}'><span class='chip "
                         f"{e(st, quote=True)}'>{e(st)}</span></a>{retry}<br><span class='small'>"
                         f"{e(_when(str(run.get('finished') or '')))}</span></td>")
        finds = "".join(f"<span class='hf'><span class='k'>{e(str(f['report']))} · {e(str(f['label']))}</span> "
                        f"<b style='color:{'#c62828' if f['tone'] == 'bad' else '#ef6c00'}'>{e(str(f['text']))}</b>"
                        "</span>" for f in r["findings"][:6])
        errs = "".join(f"<div class='small'>{e(str(run['error']))[:200]}</div>" for run in r["runs"].values()
                       if run.get("error"))
        st = str(r["status"])
        out.append(f"<tr><td><a href='{e(env, quote=True)}/index.html'>{e(env)}</a><br><span class='small'>"
                   f"{e(where)}</span></td><td><span class='chip {e(st, quote=True)}'>{e(st)}</span></td>"
                   + "".join(cells) + f"<td class='heads'>{finds}{errs}</td></tr>")
    out.append("</table></div></body></html>")
    return "".join(out)


def read_fleet_ledger(fleet: str, outputs=None, report: str | None = None):
    """Every member's ledger as one frame with an ``environment`` column (local or shared outputs)."""
    root = Path(outputs or default_outputs()) / FLEETS / fleet
    frames = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if (d / "ledger.sqlite").exists():
            df = read_ledger(d, report)
            df.insert(0, "environment", d.name)
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["environment", "report", "run_id", "finished", "status", "key", "value",
                                     "text"])
    return pd.concat(frames, ignore_index=True)
