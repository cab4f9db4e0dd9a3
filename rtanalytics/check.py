"""``rtanalytics check``: validate a project's whole catalog without running anything.

Every file of ``parameters/`` is loaded by the same code a report uses (so the installed version decides what is
valid), every error is collected — not only the first — and each names its file, the field inside it and the fix.
For a team's CI on its catalog repository: exit 2 on any error, ``--format json`` for machines.

What is checked, file by file: the project file (``rtanalytics.yaml``); ``environments.yaml`` and ``fleet.yaml``
(every member, names unique across both, reports known); ``kpis.yaml``; ``slos/`` (OpenSLO v1, every reference
resolved); ``alarms.yaml`` (each alarm as PutMetricAlarm takes it, ``${...}`` filled from each environment,
``seed_names``); ``routing.yaml``; ``dashboards/*.json`` (the console's dashboard body); ``health.yaml``;
``capacity.yaml``; ``schedule.yaml`` (cron expressions, reports and fleets named); ``scenarios/*.yaml`` (the
demo's injected incidents, and each environment's ``scenario`` exists). A catalog file nothing reads is a
warning (a typo in its name would otherwise go unnoticed).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ._version import __version__
from .alarms import load_alarms, seed_names
from .backtest import load_routing
from .catalog import Catalog, CatalogError
from .catalog.openslo import load_openslo
from .dashboards import load_dashboard
from .errors import ParameterError
from .health import load_settings
from .settings import PROJECT_FILE, Project
from .reports.capacity import load_spec
from .reports.registry import REPORTS  # noqa: F401 (loads the report names the catalog checks against)
from .reports.schedule import load_schedule

#: where each file's format is documented (the project's own parameters/README.md, written by `init`)
DOC = "parameters/README.md"
#: top-level files and folders of parameters/ that something reads
KNOWN = {"environments.yaml", "fleet.yaml", "kpis.yaml", "alarms.yaml", "routing.yaml", "health.yaml",
         "capacity.yaml", "schedule.yaml", "slos", "dashboards", "scenarios", "README.md"}


@dataclass
class Problem:
    file: str
    field: str | None
    problem: str
    fix: str
    severity: str = "error"  # error | warning

    def line(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{self.severity}: {where}: {self.problem}\n    fix: {self.fix}"


def _fix_for(problem: str, file: str) -> str:
    """The fix for a validation message that carries none of its own: what pydantic's messages imply, and where
    the file's format is documented."""
    section = Path(file).name if Path(file).suffix else Path(file).name + "/"
    doc = f"see {DOC}, section {section}"
    if "unknown field" in problem or "unsupported field" in problem:
        return f"remove the field or correct its spelling ({doc})"
    if "Field required" in problem:
        return f"add the field ({doc})"
    if "file not found" in problem:
        return f"create it (`rtanalytics init` writes every file) or copy it from the bundled example ({doc})"
    return doc


def _problems(e: CatalogError, default_file: str | None = None) -> list[Problem]:
    """One :class:`Problem` per bad field of ``e`` (a file's validation lists every field it found)."""
    if getattr(e, "problems_by_file", None):  # OpenSLO: several files, each its own problems
        return [Problem(f, w, m, e.fix or _fix_for(m, f)) for f, w, m in e.problems_by_file]
    file = e.path or default_file or "?"
    if getattr(e, "problems", None):
        return [Problem(file, loc, msg, e.fix or _fix_for(msg, file)) for loc, msg in e.problems]
    return [Problem(file, e.field, e.problem, e.fix or _fix_for(e.problem, file))]


def _try(out: list[Problem], path: Path, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except CatalogError as e:
        out.extend(_problems(e, str(path)))
    except ParameterError as e:  # a loader that names a parameter (an environment, a fleet) for a file's value
        out.append(Problem(str(path), e.name, e.problem, e.accepts or _fix_for(e.problem, str(path))))
    except (OSError, ValueError) as e:
        out.append(Problem(str(path), None, f"{type(e).__name__}: {e}", _fix_for(str(e), str(path))))
    return None


def check(project: Project) -> list[Problem]:
    """Every problem of ``project``'s catalog, errors and warnings, in file order.

    The loaders that read other catalog files (alarms filled from environments, schedule entries naming fleets)
    read the project in force: the CLI pins ``project`` as that before calling this."""
    out: list[Problem] = []
    root = project.parameters
    if not project.bundled:
        pf = project.root / PROJECT_FILE
        if not pf.is_file():
            out.append(Problem(str(pf), None, "no project file", "run `rtanalytics init` here"))
    if not root.is_dir():
        out.append(Problem(str(root), None, "catalog folder not found",
                           "create it with `rtanalytics init`, or set `parameters:` in rtanalytics.yaml"))
        return out
    cat = Catalog(root)
    envs = _try(out, root / "environments.yaml", lambda: cat.environments) or {}
    for name, env in envs.items():
        _try(out, root / "environments.yaml", cat.environment, name)
        if env.scenario and env.source == "demo":
            _try(out, root / "scenarios" / f"{env.scenario}.yaml", cat.scenario, env.scenario)
    for f in sorted((root / "scenarios").glob("*.yaml")):
        _try(out, f, cat.scenario, f.stem)
    _try(out, root / "kpis.yaml", lambda: cat.kpis)
    if (root / "slos").exists():
        _try(out, root / "slos", load_openslo, root / "slos")
    else:
        out.append(Problem(str(root / "slos"), None, "no SLO folder", _fix_for("file not found", "slos")))
    alarms = root / "alarms.yaml"
    for name in list(envs) or ["demo"]:  # ${...} are filled per environment: each must give a valid alarm
        errs: list = []
        _try(out, alarms, load_alarms, alarms, name, errs)
        for e in errs:
            for p in _problems(e, str(alarms)):
                p.problem += f" (environment {name})" if len(envs) > 1 else ""
                out.append(p)
        if errs:
            break  # the same mistake would repeat for every environment
    _try(out, alarms, seed_names, alarms)
    _try(out, root / "routing.yaml", load_routing, root / "routing.yaml")
    for f in sorted((root / "dashboards").glob("*.json")):
        _try(out, f, load_dashboard, f)
    _try(out, root / "health.yaml", load_settings, root / "health.yaml")
    _try(out, root / "capacity.yaml", load_spec, root / "capacity.yaml")
    _try(out, root / "schedule.yaml", load_schedule, root / "schedule.yaml")
    for p in sorted(root.iterdir()):
        if p.name not in KNOWN and not p.name.startswith("."):
            out.append(Problem(str(p), None, "not read by rtanalytics", f"rename it to one of the catalog's files "
                               f"or remove it ({DOC} lists them)", "warning"))
    seen, unique = set(), []
    for p in out:  # a file read by two loaders reports its problem once
        key = (p.file, p.field, p.problem)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def report(project: Project, problems: list[Problem], fmt: str = "text") -> str:
    errors = [p for p in problems if p.severity == "error"]
    if fmt == "json":
        return json.dumps({"project": project.name, "root": str(project.root), "parameters": str(project.parameters),
                           "bundled": project.bundled, "rtanalytics_version": __version__,
                           "files": len(project.catalog_files()), "errors": len(errors),
                           "warnings": len(problems) - len(errors), "problems": [asdict(p) for p in problems]},
                          indent=2)
    lines = [p.line() for p in problems]
    lines.append(f"{project.label}: {len(project.catalog_files())} catalog files, {len(errors)} error(s), "
                 f"{len(problems) - len(errors)} warning(s) (rtanalytics {__version__})")
    return "\n".join(lines)


__all__ = ["check", "report", "Problem"]
