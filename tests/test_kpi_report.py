"""End to end: render the KPI report, check its figures against values computed independently from the source,
and check the HTML is self-contained (and renders in headless Chromium when it is installed)."""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from rtanalytics.reports.html import remote_references
from rtanalytics.sources.demo import DemoSource

from .conftest import ROOT

START, END = "2026-11-11T00:00:00Z", "2026-11-12T00:00:00Z"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    r = subprocess.run([str(ROOT / ".venv/bin/rtanalytics"), "run", "kpis", "--outputs", str(out), "--no-progress",
                        "-p", "start", START, "-p", "end", END], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    (run_dir,) = [p for p in (out / "kpis").iterdir() if p.is_dir()]
    return out, run_dir, json.loads((run_dir / "summary.json").read_text())


def test_figures_match_independent_computation(rendered):
    _, _, summary = rendered
    figs = summary["figures"]
    src = DemoSource()
    m0 = int(np.datetime64(START[:-1], "m").astype(np.int64))
    m1 = m0 + 1440
    req = src.raw_range("alb.requests", m0, m1)["k"].sum()
    ok2 = src.raw_range("alb.2xx", m0, m1)["k"].sum()
    e5 = src.raw_range("alb.5xx", m0, m1)["k"].sum()
    assert figs["availability"] == pytest.approx(100 * ok2 / req, rel=1e-12)
    assert figs["error_rate"] == pytest.approx(100 * e5 / req, rel=1e-12)
    assert figs["throughput"] == pytest.approx(req / 24, rel=1e-12)
    assert 0 < figs["lambda_performance"] < 30
    assert figs["error_rate.status"] in ("ok", "warning", "alert")
    # the window holds the deploy-5xx incident: the error rate is well above the demo's 0.03% baseline
    assert figs["error_rate"] > 0.1
    assert summary["status"] == "ok" and summary["params"]["start"].startswith("2026-11-11T00:00")


def test_html_is_offline_and_hides_code(rendered):
    _, run_dir, _ = rendered
    page = (run_dir / "report.html").read_text()
    assert remote_references(page) == []
    assert "kpi.run(" not in page  # code cells are hidden
    assert "Availability" in page
    # small: plotly.js and JupyterLab's theme are one shared, versioned copy under outputs/_assets/, not 5 MB a page
    from rtanalytics.plotlyjs import plotlyjs_asset_name

    out = run_dir.parents[1]
    assert len(page.encode()) <= 300_000, len(page.encode())
    assert page.count(f'src="../../_assets/{plotlyjs_asset_name()}"') == 1 and "window.Plotly = Plotly" not in page
    assert (out / "_assets" / plotlyjs_asset_name()).stat().st_size > 1_000_000
    css = [line for line in page.splitlines() if 'rel="stylesheet" href="../../_assets/report-' in line]
    assert len(css) == 1 and (run_dir / css[0].split('href="')[1].split('"')[0]).resolve().is_file()


def test_standalone_inlines_plotly_for_a_report_sent_by_itself(tmp_path):
    r = subprocess.run([str(ROOT / ".venv/bin/rtanalytics"), "run", "kpis", "--outputs", str(tmp_path), "--no-progress",
                        "--standalone", "-p", "start", START, "-p", "end", END], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    (run_dir,) = [p for p in (tmp_path / "kpis").iterdir() if p.is_dir()]
    page = (run_dir / "report.html").read_text()
    assert page.count("window.Plotly = Plotly") == 1 and "_assets/" not in page
    assert remote_references(page) == []


@pytest.mark.skipif(not shutil.which("chromium") and not os.environ.get("CI"), reason="chromium not installed")
def test_charts_render_in_headless_chromium(rendered, tmp_path):
    _, run_dir, _ = rendered
    from tools.screenshot import dom_dump

    dom = dom_dump(run_dir / "report.html")
    assert dom.count('class="main-svg"') >= 2  # plotly drew its SVG layers: the charts rendered


def test_the_throughput_alert_is_judged_off_hours_only():
    """The seed: '< 100 requests/hour (off-hours)'. A quiet business-hours hour does not alert; a quiet
    night hour does (business hours from parameters/routing.yaml: 08:00-18:00 America/Los_Angeles, Mon-Fri)."""
    import numpy as np
    import pandas as pd

    from rtanalytics.catalog import catalog
    from rtanalytics.kpis import _off_hours_status

    kpi = catalog().kpis["throughput"]
    assert kpi.alert_when == "off_hours"
    idx = pd.date_range("2026-11-16T00:00Z", periods=48 * 12, freq="5min")  # Mon-Tue UTC
    rate = pd.Series(1500.0, index=idx)
    noon_la = (idx >= "2026-11-16T20:00Z") & (idx < "2026-11-16T21:00Z")  # 12:00 in Los Angeles, Monday
    rate[noon_la] = 50.0
    status, d = _off_hours_status(kpi, rate, float(rate.mean()), 300)
    assert status == "ok" and d["off_hours_below_alert"] == 0
    night_la = (idx >= "2026-11-17T10:00Z") & (idx < "2026-11-17T11:00Z")  # 02:00 in Los Angeles
    rate[night_la] = 50.0
    status, d = _off_hours_status(kpi, rate, float(rate.mean()), 300)
    assert status == "alert" and d["off_hours_below_alert"] == 1 and d["off_hours_min"] == 50.0
    assert np.isfinite(d["off_hours_hours"])


def test_a_threshold_far_from_the_data_is_named_not_drawn():
    """Lambda durations of 0.33 s on a 0-30 s axis (the alert line at 30 s) were a flat line: a threshold more than
    three data-spans away is left off the axis and named 'off this scale'; one near the data is drawn."""
    import numpy as np

    from rtanalytics.figures.kpis import threshold_range

    lo, hi, shown, off = threshold_range(np.array([0.30, 0.33, 0.41]), [5.0, 30.0])
    assert shown == [False, False] and off and hi < 1.0
    lo, hi, shown, off = threshold_range(np.array([99.7, 99.95]), [99.9, 99.5])
    assert shown == [True, True] and not off and lo < 99.5 < 99.95 < hi


def test_compare_with_the_previous_window_matches_independent_figures():
    """-p compare previous: the KPI headline over the preceding 24 hours, computed independently from the demo's
    raw counts, beside this window's, with the change and whether it is better or worse."""
    from rtanalytics.reports import kpi

    end = "2026-11-12T00:00:00Z"
    rep = kpi.run(start="2026-11-11T00:00:00Z", end=end, now=end)
    table = rep.compare("previous").data.set_index("figure")
    src = DemoSource()
    m1 = int(np.datetime64("2026-11-11T00:00", "m").astype(np.int64))
    m0 = m1 - 1440
    req = src.raw_range("alb.requests", m0, m1)["k"].sum()
    ok2 = src.raw_range("alb.2xx", m0, m1)["k"].sum()
    assert rep.comparison_window.start.isoformat().startswith("2026-11-10T00:00")
    assert table.loc["Availability", "compared window"] == f"{100 * ok2 / req:.2f} %"
    here = rep.table.set_index("kpi").loc["availability", "value"]
    there = rep.compared.table.set_index("kpi").loc["availability", "value"]
    assert table.loc["Availability", "verdict"] == ("better" if here > there else "worse")
    # the window with the deploy-5xx incident has the higher error rate: worse than the day before
    assert table.loc["Error rate (5XX)", "verdict"] == "worse"


@pytest.mark.parametrize("spec,ok", [("previous", True), ("last-week", True),
                                     ("2026-11-01T00:00Z/2026-11-02T00:00Z", True), ("yesterday", False),
                                     ("2026-11-02/2026-11-01", False)])
def test_compare_parameter_is_validated_before_any_kernel(spec, ok):
    from rtanalytics.errors import ParameterError
    from rtanalytics.reports.registry import REPORTS, resolve_params

    if ok:
        assert resolve_params(REPORTS["kpis"], {"compare": spec})["compare"] == spec
    else:
        with pytest.raises(ParameterError, match="compare"):
            resolve_params(REPORTS["kpis"], {"compare": spec})


def test_stacked_layout_is_make_subplots_layout_and_each_call_gets_its_own():
    from plotly.subplots import make_subplots

    from rtanalytics.figures.kpis import stacked_layout

    for rows in range(0, 9):
        titles = [f"t{i} <b>&</b>" for i in range(rows)]
        ref = make_subplots(rows=max(rows, 1), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                            subplot_titles=titles or None).layout.to_plotly_json()
        ref.pop("template", None)
        ours = stacked_layout(rows)
        assert len(ours.get("annotations", [])) == rows
        for note, t in zip(ours.get("annotations", []), titles):
            note["text"] = t
        assert ours == ref, rows
    a = stacked_layout(3)
    a["annotations"][0]["text"] = "changed"
    a["yaxis"]["range"] = [0, 1]
    b = stacked_layout(3)
    assert b["annotations"][0]["text"] == "0" and "range" not in b["yaxis"]  # the cache is never handed out
