"""Backtest a change to alarms before it is applied: both versions of every changed alarm replayed over the same
history with CloudWatch's rules (:func:`rtanalytics.alarms.evaluate_states`), side by side.

Per alarm and version: state transitions, pages (entries into ALARM), minutes in ALARM, flaps (ALARM episodes
shorter than ``flap_periods`` periods), and — where the source knows its incidents — incidents caught, missed
and the mean detection delay. ``rtanalytics alarms diff BEFORE AFTER`` prints it as a table or as JSON for a
pull-request comment, and exits 3 when a change makes an alarm page more than ``--max-new-pages`` more times.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .alarms import ALARM, Alarm, evaluate_states
from .backtest import episodes, match, relevant_incidents
from .errors import ParameterError
from .iac import import_alarms


def replay(alarm: Alarm, series: pd.Series, incidents: pd.DataFrame | None = None, flap_periods: int = 3) -> dict:
    """What ``alarm`` would have done over ``series`` (its metric at its period and statistic)."""
    codes = evaluate_states(alarm, series.to_numpy(dtype=float))
    times = series.index + pd.Timedelta(seconds=alarm.Period)
    eps = episodes(codes, times)
    lengths = ((eps["end"].fillna(times[-1] + pd.Timedelta(seconds=alarm.Period)) - eps["start"])
               .dt.total_seconds() / alarm.Period) if len(eps) else pd.Series(dtype=float)
    out = {"transitions": int(np.count_nonzero(codes[1:] != codes[:-1])) if len(codes) else 0,
           "pages": int(len(eps)), "minutes_in_alarm": float((codes == ALARM).sum() * alarm.Period / 60.0),
           "flaps": int((lengths < flap_periods).sum()) if len(eps) else 0}
    if incidents is not None:
        per_inc, _ = match(eps, incidents)
        caught = per_inc[per_inc["detected"]]
        out |= {"incidents_caught": int(len(caught)), "incidents_missed": int(len(per_inc) - len(caught)),
                "detection_minutes": float(caught["detection_minutes"].mean()) if len(caught) else float("nan")}
    return out


def diff(before: Sequence[Alarm], after: Sequence[Alarm], series_for: Callable[[Alarm], pd.Series],
         incidents: pd.DataFrame | None = None, flap_periods: int = 3) -> pd.DataFrame:
    """One row per alarm that differs (changed, added, removed): ``before_*`` and ``after_*`` of :func:`replay`."""
    b, a = {x.AlarmName: x for x in before}, {x.AlarmName: x for x in after}
    rows = []
    for name in sorted(set(b) | set(a)):
        old, new = b.get(name), a.get(name)
        if old is not None and new is not None and old == new:
            continue
        row = {"alarm": name, "change": "changed" if old is not None and new is not None else
               ("added" if new is not None else "removed")}
        if old is not None and new is not None:
            row["fields"] = ", ".join(f"{k}: {getattr(old, k)!r} → {getattr(new, k)!r}" for k in Alarm.model_fields
                                      if getattr(old, k) != getattr(new, k))
        for side, alarm in (("before", old), ("after", new)):
            if alarm is not None:  # scored against the incidents its metric can see (as the alarms report does)
                inc = relevant_incidents(alarm, incidents) if incidents is not None and len(incidents) else incidents
                row |= {f"{side}_{k}": v for k, v in replay(alarm, series_for(alarm), inc, flap_periods).items()}
        rows.append(row)
    return pd.DataFrame(rows)


def materialise(spec: str, tmp: Path) -> Path:
    """``PATH`` as it is, or ``git:REV:PATH`` (that path at that revision of the current git repository)."""
    if not spec.startswith("git:"):
        p = Path(spec)
        if not p.exists():
            raise ParameterError("BEFORE/AFTER", f"{spec} not found", "a folder or file of Terraform/CloudFormation, "
                                 "or git:REV:PATH")
        return p
    try:
        _, rev, path = spec.split(":", 2)
    except ValueError:
        raise ParameterError("BEFORE/AFTER", f"{spec!r} is not git:REV:PATH", "e.g. git:main:infra/alarms") from None
    r = subprocess.run(["git", "archive", "--format=tar", rev, path], capture_output=True)
    if r.returncode != 0:
        raise ParameterError("BEFORE/AFTER", f"git archive {rev} {path}: {r.stderr.decode().strip()}",
                             "a revision and a path of this repository")
    dest = tmp / rev.replace("/", "_")
    with tarfile.open(fileobj=BytesIO(r.stdout)) as t:
        t.extractall(dest, filter="data")
    return dest / path


def load_side(spec: str, pseudo: dict | None = None, values: dict | None = None):
    with tempfile.TemporaryDirectory() as tmp:
        return import_alarms(materialise(spec, Path(tmp)), pseudo=pseudo, values=values)


__all__ = ["replay", "diff", "materialise", "load_side"]
