"""Warm kernels (reports/warm.py): started ahead, claimed by one run, shut down after it; the same report as a
cold kernel gives; a kernel that cannot be what the run would start is not used."""

import json
import os
import time

import pytest

from rtanalytics.reports import warm as W
from rtanalytics.reports.registry import get_report
from rtanalytics.reports.runner import run_report

WINDOW = {"start": "2026-11-13T00:00Z", "end": "2026-11-20T00:00Z"}
NOW = "2026-11-21T00:00Z"


def _dead(pid, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # reaped by us if it is our zombie
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    return False


def test_notebook_imports_are_the_notebooks_own_import_lines():
    nb = get_report("kpis").notebook
    imports = W.notebook_imports(nb)
    assert imports[:2] == ["import rtanalytics as rt", "from rtanalytics.reports import kpi"]
    assert all(line.startswith(("import ", "from ")) for line in imports)
    params = [c for c in json.loads(nb.read_text())["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert params and not any("source" in line for line in imports)  # nothing from the parameters cell
    every = W.notebook_imports(*(get_report(n).notebook for n in ("kpis", "slo", "health")))
    assert len(every) == len(set(every)) and "from rtanalytics.reports import slo" in every


def test_a_warm_run_is_the_cold_run_and_its_kernel_is_shut_down(tmp_path, monkeypatch):
    monkeypatch.delenv("RTANALYTICS_PLOTLYJS_SRC", raising=False)  # set by the run after the kernel started
    rep = get_report("kpis")
    k = W.WarmKernel(rep.notebook.parent, W.notebook_imports(rep.notebook))
    assert k.ready(120), k.error
    assert k.pid and not _dead(k.pid, 0.2)
    # code only: the warm-up imported modules and loaded no catalog (parameters may change while it waits)
    reply = k._execute("import sys\nassert 'rtanalytics.sources.demo' in sys.modules\n"
                       "assert not sys.modules['rtanalytics.catalog']._CACHE", timeout=30)
    assert reply["status"] == "ok", reply
    warm = run_report("kpis", WINDOW, tmp_path / "w", now=NOW, progress=False, kernel=k)
    cold = run_report("kpis", WINDOW, tmp_path / "c", now=NOW, progress=False)
    assert warm.status == cold.status == "ok"
    assert warm.summary["figures"] == cold.summary["figures"]
    assert warm.summary["provenance"]["data_sha256"] == cold.summary["provenance"]["data_sha256"]
    assert _dead(k.pid), "the warm kernel outlived its run"
    page = (warm.run_dir / "report.html").read_text()
    assert "_assets/plotly-" in page  # the shared asset's path reached the kernel at hand-off
    nb = json.loads((warm.run_dir / "report.ipynb").read_text())
    counts = [c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts[0] == 1  # the warm-up ran silently: the notebook's cells count from 1 as on a cold kernel


def test_claim_brings_the_environment_and_refuses_changed_import_time_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("RTANALYTICS_TEST_GONE", "x")
    monkeypatch.delenv("RTANALYTICS_TEST_NEW", raising=False)
    nbdir = get_report("kpis").notebook.parent
    k = W.WarmKernel(nbdir, ["import os"], preload=False)
    try:
        monkeypatch.delenv("RTANALYTICS_TEST_GONE")
        monkeypatch.setenv("RTANALYTICS_TEST_NEW", "2")
        assert k.claim(nbdir), k.error
        reply = k._execute("import os\nassert 'RTANALYTICS_TEST_GONE' not in os.environ\n"
                           "assert os.environ['RTANALYTICS_TEST_NEW'] == '2'", timeout=30)
        assert reply["status"] == "ok", reply
    finally:
        k.retire()
    k2 = W.WarmKernel(nbdir, ["import os"], preload=False)
    try:
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
        assert not k2.claim(nbdir)
        assert "OPENBLAS_NUM_THREADS" in k2.error
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
        assert not k2.claim(tmp_path) and "the notebook runs in" in k2.error  # another folder
    finally:
        k2.retire()
    assert _dead(k2.pid)


def test_a_kernel_that_cannot_be_used_leaves_the_run_to_start_its_own(tmp_path, capfd):
    rep = get_report("kpis")
    k = W.WarmKernel(rep.notebook.parent, ["import rtanalytics_no_such_module_xyz"], preload=False)
    assert not k.ready(120) and "rtanalytics_no_such_module_xyz" in k.error
    res = run_report("kpis", WINDOW, tmp_path, now=NOW, progress=False, kernel=k)
    assert res.status == "ok"
    assert "warm kernel not used" in capfd.readouterr().err
    assert k.pid is None or _dead(k.pid)


def test_pool_keeps_one_ready_and_closes_them_all(tmp_path):
    from rtanalytics.reports.schedule import warm_runner

    runner = warm_runner(["kpis", "kpis"])
    pool = runner.pool
    assert pool is not None and pool.imports[:2] == ["import rtanalytics as rt", "from rtanalytics.reports import kpi"]
    first = pool._ready[0]
    res = runner("kpis", dict(WINDOW), tmp_path, now=NOW, progress=False)
    assert res.status == "ok" and first.pid and _dead(first.pid)
    assert len(pool._ready) == 1 and pool._ready[0] is not first  # a replacement was started at once
    second = pool._ready[0]
    with pytest.raises(Exception):  # bad parameters: no run, and the kernel it took is not left running
        runner("kpis", {"start": "not a time"}, tmp_path, now=NOW, progress=False)
    assert second.pid is None or _dead(second.pid)
    third = pool._ready[0]
    assert third.ready(120)
    pool.close()
    assert _dead(third.pid)
    assert pool.take() is None


def test_a_warm_kernel_that_died_while_waiting_is_not_used(tmp_path, capfd):
    import signal

    rep = get_report("kpis")
    k = W.WarmKernel(rep.notebook.parent, W.notebook_imports(rep.notebook), preload=False)
    assert k.ready(120), k.error
    os.kill(k.pid, signal.SIGKILL)
    assert _dead(k.pid)
    t0 = time.monotonic()
    res = run_report("kpis", WINDOW, tmp_path, now=NOW, progress=False, kernel=k)
    assert res.status == "ok" and res.summary["kernel"] == "new"
    assert "no longer running" in capfd.readouterr().err
    assert time.monotonic() - t0 < 60  # noticed at once, not after a timeout


def test_retired_while_starting_it_is_stopped_once_up():
    rep = get_report("kpis")
    k = W.WarmKernel(rep.notebook.parent, W.notebook_imports(rep.notebook))
    k.retire()  # at once: the kernel is still starting; retire does not wait for it
    k._thread.join(120)
    assert not k._thread.is_alive()
    assert k.pid is None or _dead(k.pid)
    assert not k.ready(0) and not k.claim(rep.notebook.parent, timeout=0) and k.error == "retired"


def test_reports_in_another_folder_get_their_own_pool(tmp_path, monkeypatch):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from rtanalytics.reports import registry
    from rtanalytics.reports.registry import CommonParams, Report
    from rtanalytics.reports.schedule import warm_runner

    team = tmp_path / "team-notebooks"
    team.mkdir()
    nb = new_notebook(cells=[
        new_code_cell('source = "demo"\nenvironment = "demo"\nstart = "-7d"\nend = "now"\nfiles_path = ""\n'
                      'evidence = False\nevidence_dir = ""\noutput_dir = ""', metadata={"tags": ["parameters"]}),
        new_code_cell("import os\nimport rtanalytics as rt\nrt.report_summary({'cwd_is_team': "
                      "os.path.basename(os.getcwd()) == 'team-notebooks'})")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(team / "team.ipynb"))
    monkeypatch.setitem(registry.REPORTS, "team", Report("team", "Team", team / "team.ipynb", CommonParams, "t"))
    runner = warm_runner(["kpis", "team", "team"], budget=3)
    try:
        assert set(runner.pools) == {get_report("kpis").notebook.parent.resolve(), team.resolve()}
        assert runner.pools[team.resolve()].imports == ["import os", "import rtanalytics as rt"]
        res = runner("team", {}, tmp_path / "out", now=NOW, progress=False)
        assert res.status == "ok" and res.summary["kernel"] == "warm"
        assert res.summary["figures"]["cwd_is_team"] is True  # started in its own notebook's folder
        assert runner.pools[team.resolve()].budget == 0  # two runs: two kernels, no third
    finally:
        runner.close()
