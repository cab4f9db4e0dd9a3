"""Every report × window at the real clock and at random "now" instants — hour and day boundaries, week starts,
month ends, with the microseconds a real clock has — through the path a report takes: parameters resolved as
the runner resolves them, then every code cell of the report's notebook executed in process (each cell's last
value rendered to HTML as the page would), the clock frozen at the instant by time-machine. The outcome is
``ok``, ``partial``/``no-data`` with its reason, or a refused parameter (exit 2) — never a traceback.

A fixed test clock hides what the time of day breaks: the capacity report failed on windows under a day at the
real clock (an empty table of dates) while the grid passed at midnight.
"""

from __future__ import annotations

import ast
import html
import random
import re

import nbformat
import pandas as pd
import pytest
import time_machine

from rtanalytics.errors import ParameterError
from rtanalytics.present import _frame_html
from rtanalytics.reports.glue import SUMMARY_MIMETYPE
from rtanalytics.reports.registry import get_report, resolve_params
from rtanalytics.timewindow import parse_duration

REPORTS = ["kpis", "slo", "incident", "capacity", "alarms", "dashboards", "health", "weekly-performance",
           "daily-ops"]
WINDOWS = ["1h", "2h", "24h", "7d", "30d"]


def instants(seed: int, n: int) -> list[pd.Timestamp]:
    """Instants a scheduler or a person really runs at: just after or before an hour, a day, a Monday, a month's
    end, anywhere in between; always with microseconds."""
    r = random.Random(seed)
    base = pd.Timestamp("2026-10-01T00:00:00Z")
    out = []
    for _ in range(n):
        day = base + pd.Timedelta(days=r.randint(0, 60))
        kind = r.choice(["hour", "day", "week", "month-end", "any"])
        if kind == "hour":
            t = day + pd.Timedelta(hours=r.randint(0, 23)) + pd.Timedelta(seconds=r.choice([0.5, 59.9, -0.3]))
        elif kind == "day":
            t = day + pd.Timedelta(seconds=r.choice([0.2, -0.7, 30]))
        elif kind == "week":
            t = day - pd.Timedelta(days=day.day_of_week) + pd.Timedelta(seconds=r.choice([0.1, -0.1, 21600]))
        elif kind == "month-end":
            t = (day + pd.offsets.MonthEnd(0)).normalize() + pd.Timedelta(hours=23, minutes=59, seconds=59.999)
        else:
            t = day + pd.Timedelta(seconds=r.uniform(0, 86400))
        out.append((t + pd.Timedelta(microseconds=r.randint(1, 999_999))).floor("us"))  # a clock's precision
    return out


def run_cells(name: str, params: dict, tmp, monkeypatch) -> dict:
    """The report's notebook, cell by cell, in this process; returns the summary it published (what the runner
    reads from the executed notebook: a display output with the summary mimetype)."""
    import IPython.display

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    report = get_report(name)
    nb = nbformat.read(str(report.notebook), as_version=4)
    ns: dict = {}
    out_dir = tmp / f"{name}-run"
    out_dir.mkdir()
    inject = dict(params, evidence_dir="", output_dir=str(out_dir))
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "parameters" in cell.metadata.get("tags", []):
            exec(cell.source, ns)
            ns.update(inject)  # what papermill's injected cell does
            continue
        tree = ast.parse(cell.source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"<{name} cell>", "exec"), ns)
        if last is not None:
            shown.append(eval(compile(ast.Expression(last.value), f"<{name} cell>", "eval"), ns))
    for obj in shown:  # the page renders each: a table that cannot be drawn fails here, as in the report
        text = visible_text(obj)
        faults = [m.group(0) for m in RAW.finditer(text)]
        assert not faults, f"{name}: raw values in what the page shows: {faults[:5]}"
    found = [o[SUMMARY_MIMETYPE] for o in shown if isinstance(o, dict) and SUMMARY_MIMETYPE in o]
    return found[-1] if found else {}


class _Html:
    def __init__(self, text):
        self.text = text

    def _repr_html_(self):
        return self.text


#: what a reader must never see: Python's and pandas' raw missing values (the formatting layer shows "—")
RAW = re.compile(r".{0,40}\b(?:None|NaN|nan|NaT|<NA>)\b.{0,40}")


def visible_text(obj) -> str:
    """The text a reader sees of a displayed value: its HTML without tags, scripts and styles, or its
    Markdown. Figures (plotly's JSON) and the summary payload are not text. Frames go through the formatting
    layer, as ``rt.setup_notebook()`` makes IPython show them."""
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        obj = _Html(_frame_html(obj))
    for attr in ("_repr_html_", "to_html", "_repr_markdown_"):
        render = getattr(obj, attr, None)
        if render is not None:
            out = render()
            if isinstance(out, tuple):
                out = out[0]
            if out is None:
                return ""
            out = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", str(out))
            return html.unescape(re.sub(r"<[^>]+>", " ", out))
    return ""


def params_for(name: str, w: str, now: pd.Timestamp) -> dict:
    raw = {"start": f"-{w}"}
    if name == "incident":  # an incident that long ago, an hour long
        s = now - parse_duration(w)
        raw = {"incident_start": s.isoformat(), "incident_end": min(s + pd.Timedelta("1h"), now).isoformat()}
    elif name in ("weekly-performance", "daily-ops"):
        raw = {"end": "now"}
    if name == "health":
        raw["start"] = f"-{w}"
    return resolve_params(get_report(name), raw, now=now)


CELLS = [(n, w) for n in REPORTS for w in WINDOWS
         if not (n in ("weekly-performance", "daily-ops") and w != "24h") and not (n == "health" and w != "24h")]
_AT = instants(20261207, len(CELLS))


def _check(summary: dict, name: str, w: str, at):
    assert summary, f"{name} {w} at {at}: the notebook published no summary"
    st = summary.get("status")
    assert st in ("ok", "partial", "no-data"), (name, w, at, st)
    if st != "ok":
        assert summary.get("notes"), f"{name} {w} at {at}: {st} without a word on what is missing"


@pytest.mark.parametrize("name,w", CELLS)
def test_report_cells_at_a_random_instant(name, w, tmp_path, monkeypatch):
    at = _AT[CELLS.index((name, w))]
    monkeypatch.setenv("RTANALYTICS_OUTPUTS", str(tmp_path / "outputs"))  # the health history of this run only
    with time_machine.travel(at.to_pydatetime(), tick=False):
        try:
            params = params_for(name, w, at)
        except ParameterError:
            return  # refused before any kernel: exit 2, a permitted outcome
        _check(run_cells(name, params, tmp_path, monkeypatch), name, w, at)


@pytest.mark.parametrize("name", ["kpis", "capacity", "slo", "incident"])
@pytest.mark.parametrize("w", ["1h", "24h"])
def test_report_cells_at_the_real_clock(name, w, tmp_path, monkeypatch):
    monkeypatch.setenv("RTANALYTICS_OUTPUTS", str(tmp_path / "outputs"))
    now = pd.Timestamp.now(tz="UTC")
    _check(run_cells(name, params_for(name, w, now), tmp_path, monkeypatch), name, w, now)


def test_instants_cover_the_boundaries():
    at = instants(20261207, 200)
    assert all(t.microsecond for t in at) and all(str(t.tz) == "UTC" for t in at)
    assert any(t.day_of_week == 0 and t.hour == 0 for t in at)  # week starts
    assert any(t.is_month_end and t.hour == 23 for t in at)  # month ends
