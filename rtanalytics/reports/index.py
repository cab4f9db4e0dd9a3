"""``outputs/index.html``: every run of every report, newest first, with status and key figures.

Self-contained (inline CSS, no script), readable offline and on a phone; every value taken from a run is
HTML-escaped.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import pandas as pd

from ..present import fmt_duration, fmt_time
from .publish import atomic_write_text

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:12px;
color:#222}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}table{border-collapse:collapse;width:100%;
font-size:.9em}th,td{border-bottom:1px solid #e0e0e0;padding:6px 8px;text-align:left;vertical-align:top}
.ok{color:#2e7d32;font-weight:600}.failed{color:#c62828;font-weight:700}.partial,.no-data{color:#ef6c00;font-weight:600}
.latest{background:#f1f8e9}.figs{color:#555;font-size:.85em}.wrap{overflow-x:auto}
.trends{display:flex;flex-wrap:wrap;gap:4px 18px;margin:6px 0 10px}.trend{font-size:.85em;color:#333}
.trend .k{color:#666}svg{vertical-align:middle}.scale{color:#888;font-size:.85em}.tnote{width:100%;color:#777;
font-size:.8em}.chip{color:#fff;border-radius:4px;padding:1px 8px;font-weight:700}.chip.ok{background:#2e7d32;color:#fff}
.chip.partial,.chip.no-data{background:#ef6c00;color:#fff}.chip.failed{background:#c62828;color:#fff}
.hf{display:inline-block;margin:0 12px 2px 0;white-space:nowrap}.hf .k{color:#666;font-size:.85em}
.nw{white-space:nowrap}.small{font-size:.85em;color:#555}td.heads{min-width:16em}
@media (max-width:600px){td.figs,th.figs{display:none}}
"""


def read_runs(outputs: Path) -> dict[str, list[dict]]:
    """Summaries of every published run (folders with a summary.json), per report, newest first."""
    runs: dict[str, list[dict]] = {}
    if not outputs.is_dir():
        return runs
    for report_dir in sorted(p for p in outputs.iterdir() if p.is_dir() and not p.name.startswith(".")):
        items = []
        for run_dir in report_dir.iterdir():
            f = run_dir / "summary.json"
            if run_dir.name.startswith(".") or not f.is_file():
                continue
            try:
                s = json.loads(f.read_text())
            except (OSError, ValueError):
                continue
            s["_dir"] = f"{report_dir.name}/{run_dir.name}"
            items.append(s)
        items.sort(key=lambda s: s.get("run_id", ""), reverse=True)
        if items:
            runs[report_dir.name] = items
    return runs


def latest_good(outputs: Path, report: str) -> str | None:
    f = outputs / report / "latest.json"
    try:
        return json.loads(f.read_text())["run_id"]
    except (OSError, ValueError, KeyError):
        return None


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def sparkline(values, width=120, height=24) -> str:
    """An inline SVG polyline of ``values`` (no script, no external resource)."""
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if len(v) < 2:
        return ""
    lo, hi = min(v), max(v)
    span = (hi - lo) or 1.0
    pts = " ".join(f"{i * (width - 2) / (len(v) - 1) + 1:.1f},{height - 2 - (x - lo) / span * (height - 4):.1f}"
                   for i, x in enumerate(v))
    return (f"<svg width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img'>"
            f"<polyline fill='none' stroke='#1565c0' stroke-width='1.5' points='{pts}'/></svg>")


def _window(s: dict) -> tuple[str, str]:
    """The window a run analysed (the report's own, else what was asked for)."""
    w = s.get("window") or {}
    p = s.get("params", {})
    return str(w.get("start") or p.get("start", "")), str(w.get("end") or p.get("end", ""))


def _span(s: dict) -> float | None:
    a, b = _window(s)
    try:
        return (pd.Timestamp(b) - pd.Timestamp(a)).total_seconds()
    except (ValueError, TypeError):
        return None


def _when(iso: str) -> str:
    return fmt_time(iso) if iso else ""


_TONE = {"good": "#2e7d32", "warn": "#ef6c00", "bad": "#c62828"}


def _headline_cells(s: dict) -> str:
    e = html.escape
    out = []
    for f in s.get("headline") or []:
        colour = _TONE.get(f.get("tone"), "#333")
        out.append(f"<span class='hf'><span class='k'>{e(str(f.get('label', f.get('key'))))}</span> "
                   f"<b style='color:{colour}'>{e(str(f.get('text', '')))}</b></span>")
    if not out:  # a run from before headlines were declared: its first figures
        out = [f"<span class='hf'><span class='k'>{e(str(k))}</span> <b>{e(_fmt(v))}</b></span>"
               for k, v in list((s.get("figures") or {}).items())[:5]]
    return "".join(out)


def move(pts: list[float], shown: list[str]) -> tuple[float, bool, str]:
    """The last move of a figure: ``(change, whether it is a move at all, arrow)``. A change is a move only when
    it shows in the figure's own formatting (``0.7903`` twice is no move, whatever the digits behind it) and
    exceeds the figure's noise — the median size of its earlier run-to-run changes (with four runs or more)."""
    d = pts[-1] - pts[-2]
    if d == 0 or (len(shown) >= 2 and shown[-1] == shown[-2]):
        return d, False, "→"
    earlier = [abs(b - a) for a, b in zip(pts[:-2], pts[1:-1])]
    noise = sorted(earlier)[len(earlier) // 2] if len(earlier) >= 2 else 0.0
    if abs(d) <= noise:
        return d, False, "→"
    return d, True, "↑" if d > 0 else "↓"


def _trends(items: list[dict], last: int = 12) -> str:
    """Sparklines of the latest run's headline figures over earlier runs of the same window length (a 24 h run
    is never drawn beside 7 d runs), with the scale and whether the last move was good or bad."""
    if not items:
        return ""
    span = _span(items[0])
    same = [s for s in items if s.get("status") in ("ok", "partial") and _span(s) == span][:last][::-1]
    if len(same) < 2:
        return ""
    e = html.escape
    cells = []
    for f in items[0].get("headline") or []:
        key = f.get("key")
        vals, texts = [], []
        for s in same:
            h = next((h for h in s.get("headline") or [] if h.get("key") == key), {})
            v = h.get("value")
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            vals.append(float(v) if ok else None)
            texts.append(str(h.get("text") or _fmt(v)) if ok else None)
        pts = [v for v in vals if v is not None]
        shown = [x for x in texts if x is not None]
        if len(pts) < 2:
            continue
        d, verdict, arrow = move(pts, shown)
        better = f.get("better")
        verdict = "" if not verdict or better not in ("up", "down") else (
            "better" if (d > 0) == (better == "up") else "worse")
        colour = {"better": "#2e7d32", "worse": "#c62828"}.get(verdict, "#555")
        lo, hi = shown[pts.index(min(pts))], shown[pts.index(max(pts))]
        scale = lo if lo == hi else f"{lo}–{hi}"
        cells.append(f"<div class='trend'><span class='k'>{e(str(f.get('label', key)))}</span> "
                     f"{sparkline(pts)} <span class='scale'>{e(scale)}</span> "
                     f"<b style='color:{colour}'>{arrow} {e(verdict)}</b></div>")
    if not cells:
        return ""

    return (f"<div class='trends'><div class='tnote'>last {len(same)} runs over {e(fmt_duration(span))} windows"
            f"</div>" + "".join(cells) + "</div>")


def _board(runs: dict[str, list[dict]], outputs: Path) -> str:
    """One row per report × environment × source: its latest run's status, headline figures, when it ran and the
    window it analysed; worst first."""
    e = html.escape
    rows = []
    for report, items in runs.items():
        seen = set()
        for s in items:
            p = s.get("params", {})
            key = (p.get("environment"), p.get("source"))
            if key in seen:
                continue
            seen.add(key)
            rows.append((report, s))
    order = {"failed": 0, "no-data": 1, "partial": 2, "ok": 3}
    rows.sort(key=lambda r: (order.get(str(r[1].get("status")), 1), r[0]))
    out = ["<div class='wrap'><table class='board'><tr><th>report</th><th>status</th><th>headline</th>"
           "<th>window analysed</th><th>ran · environment · source</th></tr>"]
    for report, s in rows:
        status = str(s.get("status", "?"))
        p = s.get("params", {})
        a, b = _window(s)
        link = f"{s['_dir']}/report.html"
        head = _headline_cells(s) if not s.get("error") else e(str(s["error"]))[:300]
        latest = latest_good(outputs, report)
        good = "" if s.get("run_id") == latest or not latest else (
            f"<br><a class='small' href='{e(report + '/' + latest + '/report.html', quote=True)}'>latest good</a>")
        out.append(f"<tr><td><a href='{e(link, quote=True)}'>{e(str(s.get('title') or report))}</a>{good}</td>"
                   f"<td><span class='chip {e(status, quote=True)}'>{e(status)}</span></td>"
                   f"<td class='heads'>{head}</td><td class='nw'>{e(_when(a))} →<br>{e(_when(b))}</td>"
                   f"<td class='nw'>{e(_when(str(s.get('finished', ''))))}<br>"
                   f"{e(str(p.get('environment', '')))} · {e(str(p.get('source', '')))}</td></tr>")
    out.append("</table></div>")
    return "".join(out)


def _project_of(runs: dict) -> dict | None:
    """The catalog the newest run used (``summary.json``'s ``catalog``), for the board's title."""
    newest = max((s for items in runs.values() for s in items if s.get("catalog")),
                 key=lambda s: str(s.get("finished", "")), default=None)
    return newest["catalog"] if newest else None


def render_index(outputs: Path) -> str:
    runs = read_runs(outputs)
    e = html.escape
    cat = _project_of(runs)
    name = f"{cat['project']} — " if cat and not cat.get("bundled") else ""
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>{e(name)}rtanalytics — status board</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(name)}rtanalytics — status board</h1>"]
    if cat:
        parts.append(f"<p class='small'>Catalog: {'the bundled example' if cat.get('bundled') else 'project '}"
                     f"{'' if cat.get('bundled') else e(str(cat['project']))} ({e(str(cat.get('root', '')))}) · "
                     f"sha256 {e(str(cat.get('sha256', ''))[:12])}</p>")
    fleets = sorted(p.parent.name for p in (outputs / "fleets").glob("*/index.html"))
    if fleets:
        parts.append("<p>Fleets: " + " · ".join(f"<a href='fleets/{e(f, quote=True)}/index.html'>{e(f)}</a>"
                                                 for f in fleets) + "</p>")
    if not runs and not fleets:
        parts.append("<p>No runs yet. Try <code>make demo</code> or <code>rtanalytics run kpis</code>.</p>")
    elif runs:
        parts.append("<p class='small'>The latest run of every report, worst first: its status, the figures the "
                     "report declares as its headline, and the window it analysed. Runs and trends below.</p>")
        parts.append(_board(runs, outputs))
    for report, items in runs.items():
        latest = latest_good(outputs, report)
        parts.append(f"<h2>{e(str(items[0].get('title') or report))}</h2>" + _trends(items))
        parts.append(f"<details><summary>{len(items)} run{'s' if len(items) != 1 else ''}</summary>"
                     "<div class='wrap'><table><tr><th>run</th><th>status</th>"
                     "<th>window analysed</th><th>duration</th><th class='figs'>headline</th></tr>")
        for s in items:
            status = str(s.get("status", "?"))
            cls = "latest" if s.get("run_id") == latest else ""
            link = f"{s['_dir']}/report.html"
            figtxt = _headline_cells(s) if not s.get("error") else e(str(s["error"]))[:300]
            a, b = _window(s)
            window = f"{e(_when(a))} → {e(_when(b))}"
            mark = " (latest good)" if cls else ""
            extra = [f for f in s.get("files", []) if f in ("postmortem.md", "evidence")]
            mark += "".join(f" · <a href='{e(s['_dir'] + '/' + f, quote=True)}'>{e(f)}</a>" for f in extra)
            parts.append(
                f"<tr class='{cls}'><td><a href='{e(link, quote=True)}'>{e(str(s.get('run_id')))}</a>{mark}</td>"
                f"<td class='{e(status, quote=True)}'>{e(status)}</td><td>{window}</td>"
                f"<td>{e(_fmt(s.get('duration_s', '')))} s</td><td class='figs heads'>{figtxt}</td></tr>")
        parts.append("</table></div></details>")
    parts.append("</body></html>")
    return "".join(parts)


def write_index(outputs: Path) -> Path:
    path = outputs / "index.html"
    atomic_write_text(path, render_index(outputs))
    return path
