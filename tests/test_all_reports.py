"""Every report renders on the demo source, offline: what `make demo` does, checked."""

import json
import subprocess

import pytest

from rtanalytics.reports.html import remote_references
from rtanalytics.reports.registry import REPORTS

from .conftest import ROOT


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    r = subprocess.run([str(ROOT / ".venv/bin/rtanalytics"), "run", "--all", "--no-progress", "--outputs", str(out)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def _last_run(rendered, name):
    runs = sorted(p for p in (rendered / name).iterdir() if p.is_dir() and not p.name.startswith("."))
    return runs[-1]


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_renders_offline(rendered, name):
    run = _last_run(rendered, name)
    latest = run.name
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["figures"], (summary.get("error"), summary.get("notes"))
    assert json.loads((rendered / name / "latest.json").read_text())["run_id"] == latest
    if name == "dashboards":  # the seed's business widget is empty as written: said, explained and corrected
        assert any("RequestsSubmitted is empty as written" in n and "SEARCH(" in n for n in summary["notes"])
    page = (run / "report.html").read_text()
    assert remote_references(page) == []
    assert page.count("window.Plotly = Plotly") == 0 and len(page.encode()) <= 300_000  # shared plotly.js asset
    assert "Traceback" not in page and "Error" not in page.split("<body")[1][:2000]
    index = (rendered / "index.html").read_text()
    assert f"{name}/{latest}/report.html" in index


# ----- what a person sees: every report and the index in headless Chromium at 1400 px and on a 390 px phone -----

import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402

needs_chromium = pytest.mark.skipif(not shutil.which("chromium") and not os.environ.get("CI"),
                                    reason="chromium not installed")
LITERALS = [r"\bNaN\b", r"\bNaT\b", r"\bNone\b", "&lt;", "&gt;", "&#x27;", "&amp;", "&quot;",
            r"\{'[^']*': ", r"\.000000000", r"\d\.\d{7,}"]  # raw pandas / Python / double-escaped HTML


def _visible_faults(text: str) -> list[str]:
    return [m.group(0) for pat in LITERALS for m in re.finditer(".{0,30}" + pat + ".{0,30}", text)]


@needs_chromium
@pytest.mark.parametrize("width", [1400, 390])
def test_every_page_reads_cleanly_at_desktop_and_phone_width(rendered, width):
    from tools.screenshot import probe

    from rtanalytics.reports.registry import REPORTS

    pages = {name: _last_run(rendered, name) / "report.html" for name in sorted(REPORTS)}
    pages["index"] = rendered / "index.html"
    faults = {}
    for name, page in pages.items():
        r = probe(page, width)
        bad = []
        if r["scrollWidth"] > r["innerWidth"] or r["overflowing"]:
            bad.append(f"page wider than the screen ({r['scrollWidth']} > {r['innerWidth']}): {r['overflowing']}")
        bad += [f"literal in visible text: {x!r}" for x in _visible_faults(r["text"])]
        if r["title"] in ("", "Notebook") or (name != "index" and REPORTS[name].title not in r["title"]):
            bad.append(f"title {r['title']!r}")
        if name != "index" and not r["headline_first"]:
            bad.append("the first thing shown is not the headline block")
        if name == "index" and "status board" not in r["title"]:
            bad.append("the index is not the status board")
        if bad:
            faults[name] = bad
    assert not faults, faults


@needs_chromium
def test_the_page_probe_sees_overflow_and_raw_values(tmp_path):
    """The check above can fail: a page that is too wide and prints raw pandas values is caught."""
    from tools.screenshot import probe

    page = tmp_path / "bad.html"
    page.write_text("<html><head><title>Notebook</title></head><body><div style='width:900px'>wide</div>"
                    "<p>exhausted_by NaT, mtta NaN, {'failed requests': 9}</p></body></html>")
    r = probe(page, 390)
    assert r["scrollWidth"] > r["innerWidth"] and r["overflowing"]
    assert r["title"] == "Notebook" and not r["headline_first"]
    assert len(_visible_faults(r["text"])) == 3


def test_index_is_a_status_board_of_declared_headlines(rendered):
    """One row per report: the figures each report declares as its headline (all seven SLO budgets, the p95
    response time and throughput), and the window the report analysed (the daily check's day, not -7d)."""
    index = (rendered / "index.html").read_text()
    board = index.split("<table class='board'>")[1].split("</table>")[0]
    assert board.count("<tr>") == len(REPORTS) + 1
    for label in ("Response time (p95)", "Throughput", "throughput-floor budget left", "availability budget left",
                  "Least headroom", "Detected after"):
        assert label in board, label
    daily = json.loads((_last_run(rendered, "daily-ops") / "summary.json").read_text())
    start, end = daily["window"]["start"], daily["window"]["end"]
    import pandas as pd

    assert pd.Timestamp(end) - pd.Timestamp(start) == pd.Timedelta(days=1)
    assert pd.Timestamp(start).strftime("%Y-%m-%d %H:%M UTC") in board


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_main_tables_are_saved_beside_the_report(rendered, name):
    """tables/NAME.csv and .parquet for each main table, listed in summary.json; both read back to the same
    rows, and the KPI table holds the figures the summary publishes."""
    import pandas as pd

    run = _last_run(rendered, name)
    summary = json.loads((run / "summary.json").read_text())
    listed = summary["tables"]
    assert listed and all((run / f).is_file() for f in listed)
    for f in [x for x in listed if x.endswith(".parquet")]:
        pq = pd.read_parquet(run / f)
        csv = pd.read_csv(run / f.replace(".parquet", ".csv"))
        assert len(pq) == len(csv) and list(pq.columns) == list(csv.columns)
    if name == "kpis":
        status = pd.read_parquet(run / "tables/status.parquet").set_index("kpi")
        for k in ("availability", "error_rate", "throughput"):
            assert status.loc[k, "value"] == pytest.approx(summary["figures"][k], rel=1e-12)
