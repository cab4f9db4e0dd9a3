"""Finding the project, and `rtanalytics check` on every catalog file (in process; tests/test_install.py tries the
same from an installed wheel)."""

from __future__ import annotations

import json

import pytest

from rtanalytics import settings as P
from rtanalytics.check import check
from rtanalytics.cli import main
from rtanalytics.scaffold import init_project


@pytest.fixture
def no_project_env(monkeypatch, tmp_path):
    for k in ("RTANALYTICS_PROJECT", "RTANALYTICS_PARAMETERS", "RTANALYTICS_OUTPUTS", "RTANALYTICS_CACHE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_precedence_explicit_env_parents_bundled(no_project_env, monkeypatch):
    tmp = no_project_env
    assert P.current().bundled and P.current().outputs == tmp / "outputs"
    assert P.current().cache == tmp / "xdg" / "rtanalytics"
    a = init_project(tmp / "a")
    b = init_project(tmp / "b", name="bee")
    deep = a / "x" / "y"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    cur = P.current()
    assert (cur.root, cur.name, cur.found_by) == (a, "a", "current folder")
    assert (cur.parameters, cur.outputs, cur.cache) == (a / "parameters", a / "outputs", a / ".cache")
    monkeypatch.setenv("RTANALYTICS_PROJECT", str(b))
    assert P.current().name == "bee"  # the environment wins over the folder
    assert P.current(a).name == "a"  # --project wins over both
    monkeypatch.setenv("RTANALYTICS_OUTPUTS", str(tmp / "elsewhere"))
    assert P.current().outputs == tmp / "elsewhere"  # one path overridden, the rest the project's


def test_project_file_errors_name_the_field(no_project_env):
    root = no_project_env / "p"
    root.mkdir()
    (root / "rtanalytics.yaml").write_text("name: p\noutptus: out\n")
    with pytest.raises(P.CatalogError) as e:
        P.load_project(root)
    assert e.value.field == "outptus" and "rtanalytics.yaml" in e.value.path
    with pytest.raises(P.CatalogError, match="project folder not found"):
        P.load_project(no_project_env / "missing")


def test_provenance_hash_follows_content(no_project_env):
    root = init_project(no_project_env / "p")
    one = P.load_project(root).provenance()
    assert set(one["files"]) >= {"kpis.yaml", "alarms.yaml", "slos/seed-kpis.yaml",
                                 "dashboards/RealTechee-Production-Monitoring.json"}
    (root / "parameters" / "kpis.yaml").write_text((root / "parameters" / "kpis.yaml").read_text() + "\n# edit\n")
    two = P.load_project(root).provenance()
    assert two["files"]["kpis.yaml"] != one["files"]["kpis.yaml"] and two["sha256"] != one["sha256"]
    assert two["files"]["alarms.yaml"] == one["files"]["alarms.yaml"]


def test_check_lists_every_error_of_every_file(no_project_env, monkeypatch, capsys):
    root = init_project(no_project_env / "p")
    par = root / "parameters"
    (par / "health.yaml").write_text((par / "health.yaml").read_text().replace("timeout_s: 5", "timeout_s: soon"))
    (par / "schedule.yaml").write_text((par / "schedule.yaml").read_text().replace('cron: "0 6 * * *"',
                                                                                   'cron: "at six"', 1))
    (par / "routing.yaml").write_text((par / "routing.yaml").read_text() + "pagers: true\n")
    (par / "dashboards" / "broken.json").write_text("{\"widgets\": [{\"x\": 0}]}")
    (par / "slos" / "extra.yaml").write_text("apiVersion: openslo/v2\nkind: SLO\nmetadata: {name: x}\n")
    (par / "kpi.yaml").write_text("kpis: {}\n")  # a misspelt file name: nothing reads it
    monkeypatch.setenv("RTANALYTICS_PROJECT", str(root))
    problems = check(P.current())
    where = {(p.file.rsplit("/", 1)[-1], p.field, p.severity) for p in problems}
    assert ("health.yaml", "timeout_s", "error") in where
    assert any(f == "schedule.yaml" and "cron" in (fld or "") for f, fld, _ in where)
    assert ("routing.yaml", "pagers", "error") in where
    assert ("broken.json", "widgets[0]", "error") in where
    assert any(f == "extra.yaml" and "apiVersion" in (fld or "") for f, fld, _ in where)
    assert ("kpi.yaml", None, "warning") in where
    assert all(p.fix for p in problems)
    assert main(["check", "--format", "json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == sum(p.severity == "error" for p in problems) >= 5 and out["warnings"] == 1


def test_run_refuses_a_broken_catalog_before_any_kernel(no_project_env, capsys):
    root = init_project(no_project_env / "p")
    env = root / "parameters" / "environments.yaml"
    env.write_text(env.read_text().replace("source: demo", "source: demoo", 1))
    assert main(["--project", str(root), "run", "kpis", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "environments.yaml: environments.demo.source" in err
    assert not (root / "outputs").exists()


def test_init_refuses_an_existing_catalog(no_project_env):
    (no_project_env / "q" / "parameters").mkdir(parents=True)
    assert main(["init", str(no_project_env / "q")]) == 2
    assert not (no_project_env / "q" / "rtanalytics.yaml").exists()
