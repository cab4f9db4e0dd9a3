"""Scheduled reports: what is due, no overlaps, catch-up after downtime, retention, notifications.

``parameters/schedule.yaml`` lists entries (a report, a cron expression in UTC, parameters, a timeout, how many
runs to keep). :func:`run_due` runs every entry whose cron slot came since its last recorded slot (for cron or a
systemd timer calling ``rtanalytics schedule run`` every few minutes); relative times in its parameters resolve
against the slot, so a late run covers the window it was meant to. After downtime, ``catch_up: latest`` runs
only the newest missed slot and records how many were skipped (``all`` runs each; ``none`` skips them).
An entry never overlaps itself: it holds an exclusive lock on ``outputs/.locks/NAME.lock`` while it runs (the OS
releases it if the process dies), and a run that finds it held is recorded as skipped. Cron expressions have
standard crontab semantics (0 or 7 = Sunday) and are run by APScheduler's ``CronTrigger`` — the library the
daemon uses; its own ``from_crontab`` counts 0 = Monday and would move every weekly job by a day.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Callable, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..catalog import catalog, read_yaml
from ..catalog.loader import validate
from ..errors import ParameterError, RtAnalyticsError
from ..health import check_environment
from ..settings import current as current_project
from ..settings import default_outputs
from ..timewindow import to_utc, utcnow
from .fleet import FLEETS, run_fleet
from .notify import notify
from .publish import atomic_write_json, locked, prune
from .registry import REPORTS, get_report
from .runner import run_report
from .warm import KernelPool

MAX_SLOTS = 10_000


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    report: str | None = None
    task: str | None = None
    cron: str
    params: dict = {}
    timeout: float = Field(900, gt=0)
    keep: int = Field(30, ge=1)
    fleet: str | None = Field(None, description="run the report for every environment of this fleet "
                              "(parameters/fleet.yaml) that lists it")
    scheduler: str | None = Field(None, description="with fleet: a Dask scheduler address (default: "
                                  "$RTANALYTICS_DASK_SCHEDULER, else local worker processes)")

    @field_validator("cron")
    @classmethod
    def _cron(cls, v):
        trigger(v)
        return v

    @model_validator(mode="after")
    def _one(self):
        if (self.report is None) == (self.task is None):
            raise ValueError("give exactly one of report and task")
        if self.report is not None:
            if self.report not in REPORTS:
                raise ValueError(f"unknown report {self.report!r} (reports: {', '.join(REPORTS)})")
        if self.fleet is not None:
            if self.report is None:
                raise ValueError("fleet entries run a report (tasks run for one environment)")
            fleets = catalog().fleets
            if self.fleet not in fleets:
                raise ValueError(f"unknown fleet {self.fleet!r} (parameters/fleet.yaml has: "
                                 f"{', '.join(sorted(fleets)) or 'none'})")
        elif self.scheduler:
            raise ValueError("scheduler only applies to a fleet entry")
        return self


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    catch_up: Literal["latest", "all", "none"] = "latest"
    entries: list[Entry]

    @model_validator(mode="after")
    def _unique(self):
        names = [e.name for e in self.entries]
        if len(set(names)) != len(names):
            raise ValueError("entry names must be unique")
        return self


_DOW = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _cron_days(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday, 1 = Monday, names allowed) as APScheduler day names.
    APScheduler counts 0 = Monday, so passing crontab numbers through unchanged would shift every weekly job by a
    day (its own ``from_crontab`` does exactly that)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        step = 1
        if "/" in part:
            part, st = part.split("/", 1)
            step = int(st)
        if part in ("*", ""):
            lo, hi = 0, 6
        elif "-" in part:
            a, b = part.split("-", 1)
            lo, hi = (_DOW.index(x[:3]) if x[:3] in _DOW else int(x) for x in (a, b))
        else:
            lo = hi = _DOW.index(part[:3]) if part[:3] in _DOW else int(part)
        if not (0 <= lo <= 7 and 0 <= hi <= 7 and lo <= hi):
            raise ValueError(f"day of week {field!r} out of range 0-7")
        days |= {d % 7 for d in range(lo, hi + 1, step)}
    return ",".join(_DOW[d] for d in sorted(days))


def trigger(expr: str):
    """A UTC ``CronTrigger`` for a standard five-field crontab expression (minute hour day month day-of-week)."""
    from apscheduler.triggers.cron import CronTrigger  # lazy: APScheduler only for the schedule

    parts = expr.split()
    try:
        if len(parts) != 5:
            raise ValueError("needs five fields")
        minute, hour, day, month, dow = parts
        if day != "*" and dow != "*":
            raise ValueError("day of month and day of week both restricted (cron ORs them; give one)")
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_days(dow),
                           timezone="UTC")
    except ValueError as e:
        raise ValueError(f"not a cron expression: {expr!r} ({e}); use five fields, e.g. '0 6 * * 1' "
                         "(Mondays at 06:00 UTC)") from None


def load_schedule(path=None) -> Schedule:
    path = path or catalog().root / "schedule.yaml"
    return validate(Schedule, read_yaml(path), path)


def slots_between(expr: str, after: pd.Timestamp, until: pd.Timestamp) -> list[pd.Timestamp]:
    """Cron slots in ``(after, until]``."""
    t = trigger(expr)
    out = []
    prev = after.to_pydatetime()
    nxt = t.get_next_fire_time(None, prev + pd.Timedelta(seconds=1).to_pytimedelta())
    while nxt is not None and nxt <= until.to_pydatetime() and len(out) < MAX_SLOTS:
        out.append(pd.Timestamp(nxt).tz_convert("UTC"))
        nxt = t.get_next_fire_time(nxt, nxt + pd.Timedelta(seconds=1).to_pytimedelta())
    return out


class EntryLock:
    """Non-blocking exclusive lock for one entry; ``acquired`` is False when another run holds it."""

    def __init__(self, outputs: Path, name: str):
        self.path = Path(outputs) / ".locks" / f"{name}.lock"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = None
        self.acquired = False

    def __enter__(self):
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.acquired = True
            self.fh.seek(0)
            self.fh.truncate()
            self.fh.write(f"{os.getpid()}\n")
            self.fh.flush()
        except BlockingIOError:
            self.acquired = False
        return self

    def __exit__(self, *exc):
        if self.acquired:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
        self.fh.close()


TASKS: dict[str, Callable] = {}


def register_task(name: str):
    def deco(fn):
        TASKS[name] = fn
        return fn

    return deco


def _state_path(outputs: Path) -> Path:
    return Path(outputs) / ".schedule-state.json"


def read_state(outputs: Path) -> dict:
    try:
        return json.loads(_state_path(outputs).read_text())
    except (OSError, ValueError):
        return {}


def run_entry(entry: Entry, slot: pd.Timestamp, outputs: Path, runner: Callable | None = None,
              environment=None, aws=None) -> dict:
    """Run one entry for ``slot`` (locked, timed out, pruned, notified); a dict describing what happened."""
    runner = runner or run_report
    rec = {"entry": entry.name, "slot": slot.isoformat(), "report": entry.report or entry.task}
    with EntryLock(outputs, entry.name) as lock:
        if not lock.acquired:
            return rec | {"status": "skipped", "why": "the previous run of this entry is still running"}
        if entry.task:
            fn = TASKS.get(entry.task)
            if fn is None:
                return rec | {"status": "failed", "why": f"unknown task {entry.task!r}"}
            try:
                out = fn(entry.params, outputs=outputs, now=slot)
                return rec | {"status": out.get("status", "ok"), "result": out}
            except RtAnalyticsError as e:
                return rec | {"status": "failed", "why": str(e)}
        if entry.fleet:
            return rec | _run_fleet_entry(entry, slot, outputs, environment, aws)
        try:
            res = runner(entry.report, dict(entry.params), outputs, now=slot, timeout=entry.timeout, progress=False)
        except ParameterError as e:  # a bad schedule entry must not fail silently either
            summary = {"report": entry.report, "run_id": "-", "status": "failed", "error": str(e), "figures": {}}
            rec |= {"status": "failed", "why": str(e)}
            rec["notified"] = _notify(summary, str(catalog().root / "schedule.yaml"), environment, aws)
            return rec
        rec |= {"status": res.status, "run_id": res.run_id, "why": res.summary.get("error")}
        rec["pruned"] = [p.name for p in prune(Path(outputs) / entry.report, entry.keep)]
        rec["notified"] = _notify(res.summary, str(res.run_dir / "report.html"), environment, aws)
        return rec


def _run_fleet_entry(entry: Entry, slot: pd.Timestamp, outputs: Path, environment, aws) -> dict:
    """A fleet entry: every member that lists the report, as one fleet cycle; kept runs pruned per member; one
    notification naming the members whose runs failed."""
    try:
        res = run_fleet(entry.fleet, [entry.report], dict(entry.params), outputs, now=slot,
                        scheduler=entry.scheduler, timeout=entry.timeout, progress=False)
    except ParameterError as e:
        summary = {"report": entry.report, "run_id": "-", "status": "failed", "error": str(e), "figures": {}}
        return {"status": "failed", "why": str(e),
                "notified": _notify(summary, str(catalog().root / "schedule.yaml"), environment, aws)}
    order = {"failed": 0, "no-data": 1, "partial": 2, "ok": 3}
    worst = min((r["status"] for r in res.runs), key=lambda x: order.get(x, 0), default="no-data")
    bad = sorted(r["environment"] for r in res.runs if r["status"] == "failed")
    why = f"{len(bad)} of {len(res.runs)} runs failed: {', '.join(bad[:20])}" if bad else None
    pruned = []
    for r in res.runs:
        pruned += [p.name for p in prune(Path(outputs) / FLEETS / entry.fleet / r["environment"] / entry.report,
                                         entry.keep)]
    summary = {"report": f"{entry.report} (fleet {entry.fleet})", "run_id": res.cycle, "status": worst,
               "error": why, "figures": {}}
    return {"status": worst, "why": why, "fleet": entry.fleet, "runs": len(res.runs), "counts": res.counts,
            "retried": len(res.retried), "pruned": pruned, "board": res.board,
            "notified": _notify(summary, res.board, environment, aws) if worst != "ok" else None}


def _notify(summary: dict, location: str, environment, aws):
    if environment is None or not environment.notifications.enabled:
        return None

    return notify(summary, location, environment.notifications.topics, aws)


def run_due(now=None, outputs: Path | None = None, schedule: Schedule | None = None, runner: Callable | None = None,
            environment: str | None = None, aws=None) -> list[dict]:
    """Run every entry due at ``now`` (see module docstring); returns one record per run, skip or catch-up."""

    now = to_utc(now) if now is not None else utcnow()
    outputs = Path(outputs or default_outputs())
    sched = schedule or load_schedule()
    env = catalog().environment(environment) if isinstance(environment, str) else environment
    results = []
    with locked(outputs / ".schedule.lock"):
        state = read_state(outputs)
    due = []
    for e in sched.entries:
        last = state.get(e.name)
        if last is None:  # first sight of this entry: start counting from now, run nothing retroactively
            state[e.name] = now.isoformat()
            continue
        slots = slots_between(e.cron, to_utc(last), now)
        if not slots:
            continue
        todo = slots if sched.catch_up == "all" else ([] if sched.catch_up == "none" and len(slots) > 1 else
                                                      slots[-1:])
        due.append((e, slots, todo))
    notebooks = [e.report for e, _, todo in due for _ in todo if e.report and not e.fleet]
    pooled = None
    if runner is None and len(notebooks) > 1:  # several reports at once: each next kernel warms meanwhile
        pooled = runner = warm_runner(notebooks, size=1, budget=len(notebooks))
    try:
        for e, slots, todo in due:
            for slot in todo:
                rec = run_entry(e, slot, outputs, runner, env, aws)
                rec["missed"] = len(slots) - len(todo)
                results.append(rec)
            state[e.name] = slots[-1].isoformat()
            _save_state(outputs, {e.name: state[e.name]})
    finally:
        if pooled is not None:
            pooled.close()
    _save_state(outputs, state)
    return results


def _save_state(outputs: Path, update: dict) -> None:
    with locked(outputs / ".schedule.lock"):
        atomic_write_json(_state_path(outputs), read_state(outputs) | update)


def crontab_lines(repo: Path | None = None, every: str = "*/5 * * * *") -> list[str]:
    """Crontab lines that run ``schedule run`` from the project's folder (``repo``: default the project in force)."""
    repo = repo or current_project().workdir
    exe = Path(sys.executable).parent / "rtanalytics"
    return ["# rtanalytics: run what parameters/schedule.yaml says is due (UTC), every 5 minutes",
            "CRON_TZ=UTC", f"{every} cd {repo} && {exe} schedule run >> {repo}/outputs/schedule.log 2>&1"]


def systemd_unit(repo: Path | None = None, outputs: Path | None = None, environment: str | None = None) -> str:
    """A systemd service for ``schedule daemon`` — the way to run frequent reports: its warm kernels make a
    scheduled report ~3x quicker than a cron-started ``schedule run`` (bench/run_overhead.py). No credentials:
    the service's AWS credential chain (instance role, ``AWS_PROFILE``) is the one used."""
    repo = repo or current_project().workdir
    exe = Path(sys.executable).parent / "rtanalytics"
    args = (f" --outputs {outputs}" if outputs else "") + (f" --environment {environment}" if environment else "")
    log = Path(outputs) / "schedule.log" if outputs else repo / "outputs" / "schedule.log"
    return "\n".join([
        "# rtanalytics: the schedule daemon (parameters/schedule.yaml, UTC), kept up by systemd",
        "# save as /etc/systemd/system/rtanalytics.service, then:",
        "#   systemctl daemon-reload && systemctl enable --now rtanalytics",
        "[Unit]", "Description=rtanalytics schedule daemon", "After=network-online.target",
        "Wants=network-online.target", "",
        "[Service]", "Type=simple", f"WorkingDirectory={repo}", f"ExecStart={exe} schedule daemon{args}",
        "Restart=on-failure", "RestartSec=30", "Environment=TZ=UTC", "# User=rtanalytics",
        f"StandardOutput=append:{log}", f"StandardError=append:{log}", "",
        "[Install]", "WantedBy=multi-user.target", ""])


def warm_runner(reports: list[str], size: int = 1, budget: int | None = None):
    """``run_report`` with a kernel from a pool kept warm for these reports' notebooks (reports/warm.py): a
    daemon's run starts on a kernel that booted and ran the notebook's imports while the daemon waited. One pool
    per folder of notebooks (a kernel starts in its notebook's folder: a team's plugin reports get their own).
    With ``budget`` (``reports`` then lists one name per run) each pool starts as many kernels as its runs.
    ``runner.pools`` maps folders to pools, ``runner.pool`` is the first (``None`` without reports, or with
    ``RTANALYTICS_WARM_KERNEL=0``); ``runner.close()`` shuts every pool's kernels down."""
    off = os.environ.get("RTANALYTICS_WARM_KERNEL", "1").strip().lower() in ("0", "false", "no", "off")
    by_folder: dict[Path, list[str]] = {}
    for r in reports:
        if r and _known(r):
            by_folder.setdefault(get_report(r).notebook.parent.resolve(), []).append(r)
    pools = {} if off else {
        folder: KernelPool([get_report(n).notebook for n in dict.fromkeys(names)], size,
                           len(names) if budget is not None else None)
        for folder, names in by_folder.items()}

    def runner(name, params, outputs, **kw):
        pool = pools.get(get_report(name).notebook.parent.resolve()) if _known(name) else None
        kernel = pool.take() if pool is not None else None
        try:
            return run_report(name, params, outputs, kernel=kernel, **kw)
        finally:
            if kernel is not None:
                kernel.retire()  # also when the parameters were bad and no run started

    runner.pools = pools
    runner.pool = next(iter(pools.values()), None)
    runner.close = lambda: [p.close() for p in pools.values()]
    return runner


def _known(name: str) -> bool:
    return name in REPORTS


def build_daemon(outputs: Path | None = None, environment: str | None = None, schedule: Schedule | None = None):
    """An APScheduler ``BlockingScheduler`` with one job per entry (one instance at a time, missed slots
    coalesced into one run within an hour's grace), not yet started."""
    from apscheduler.schedulers.blocking import BlockingScheduler  # lazy: APScheduler only for the schedule


    outputs = Path(outputs or default_outputs())
    sched = schedule or load_schedule()
    env = catalog().environment(environment) if environment else None
    bs = BlockingScheduler(timezone="UTC")
    runner = warm_runner([e.report for e in sched.entries if e.report and not e.fleet])
    bs.rtanalytics_runner = runner
    for e in sched.entries:
        bs.add_job(lambda e=e: print(json.dumps(run_entry(e, utcnow().floor("min"), outputs, runner, env),
                                                default=str), flush=True),
                   trigger(e.cron), id=e.name, name=e.name, max_instances=1, coalesce=True, misfire_grace_time=3600)
    return bs


def daemon(outputs: Path | None = None, environment: str | None = None) -> None:  # pragma: no cover - runs forever
    """Stay up and run each entry at its cron slots."""
    bs = build_daemon(outputs, environment)
    print(f"rtanalytics schedule daemon: {len(bs.get_jobs())} entries", flush=True)
    try:
        bs.start()
    finally:
        bs.rtanalytics_runner.close()


@register_task("health")
def _health_task(params: dict, outputs: Path, now) -> dict:
    """The seed's 5-minute health check, without a notebook: appended to ``outputs/health.sqlite``."""
    rep = check_environment(params.get("environment", "demo"), Path(outputs) / "health.sqlite")
    return {"status": "ok" if rep["overallStatus"] == "healthy" else rep["overallStatus"],
            "overall": rep["overallStatus"], "id": rep["healthCheckId"]}
