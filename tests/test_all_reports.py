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
    # 4: every report rendered, some partial — the dashboards report, whose business widget queries the seed's
    # metrics without their dimensions (it matches nothing, as it would on the console)
    assert r.returncode in (0, 4), r.stdout + r.stderr
    return out


def _last_run(rendered, name):
    runs = sorted(p for p in (rendered / name).iterdir() if p.is_dir() and not p.name.startswith("."))
    return runs[-1]


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_renders_offline(rendered, name):
    run = _last_run(rendered, name)
    latest = run.name
    summary = json.loads((run / "summary.json").read_text())
    expected = "partial" if name == "dashboards" else "ok"
    assert summary["status"] == expected and summary["figures"], (summary.get("error"), summary.get("notes"))
    if expected == "ok":
        assert json.loads((rendered / name / "latest.json").read_text())["run_id"] == latest
    else:  # never the latest good run, and the page says what is missing
        assert not (rendered / name / "latest.json").exists()
        assert any("RequestsSubmitted" in n for n in summary["notes"])
    page = (run / "report.html").read_text()
    assert remote_references(page) == []
    assert page.count("window.Plotly = Plotly") <= 1
    assert "Traceback" not in page and "Error" not in page.split("<body")[1][:2000]
    index = (rendered / "index.html").read_text()
    assert f"{name}/{latest}/report.html" in index
