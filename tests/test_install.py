"""The tool as a package, the catalog as the team's project — tried as a new user would.

The wheel is built from this checkout and installed, with its dependencies, into a new venv outside the
checkout (built once per test session; pip's wheel cache makes the dependencies a local copy). Every command
then runs from an empty temporary folder, with the checkout off ``sys.path`` and no ``RTANALYTICS_*`` variable
set: what a ``pip install rtanalytics`` user gets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rtanalytics import __version__

from .conftest import ROOT

pytestmark = pytest.mark.skipif(os.environ.get("RTANALYTICS_SKIP_INSTALL") == "1",
                                reason="RTANALYTICS_SKIP_INSTALL=1")


def _clean_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RTANALYTICS_", "PYTHON", "VIRTUAL_ENV"))}
    env["HOME"] = str(home)  # the bundled example's cache goes to ~/.cache/rtanalytics: a throwaway one here
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """``(bin, env, site)``: the new venv's bin folder, the environment to run it in, its rtanalytics package."""
    base = tmp_path_factory.mktemp("installed")
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, cwd=base)
    wheel = next(wheels.glob("rtanalytics-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = _clean_env(base / "home")
    subprocess.run(_pip(venv / "bin") + ["-c", str(ROOT / "constraints.txt"), f"{wheel}", "pytest", "nbval"],
                   check=True, capture_output=True, env=env, cwd=base)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import rtanalytics, os; "
                                "print(os.path.dirname(rtanalytics.__file__))"], check=True, capture_output=True,
                               text=True, env=env, cwd=base).stdout.strip())
    return venv / "bin", env, site


def _pip(bin_: Path) -> list[str]:
    """``pip install`` into the venv of ``bin_``: uv's when the test environment has it (the same index and
    constraints as pip, in seconds instead of a minute), else the venv's own pip."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv:
        return [uv, "pip", "install", "-q", "--python", str(bin_ / "python")]
    return [str(bin_ / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]


def _rt(installed, cwd: Path, *args, check_rc=None):
    bin_, env, _ = installed
    p = subprocess.run([str(bin_ / "rtanalytics"), *args], capture_output=True, text=True, env=env, cwd=cwd,
                       timeout=600)
    if check_rc is not None:
        assert p.returncode in check_rc, (p.returncode, p.stdout[-2000:], p.stderr[-3000:])
    return p


def test_installed_package_is_not_the_checkout(installed):
    _, _, site = installed
    assert ROOT not in site.parents and site != ROOT / "rtanalytics"
    assert (site / "notebooks" / "kpis.ipynb").is_file()
    assert (site / "example" / "parameters" / "kpis.yaml").is_file()
    assert (site / "example" / "parameters" / "README.md").is_file()
    assert list((site / "reports" / "templates").rglob("*.j2")) or list((site / "reports" / "templates").rglob("*"))


def test_version_everywhere(installed, tmp_path):
    p = _rt(installed, tmp_path, "--version", check_rc={0})
    assert p.stdout.strip() == f"rtanalytics {__version__}"
    bin_, env, _ = installed
    m = subprocess.run([str(bin_ / "python"), "-m", "rtanalytics", "--version"], capture_output=True, text=True,
                       env=env, cwd=tmp_path)
    assert m.stdout.strip() == f"rtanalytics {__version__}"
    top = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M).group(1)
    assert top == __version__


def test_every_report_runs_from_an_empty_folder_on_the_bundled_example(installed, tmp_path):
    p = _rt(installed, tmp_path, "run", "--all", "--no-progress", check_rc={0, 4})
    first = p.stdout.splitlines()[0]
    assert "bundled example" in first, first
    assert "warning" not in p.stderr.lower() and "not a Report" not in p.stderr, p.stderr[-2000:]
    summaries = sorted((tmp_path / "outputs").glob("*/*/summary.json"))
    reports = {s.parent.parent.name for s in summaries}
    assert reports == {"kpis", "slo", "incident", "capacity", "weekly-performance", "dashboards", "health",
                       "daily-ops", "alarms"}
    for s in summaries:
        d = json.loads(s.read_text())
        assert d["status"] in ("ok", "partial", "no-data"), (s, d.get("error"))
        assert d["catalog"]["bundled"] is True
        assert d["rtanalytics_version"] == __version__
        files = d["provenance"]["catalog"]["files"]
        assert "kpis.yaml" in files and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in files.values())
        page = (s.parent / "report.html").read_text()
        assert "catalog: bundled example" in page
    assert (tmp_path / "outputs" / "index.html").is_file()


def test_init_project_follows_its_own_catalog(installed, tmp_path):
    proj = tmp_path / "team-observability"
    p = _rt(installed, tmp_path, "init", str(proj), check_rc={0})
    for f in ("rtanalytics.yaml", ".gitignore", "README.md", "parameters/kpis.yaml", "parameters/schedule.yaml",
              "parameters/README.md"):
        assert (proj / f).is_file(), f
    assert "outputs/" in (proj / ".gitignore").read_text() and ".cache/" in (proj / ".gitignore").read_text()
    for f in (proj / "parameters").rglob("*.yaml"):
        assert "parameters/README.md" in f.read_text(), f
    # init refuses to overwrite
    assert _rt(installed, tmp_path, "init", str(proj)).returncode == 2
    # a KPI target changed in the team's catalog shows in the report run from a sub-folder of the project
    kpis = proj / "parameters" / "kpis.yaml"
    text = kpis.read_text()
    assert "target: {op: \">=\", value: 99.9}" in text
    kpis.write_text(text.replace("target: {op: \">=\", value: 99.9}", "target: {op: \">=\", value: 97.25}", 1))
    sub = proj / "notes"
    sub.mkdir()
    p = _rt(installed, sub, "run", "kpis", "--no-progress", check_rc={0, 4})
    assert p.stdout.splitlines()[0].startswith("rtanalytics: catalog: project team-observability"), p.stdout
    (run_dir,) = (proj / "outputs" / "kpis").glob("2*")
    status = (run_dir / "tables" / "status.csv").read_text().splitlines()
    avail = next(line for line in status if line.startswith("availability,"))
    assert ">= 97.25" in avail, avail
    s = json.loads((run_dir / "summary.json").read_text())
    assert s["catalog"]["project"] == "team-observability" and s["catalog"]["bundled"] is False
    assert "team-observability" in (proj / "outputs" / "index.html").read_text()
    # --project and RTANALYTICS_PROJECT find it from anywhere
    assert _rt(installed, tmp_path, "--project", str(proj), "check", check_rc={0}).stdout.endswith(
        "0 warning(s) (rtanalytics " + __version__ + ")\n")
    bin_, env, _ = installed
    q = subprocess.run([str(bin_ / "rtanalytics"), "check", "--format", "json"], capture_output=True, text=True,
                       env=env | {"RTANALYTICS_PROJECT": str(proj)}, cwd=tmp_path)
    assert q.returncode == 0 and json.loads(q.stdout)["project"] == "team-observability"


def test_a_broken_field_is_refused_by_check_and_run(installed, tmp_path):
    proj = tmp_path / "broken"
    _rt(installed, tmp_path, "init", str(proj), check_rc={0})
    kpis = proj / "parameters" / "kpis.yaml"
    kpis.write_text(kpis.read_text().replace("target: {op: \">=\", value: 99.9}", "target: {op: \">=\", value: "
                                             "high}", 1))
    alarms = proj / "parameters" / "alarms.yaml"
    alarms.write_text(alarms.read_text().replace("    Period: 300\n", "    Period: 7\n", 1))
    c = _rt(installed, proj, "check", check_rc={2})
    assert "kpis.yaml: kpis.availability.target.value" in c.stdout, c.stdout
    assert "alarms.yaml: alarms.0.Period" in c.stdout, c.stdout  # every error at once, not only the first
    assert "fix:" in c.stdout
    j = json.loads(_rt(installed, proj, "check", "--format", "json", check_rc={2}).stdout)
    assert j["errors"] >= 2 and {p["field"] for p in j["problems"]} >= {"kpis.availability.target.value",
                                                                        "alarms.0.Period"}
    r = _rt(installed, proj, "run", "kpis", "--no-progress", check_rc={2})
    assert "kpis.yaml: kpis.availability.target.value" in r.stderr, r.stderr
    assert not (proj / "outputs" / "kpis").exists()  # no kernel started, nothing written


def test_nbval_over_the_shipped_notebooks(installed, tmp_path):
    bin_, env, site = installed
    p = subprocess.run([str(bin_ / "python"), "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider",
                        str(site / "notebooks")], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=900)
    assert p.returncode == 0, p.stdout[-4000:]
    assert re.search(r"(\d+) passed", p.stdout) and int(re.search(r"(\d+) passed", p.stdout).group(1)) >= 10


def test_explore_notebook_and_a_plugin_report_in_the_project(installed, tmp_path):
    proj = tmp_path / "team"
    _rt(installed, tmp_path, "init", str(proj), check_rc={0})
    nb = _rt(installed, proj, "notebook", "explore", check_rc={0}).stdout.strip()
    assert Path(nb) == proj / "notebooks" / "explore.ipynb" and Path(nb).is_file()
    assert _rt(installed, proj, "notebook", "explore").returncode == 2  # never overwrites the team's copy
    out = _rt(installed, proj, "new-report", "cost-report", check_rc={0}).stdout
    pkg = proj / "reports" / "rtanalytics-cost-report"
    assert str(pkg) in out and (pkg / "pyproject.toml").is_file()
    bin_, env, _ = installed
    subprocess.run(_pip(bin_) + ["--no-deps", str(pkg)], check=True, capture_output=True, env=env, cwd=tmp_path)
    assert "cost-report" in _rt(installed, proj, "list", check_rc={0}).stdout
    _rt(installed, proj, "run", "cost-report", "--no-progress", check_rc={0})
    (s,) = (proj / "outputs" / "cost-report").glob("*/summary.json")
    assert json.loads(s.read_text())["status"] == "ok"


def test_rt_project_and_rt_run_from_a_notebook_cell(installed, tmp_path):
    proj = tmp_path / "analyst"
    _rt(installed, tmp_path, "init", str(proj), check_rc={0})
    bin_, env, _ = installed
    code = ("import rtanalytics as rt, json\n"
            f"ws = rt.project({str(proj)!r})\n"
            "print(ws.project.name, sorted(ws.catalog.kpis)[0], ws.check() == [])\n"
            "res = rt.run('slo', start='-7d', source='demo')\n"
            "print(res.status, res.run_dir.parent.parent == ws.project.outputs, res.summary['catalog']['project'])\n")
    p = subprocess.run([str(bin_ / "python"), "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    first, second = p.stdout.strip().splitlines()[-2:]
    assert first == "analyst availability True"
    status, same, name = second.split()
    assert status in ("ok", "partial") and same == "True" and name == "analyst"
