"""Your own reports and sources: found through entry points (as papermill finds its engines), the built-in ones
registered the same way; `rtanalytics new-report` scaffolds one that passes the suite's checks."""

import ast
import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT

CLI = str(ROOT / ".venv/bin/rtanalytics")


def _install(site, name: str, entry_points: str):
    """What pip would leave for importlib.metadata to find: a dist-info with entry_points.txt on the path."""
    d = site / f"{name.replace('-', '_')}-0.1.0.dist-info"
    d.mkdir(parents=True)
    (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (d / "entry_points.txt").write_text(entry_points)


def _env(*paths):
    return dict(os.environ, PYTHONPATH=os.pathsep.join(str(p) for p in paths))


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    from rtanalytics.scaffold import entry_points_txt

    tmp = tmp_path_factory.mktemp("plugin")
    r = subprocess.run([CLI, "new-report", "cost-report", "--dir", str(tmp), "--title", "Cost report"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    pkg = tmp / "rtanalytics-cost-report"
    _install(tmp / "site", "rtanalytics-cost-report", entry_points_txt("cost-report"))
    return tmp, pkg, _env(tmp / "site", pkg)


def test_builtin_reports_and_sources_register_through_entry_points():
    from importlib.metadata import entry_points

    from rtanalytics.reports.registry import REPORTS, builtin_reports

    (ep,) = [e for e in entry_points(group="rtanalytics.reports") if e.name == "builtin"]
    assert [r.name for r in ep.load()()] == [r.name for r in builtin_reports()] == list(REPORTS)
    assert {e.name for e in entry_points(group="rtanalytics.sources")} >= {"demo", "cloudwatch", "files"}


def test_scaffolded_report_passes_the_suites_checks(scaffolded):
    """Listed, its parameters cell equals its schema, it renders ok offline with the headline first, saves its
    table, and the index lists it — run by the CLI of this venv, found only through its entry point."""
    tmp, pkg, env = scaffolded
    listing = subprocess.run([CLI, "list"], capture_output=True, text=True, env=env, timeout=120)
    assert "cost-report" in listing.stdout and listing.returncode == 0
    check = subprocess.run([sys.executable, "-c", (
        "import ast, papermill as pm\n"
        "from rtanalytics.reports.registry import REPORTS\n"
        "r = REPORTS['cost-report']\n"
        "d = pm.inspect_notebook(str(r.notebook))\n"
        "f = r.fields()\n"
        "assert set(d) == set(f) | {'evidence_dir', 'output_dir'}, set(d) ^ set(f)\n"
        "assert all(ast.literal_eval(d[k]['default']) == f[k].default and d[k]['help'] for k in f)\n"
        "print('schema ok')")], capture_output=True, text=True, env=env, timeout=120)
    assert "schema ok" in check.stdout, check.stderr
    out = tmp / "outputs"
    r = subprocess.run([CLI, "run", "cost-report", "--outputs", str(out), "--no-progress", "-p", "start", "-6h"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    (run,) = [p for p in (out / "cost-report").iterdir() if p.is_dir() and not p.name.startswith(".")]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["figures"]["total"] > 0
    assert summary["headline"][0]["key"] == "total" and "tables/series.parquet" in summary["tables"]
    page = (run / "report.html").read_text()
    from rtanalytics.reports.html import remote_references

    assert remote_references(page) == [] and "rt-headline" in page
    assert "<title>Cost report — demo — " in page  # its own title, environment and window
    assert f"cost-report/{run.name}/report.html" in (out / "index.html").read_text()


def test_a_broken_plugin_is_reported_and_skipped(tmp_path):
    _install(tmp_path, "rtanalytics-broken", "[rtanalytics.reports]\nbroken = no_such_module_xyz:REPORT\n")
    r = subprocess.run([CLI, "list"], capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert r.returncode == 0 and "kpis" in r.stdout
    assert "report plugin 'broken'" in r.stderr and "no_such_module_xyz" in r.stderr


def test_a_source_plugin_is_found_and_used(tmp_path):
    (tmp_path / "my_source.py").write_text(
        "from rtanalytics.sources.demo import DemoSource\n"
        "def make(environment='demo', **kw):\n"
        "    src = DemoSource(environment=environment, **kw)\n"
        "    src.name = 'mine'\n"
        "    return src\n")
    _install(tmp_path, "rtanalytics-mine", "[rtanalytics.sources]\nmine = my_source:make\ndemo = my_source:make\n")
    code = ("from rtanalytics.sources.base import source_names, get_source\n"
            "print(source_names()); s = get_source('mine'); print(s.name, type(get_source('demo')).__name__)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    names = ast.literal_eval(r.stdout.splitlines()[0])
    assert "mine" in names and "demo" in names
    assert r.stdout.splitlines()[1] == "mine DemoSource"  # a plugin never replaces a built-in name


@pytest.mark.parametrize("name,needle", [("Bad Name", "is not a report name"), ("kpis", "already a report")])
def test_new_report_refuses_bad_names(name, needle, tmp_path):
    r = subprocess.run([CLI, "new-report", name, "--dir", str(tmp_path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and needle in r.stderr and not any(tmp_path.iterdir())
