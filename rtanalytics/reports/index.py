"""``outputs/index.html``: every run of every report, newest first, with status and key figures.

Self-contained (inline CSS, no script), readable offline and on a phone; every value taken from a run is
HTML-escaped.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from .publish import atomic_write_text

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:12px;
color:#222}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}table{border-collapse:collapse;width:100%;
font-size:.9em}th,td{border-bottom:1px solid #e0e0e0;padding:6px 8px;text-align:left;vertical-align:top}
.ok{color:#2e7d32;font-weight:600}.failed{color:#c62828;font-weight:700}.partial,.no-data{color:#ef6c00;font-weight:600}
.latest{background:#f1f8e9}.figs{color:#555;font-size:.85em}.wrap{overflow-x:auto}
.trends{display:flex;flex-wrap:wrap;gap:4px 18px;margin:6px 0 10px}.trend{font-size:.85em;color:#333}
.trend .k{color:#666}svg{vertical-align:middle}
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
    import math

    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if len(v) < 2:
        return ""
    lo, hi = min(v), max(v)
    span = (hi - lo) or 1.0
    pts = " ".join(f"{i * (width - 2) / (len(v) - 1) + 1:.1f},{height - 2 - (x - lo) / span * (height - 4):.1f}"
                   for i, x in enumerate(v))
    return (f"<svg width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img'>"
            f"<polyline fill='none' stroke='#1565c0' stroke-width='1.5' points='{pts}'/></svg>")


def _trend_rows(outputs: Path, report: str) -> str:
    from .ledger import trends

    try:
        t = trends(outputs, report)
    except Exception:
        return ""
    if t.empty or len(t) < 2:
        return ""
    keys = [k for k in t.columns if k != "duration_s" and t[k].notna().sum() >= 2][:6]
    e = html.escape
    cells = []
    for k in keys:
        s = t[k].dropna()
        arrow = "↑" if s.iloc[-1] > s.iloc[-2] else ("↓" if s.iloc[-1] < s.iloc[-2] else "→")
        cells.append(f"<div class='trend'><span class='k'>{e(k)}</span> {sparkline(s.tolist())} "
                     f"<b>{e(_fmt(float(s.iloc[-1])))}</b> {arrow}</div>")
    return "<div class='trends'>" + "".join(cells) + "</div>"


def render_index(outputs: Path) -> str:
    runs = read_runs(outputs)
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>rtanalytics reports</title><style>{_CSS}</style></head><body>",
             "<h1>rtanalytics reports</h1>"]
    if not runs:
        parts.append("<p>No runs yet. Try <code>make demo</code> or <code>rtanalytics run kpis</code>.</p>")
    for report, items in runs.items():
        latest = latest_good(outputs, report)
        parts.append(f"<h2>{e(report)}</h2>" + _trend_rows(outputs, report))
        parts.append("<div class='wrap'><table><tr><th>run</th><th>status</th>"
                     "<th>window</th><th>duration</th><th class='figs'>key figures</th></tr>")
        for s in items:
            status = str(s.get("status", "?"))
            cls = "latest" if s.get("run_id") == latest else ""
            link = f"{s['_dir']}/report.html"
            figs = s.get("figures") or {}
            figtxt = "; ".join(f"{e(str(k))}: {e(_fmt(v))}" for k, v in list(figs.items())[:8])
            if s.get("error"):
                figtxt = e(str(s["error"]))[:300]
            p = s.get("params", {})
            window = f"{e(str(p.get('start', '')))[:16]} → {e(str(p.get('end', '')))[:16]}"
            mark = " (latest good)" if cls else ""
            extra = [f for f in s.get("files", []) if f in ("postmortem.md", "evidence")]
            mark += "".join(f" · <a href='{e(s['_dir'] + '/' + f, quote=True)}'>{e(f)}</a>" for f in extra)
            parts.append(
                f"<tr class='{cls}'><td><a href='{e(link, quote=True)}'>{e(str(s.get('run_id')))}</a>{mark}</td>"
                f"<td class='{e(status, quote=True)}'>{e(status)}</td><td>{window}</td>"
                f"<td>{e(_fmt(s.get('duration_s', '')))} s</td><td class='figs'>{figtxt}</td></tr>")
        parts.append("</table></div>")
    parts.append("</body></html>")
    return "".join(parts)


def write_index(outputs: Path) -> Path:
    path = outputs / "index.html"
    atomic_write_text(path, render_index(outputs))
    return path
