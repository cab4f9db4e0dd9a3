"""The report runner: validation before any kernel, atomic publish, failure paths, the index."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rtanalytics.errors import ParameterError
from rtanalytics.reports import registry
from rtanalytics.reports.registry import get_report, resolve_params
from rtanalytics.reports.runner import run_report

from .conftest import NOW, ROOT, make_report


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "rtanalytics.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.mark.parametrize("args,name", [
    (["-p", "start", "not-a-time"], "start"),
    (["-p", "nonsense", "1"], "nonsense"),
    (["-p", "period", "90s"], "period"),
    (["-p", "kpis", "[no_such_kpi]"], "kpis"),
    (["-p", "source", "oracle"], "source"),
    (["-p", "start", "now", "-p", "end", "-1d"], "start"),
])
def test_bad_parameters_exit_2_and_write_nothing(outputs, args, name):
    r = cli("run", "kpis", "--outputs", str(outputs), *args)
    assert r.returncode == 2, r.stderr
    assert f"parameter '{name}'" in r.stderr
    assert not outputs.exists()


def test_relative_times_resolve_once_against_now():
    p = resolve_params(get_report("kpis"), {"start": "-7d", "end": "now"}, now=NOW)
    assert p["start"] == "2026-11-13T00:00:00+00:00" and p["end"] == "2026-11-20T00:00:00+00:00"
    with pytest.raises(ParameterError, match="kpis"):
        resolve_params(get_report("kpis"), {"kpis": "availability"}, now=NOW)  # a list is needed


@pytest.fixture
def failing_report(tmp_path, monkeypatch):
    rep = make_report(tmp_path, "broken", "raise RuntimeError('the <b>data</b> was bad')")
    monkeypatch.setitem(registry.REPORTS, "broken", rep)
    return rep


def test_good_run_then_failed_run_keeps_latest_good(outputs, failing_report, monkeypatch):
    params = {"start": "2026-11-11T00:00Z", "end": "2026-11-12T00:00Z"}
    good = run_report("kpis", params, outputs, progress=False)
    assert good.status == "ok", good.summary
    run_dir = outputs / "kpis" / good.run_id
    for f in ("report.ipynb", "report.html", "params.json", "summary.json"):
        assert (run_dir / f).is_file()
    assert not list((outputs / "kpis").glob(".*.partial"))
    latest = json.loads((outputs / "kpis" / "latest.json").read_text())
    assert latest["run_id"] == good.run_id

    # the failing notebook publishes its run (notebook, error), marked failed, and latest stays put
    monkeypatch.setitem(registry.REPORTS, "kpis", registry.REPORTS["broken"])
    bad = run_report("kpis", params, outputs, progress=False)
    assert bad.status == "failed"
    assert "RuntimeError" in bad.summary["error"]
    assert (outputs / "kpis" / bad.run_id / "report.ipynb").is_file()
    assert json.loads((outputs / "kpis" / "latest.json").read_text())["run_id"] == good.run_id
    index = (outputs / "index.html").read_text()
    assert good.run_id in index and bad.run_id in index and "failed" in index
    assert "<b>data</b>" not in index and "&lt;b&gt;data&lt;/b&gt;" in index  # escaped
    html = (outputs / "kpis" / bad.run_id / "report.html").read_text()
    assert "<b>data</b>" not in html


def test_cli_failed_run_exits_1(outputs, failing_report):
    # the CLI runs in another process, so register the failing report through a -f file is not possible;
    # drive the API's contract instead: a failed status is what makes the CLI exit 1
    res = run_report("broken", {}, outputs, progress=False)
    assert res.status == "failed" and not res.ok


def test_timeout_is_a_failure_even_though_papermill_marks_the_cell_completed(outputs, tmp_path, monkeypatch):
    monkeypatch.setitem(registry.REPORTS, "slow", make_report(tmp_path, "slow", "import time\ntime.sleep(30)"))
    res = run_report("slow", {}, outputs, timeout=2, progress=False)
    assert res.status == "failed"
    assert "timed out" in res.summary["error"] or "Timeout" in res.summary["error"]
    assert not (outputs / "slow" / "latest.json").exists()


def test_stale_staging_folders_are_discarded(outputs):
    import os
    import time

    from rtanalytics.reports.runner import discard_partials

    old = outputs / "kpis" / ".20260101T000000Z-dead00.partial"
    new = outputs / "kpis" / ".20260101T000000Z-live00.partial"
    old.mkdir(parents=True)
    new.mkdir(parents=True)
    t = time.time() - 7 * 3600
    os.utime(old, (t, t))
    assert discard_partials(outputs) == [old]
    assert not old.exists() and new.exists()


def test_cli_help_lists_reports_and_flags_are_never_swallowed(outputs):
    h = cli("run", "--help")
    assert h.returncode == 0 and "weekly-performance" in h.stdout and "sweep_alarm" in h.stdout
    r = cli("run", "kpis", "-p", "start", "--outputs", str(outputs))  # no value: --outputs is not the value
    assert r.returncode == 2 and "needs a NAME and a VALUE" in r.stderr and not outputs.exists()
    r = cli("ledger", "--report", "nosuch")
    assert r.returncode == 2 and "unknown report 'nosuch'" in r.stderr
    r = cli("cache", "drop", "--start", "whenever")
    assert r.returncode == 2 and r.stderr.count("'now', 'today'") == 1  # the time help once, not twice


def test_report_pages_have_a_real_title(outputs):
    res = run_report("kpis", {"start": "-2h"}, outputs, now=NOW, progress=False)
    page = (res.run_dir / "report.html").read_text()
    title = page.split("<title>")[1].split("</title>")[0]
    assert title.startswith("KPI status — demo — ") and title.endswith("UTC — ok") and "Notebook" not in title


def test_share_styles_moves_only_the_big_stylesheets_to_one_shared_file(tmp_path):
    from rtanalytics.reports.html import share_styles

    big1, big2 = "a{color:red}" * 600, "b{margin:0}" * 600
    page = (f'<head><style type="text/css">{big1}</style><style type="text/css">.mine{{x:1}}</style>'
            f'<style type="text/css">{big2}</style></head><body><style type="text/css">.t{{y:2}}</style>'
            f'<p>&lt;style type="text/css"&gt;</p></body>')
    run = tmp_path / "kpis" / "RUN"
    out = share_styles(page, tmp_path / "_assets", run)
    (css,) = list((tmp_path / "_assets").iterdir())
    assert css.read_text() == big1 + "\n" + big2  # both big ones, in order; the small ones stay in the page
    assert out.count('<link rel="stylesheet"') == 1 and f'href="../../_assets/{css.name}"' in out
    assert big1 not in out and big2 not in out and ".mine{x:1}" in out and ".t{y:2}" in out
    assert out.endswith('<p>&lt;style type="text/css"&gt;</p></body>')
    again = share_styles(page.replace("red", "blue"), tmp_path / "_assets", run)  # another theme: another file
    assert len(list((tmp_path / "_assets").iterdir())) == 2 and again != out
    assert share_styles("<p>no styles</p>", tmp_path / "_assets", run) == "<p>no styles</p>"
    cut = '<style type="text/css">' + big1  # never closed: left as it is
    assert share_styles(cut, tmp_path / "_assets", run) == cut


def test_work_queued_for_after_the_launch_runs_once_the_kernel_is_launched():
    import asyncio
    import threading
    import time

    from rtanalytics.reports import kernels

    ran = []
    done = threading.Event()

    def warm():
        ran.append(threading.current_thread().name)
        done.set()

    kernels.after_next_launch(warm)
    kernels.after_next_launch(warm)  # queued once
    assert not done.wait(0.2) and ran == []  # nothing before a launch
    km = kernels.ipc_kernel_manager()(kernel_name="python3")
    try:
        asyncio.run(km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"]))
        assert done.wait(30) and ran == ["after-launch-warm"]  # on its own thread, once launched
    finally:
        kernels.shutdown(km, "test")
    kernels.run_after_launch()  # the queue was emptied: nothing runs twice
    time.sleep(0.2)
    assert ran == ["after-launch-warm"]


def test_the_console_script_runs_a_report_end_to_end(tmp_path):
    r = subprocess.run([str(Path(sys.executable).parent / "rtanalytics"), "run", "kpis", "--no-progress",
                        "--outputs", str(tmp_path), "-p", "start", "2026-11-13T00:00Z", "-p", "end",
                        "2026-11-20T00:00Z"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert list(tmp_path.glob("kpis/*/report.html")), r.stdout
    assert '"kernel": "new"' in next(tmp_path.glob("kpis/*/summary.json")).read_text()  # papermill's own start


def test_report_pages_carry_nbconverts_accessibility_attributes_without_its_reparse():
    """Our exporter adds nbconvert's alt text and tabindex on the tags the template wrote, skipping nbconvert's
    BeautifulSoup pass (0.2 s a run): parsed, the page is the document nbconvert writes; scripts untouched."""
    import base64

    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from rtanalytics.reports import html as H

    png = base64.b64encode(bytes.fromhex("89504e470d0a1a0a")).decode()
    nb = new_notebook(cells=[
        new_markdown_cell("# Title\n\n<img src='x.png'> and <img alt='kept' src=y.png> &amp; <div class='a'>d</div>"),
        new_code_cell("x", outputs=[new_output("display_data", data={"image/png": png, "text/plain": "img"})]),
        new_code_cell("y", outputs=[new_output("display_data", data={
            "text/html": "<div class='jp-OutputArea-output'>inner</div><script>var s = \"<img src=z>\";</script>",
            "text/plain": "h"})]),
        new_code_cell("z", outputs=[new_output("stream", name="stdout", text="<img src=q> & <div>")]),
    ])
    res = {"rt_banner": "b", "metadata": {"name": "t"}}
    ours, _ = H._exporter().from_notebook_node(nb, resources=dict(res))
    ref_exp = HTMLExporter(template_name="rtreport", extra_template_basedirs=[str(H.TEMPLATES)])
    ref_exp.exclude_input = ref_exp.exclude_input_prompt = ref_exp.exclude_output_prompt = True
    ref, _ = ref_exp.from_notebook_node(nb, resources=dict(res))
    assert str(BeautifulSoup(ours, features="html.parser")) == ref
    assert 'var s = "<img src=z>";' in ours  # inside a script: not a tag
    assert ours.count('alt="No description has been provided for this image"') == 2  # markdown's and the PNG's
    assert "alt='kept'" in ours and "&lt;img src=q&gt;" in ours  # text stays text
    assert ours.count('tabindex="0"') == ref.count('tabindex="0"') >= 4


def test_compiled_templates_are_kept_between_processes_and_render_the_same(tmp_path):
    code = ("import sys; from nbformat.v4 import new_markdown_cell, new_notebook; "
            "from rtanalytics.reports.html import render_html; "
            "c = new_markdown_cell('# hi <b>&</b>'); c.id = 'fixed'; "
            "sys.stdout.write(render_html(new_notebook(cells=[c]), 'banner', 't'))")
    env = dict(__import__("os").environ, RTANALYTICS_CACHE=str(tmp_path / "c"))
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    kept = sorted((tmp_path / "c" / "templates").glob("*.cache"))
    assert len(kept) >= 3  # nbconvert's lab templates and ours
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert first == second and "<h1" in first
    for f in kept:  # a damaged cache file is compiled again, not an error
        f.write_bytes(b"garbage")
    third = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert third == first
