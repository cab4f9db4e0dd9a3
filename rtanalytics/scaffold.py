"""``rtanalytics new-report NAME``: a team's own report as an installable package, found through the
``rtanalytics.reports`` entry point — a module declaring its parameters and result, and a notebook that
narrates it. What it writes passes the suite's checks as generated (the parameters cell matches the schema, it
renders offline with a headline block first, its tables are saved, the index lists it)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ._version import __version__
from .errors import ParameterError
from .reports.registry import NOTEBOOKS, REPORTS
from .settings import PROJECT_FILE, bundled_example

MODULE = '''"""The {name} report (scaffolded by ``rtanalytics new-report``): edit ``run()``, ``Result`` and the notebook.

Installed (``pip install -e .``), it is found through the ``rtanalytics.reports`` entry point in pyproject.toml:
``rtanalytics run {name}``, ``rtanalytics list``, the index and the scheduler see it like a built-in report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import Field

from rtanalytics.catalog import catalog
from rtanalytics.present import Headline
from rtanalytics.queries import MetricQuery
from rtanalytics.reports.registry import CommonParams, Report
from rtanalytics.reports.result import ReportResult, comparable
from rtanalytics.sources.evidence import open_source
from rtanalytics.timewindow import TimeWindow


class Params(CommonParams):
    """The parameters the runner validates before any kernel starts (exit 2 naming a bad one)."""

    start: str = Field("-24h", description="window start: relative (-24h, -7d) or ISO 8601 UTC")
    metric: str = Field("RequestCount", description="an AWS/ApplicationELB metric to total per 5 minutes")


@dataclass
class Result(ReportResult):
    window: TimeWindow
    data: pd.DataFrame
    src: object = None
    notes: list = field(default_factory=list)

    def has_data(self) -> bool:
        return bool(len(self.data.columns)) and bool(self.data.notna().any().any())

    def gaps(self) -> list[str]:
        return [f"{{c}}: no data in the window" for c in self.data.columns if self.data[c].notna().sum() == 0]

    def summary(self) -> dict:
        return {{"total": float(self.data.sum().sum()), "periods_with_data": int(self.data.notna().any(axis=1).sum())}}

    def headline_figures(self) -> list:
        s = self.summary()
        return [Headline("total", "Total", s["total"], "count", None, "up"),
                Headline("periods_with_data", "5-minute periods with data", s["periods_with_data"], "count")]

    def tables(self) -> dict:
        return {{"series": self.data}}


@comparable
def run(source: str = "", environment: str = "demo", start: str = "-24h", end: str = "now",
        metric: str = "RequestCount", files_path: str = "", evidence_dir: str = "", now=None) -> Result:
    src = open_source(source or None, environment, now=now, files_path=files_path)
    window = TimeWindow.parse(start, end, now=now)
    alb = catalog().environment(environment).resources.alb
    df = src.metrics([MetricQuery("AWS/ApplicationELB", metric, {{"LoadBalancer": alb}}, "Sum", 300, label=metric)],
                     window)
    if evidence_dir:
        src.save_bundle(evidence_dir)
    return Result(window, df, src)


REPORT = Report("{name}", "{title}", Path(__file__).with_name("{name}.ipynb"), Params, "{description}")
'''

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "rtanalytics-{name}"
version = "0.1.0"
description = "{description}"
requires-python = ">=3.11"
dependencies = ["rtanalytics"]

[project.entry-points."rtanalytics.reports"]
{name} = "{module}:REPORT"

[tool.setuptools.packages.find]
include = ["{module}*"]

[tool.setuptools.package-data]
{module} = ["*.ipynb"]
'''


def _notebook(name: str, module: str, title: str, description: str):
    import nbformat  # lazy: nbformat only when a notebook is written
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    params = "\n".join([
        'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)',
        'environment: str = "demo"  # an environment from parameters/environments.yaml',
        'start: str = "-24h"  # window start: relative (-24h, -7d) or ISO 8601 UTC',
        'end: str = "now"  # window end',
        'files_path: str = ""  # folder of exported data or an evidence bundle (source files)',
        'evidence: bool = False  # save the exact data used as an evidence bundle',
        'compare: str = ""  # another window beside this one: previous, last-week or START/END',
        'metric: str = "RequestCount"  # an AWS/ApplicationELB metric to total per 5 minutes',
        'evidence_dir: str = ""  # set by the runner when evidence is true',
        'output_dir: str = ""  # set by the runner: this run\'s folder'])
    cells = [new_markdown_cell(f"# {title}\n\n{description}"),
             new_code_cell(params, metadata={"tags": ["parameters"]}),
             new_code_cell(f"import rtanalytics as rt\nimport {module}\n\nrt.setup_notebook()\n"
                           f"report = {module}.run(source=source, environment=environment, start=start, end=end, "
                           "metric=metric, files_path=files_path, evidence_dir=evidence_dir)"),
             new_code_cell("report.headline_block()"),
             new_code_cell("report.compare(compare)  # nothing unless compare is set"),
             new_markdown_cell("## Per 5 minutes"),
             new_code_cell("report.tables()['series']"),
             new_markdown_cell("## Missing data\n\nWhat could not be fetched or computed, and why."),
             new_code_cell("report.data_notes()"),
             new_code_cell("report.publish(output_dir)  # figures, status, tables")]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def new_report(name: str, folder: Path | str, title: str = "", description: str = "") -> Path:
    """Write the package ``rtanalytics-NAME`` into ``folder``; returns its root. Refuses a name that is not a
    lowercase identifier (letters, digits, dashes) or a folder that exists (nothing is overwritten)."""
    import nbformat  # lazy: nbformat only when a notebook is written

    if not re.fullmatch(r"[a-z][a-z0-9-]{1,40}", name or ""):
        raise ParameterError("name", f"{name!r} is not a report name", "lowercase letters, digits and dashes, "
                             "starting with a letter (e.g. cost-report)")
    if name in REPORTS:
        raise ParameterError("name", f"{name!r} is already a report", "another name")
    module = "rt_" + name.replace("-", "_")
    title = title or name.replace("-", " ").capitalize()
    description = (description or f"The {name} report.").replace('"', "'")
    root = Path(folder) / f"rtanalytics-{name}"
    if root.exists():
        raise ParameterError("--dir", f"{root} exists", "a folder without a package of that name")
    (root / module).mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(name=name, module=module, description=description))
    (root / module / "__init__.py").write_text(MODULE.format(name=name, title=title.replace('"', "'"),
                                                             description=description))
    nbformat.write(_notebook(name, module, title, description), str(root / module / f"{name}.ipynb"))
    (root / "README.md").write_text(
        f"# rtanalytics-{name}\n\n{description}\n\n```bash\npip install -e .   # into rtanalytics' venv\n"
        f"rtanalytics run {name}\n```\n\nThe report is `{module}/__init__.py` (parameters, `run()`, the result) "
        f"and `{module}/{name}.ipynb` (the narrative); `rtanalytics.reports` in pyproject.toml registers it.\n")
    return root


def entry_points_txt(name: str) -> str:
    """The entry_points.txt an installed copy would have (tests install it through importlib.metadata)."""
    module = "rt_" + name.replace("-", "_")
    return f"[rtanalytics.reports]\n{name} = {module}:REPORT\n"




PROJECT_YAML = '''# An rtanalytics project (written by `rtanalytics init`): the rtanalytics command finds it from this file,
# looking in the current folder and its parents (or --project DIR, or $RTANALYTICS_PROJECT).
# Every path is relative to this folder.
name: {name}
parameters: parameters   # the catalog: environments, KPIs, SLOs, alarms, routing, dashboards, schedule ...
outputs: outputs         # rendered runs, index.html, the ledger and the health history (not for git)
cache: .cache            # the local metrics cache (not for git)
'''

GITIGNORE = '''# rtanalytics: rendered runs and the metrics cache are rebuilt, never committed
outputs/
.cache/
.ipynb_checkpoints/
'''

PROJECT_README = '''# {name}

An rtanalytics project: this team's observability catalog, kept in its own
repository. The tool is installed, pinned, like any other package (`pip install rtanalytics=={version}`); the
catalog is here.

| path | what |
|---|---|
| `rtanalytics.yaml` | the project file: its name and folders |
| `parameters/` | the catalog: environments, KPIs, SLOs (OpenSLO), alarms, routing, dashboards, health, capacity, schedule, demo scenarios — `parameters/README.md` documents every file |
| `outputs/` | rendered runs and `index.html` (ignored by git) |
| `.cache/` | the local metrics cache (ignored by git) |

```bash
rtanalytics check                  # validate every catalog file; exit 2 on any error (run it in CI)
rtanalytics list                   # the reports and their parameters
rtanalytics run --all              # every report on the environment's source (demo: no AWS account needed)
rtanalytics run slo -p environment production -p start -7d
rtanalytics schedule install       # crontab lines for parameters/schedule.yaml
rtanalytics notebook explore       # copy the analysts' notebook into notebooks/ to edit
rtanalytics new-report NAME        # your own report, as a package under reports/
```

In CI, on every change to the catalog:

```bash
pip install rtanalytics=={version} && rtanalytics check --format json
```
'''


def init_project(folder: Path | str, name: str | None = None) -> Path:
    """Write a project into ``folder`` (created if needed): ``rtanalytics.yaml``, ``parameters/`` (a copy of the
    bundled example catalog, its ``README.md`` documenting every file), ``.gitignore`` and ``README.md``.
    Refuses a folder that already holds a project or a catalog: nothing is overwritten."""
    root = Path(folder).expanduser().resolve()
    name = name or root.name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", name or ""):
        raise ParameterError("--name", f"{name!r} is not a project name", "letters, digits, dots, dashes and "
                             "underscores (e.g. payments-observability)")
    for existing in (root / PROJECT_FILE, root / "parameters"):
        if existing.exists():
            raise ParameterError("dir", f"{existing} exists", "a new or empty folder (init never overwrites a "
                                 "project); `rtanalytics check` validates the one there")
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundled_example() / "parameters", root / "parameters",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (root / PROJECT_FILE).write_text(PROJECT_YAML.format(name=name))
    gi = root / ".gitignore"
    gi.write_text((gi.read_text() + "\n" if gi.exists() else "") + GITIGNORE)
    if not (root / "README.md").exists():
        (root / "README.md").write_text(PROJECT_README.format(name=name, version=__version__))
    return root


def copy_notebook(which: str, folder: Path | str) -> Path:
    """Copy the shipped notebook ``which`` (``explore``) into ``folder`` to edit; never overwrites."""
    src = NOTEBOOKS / f"{which}.ipynb"
    if not src.is_file():
        raise ParameterError("notebook", f"no shipped notebook {which!r}", "explore")
    dest = Path(folder) / src.name
    if dest.exists():
        raise ParameterError("dir", f"{dest} exists", "another folder, or remove your copy first")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest
