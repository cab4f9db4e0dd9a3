"""The catalog: ``parameters/`` loaded into validated models.

>>> import rtanalytics as rt
>>> cat = rt.catalog()
>>> cat.kpis["availability"].target.value
99.9
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from ..errors import CatalogError, ParameterError
from .loader import load, parameters_dir, read_yaml, validate
from .models import Environment, Environments, Fleet, FleetFile, Incident, Kpi, KpiCatalog, MetricSelector, Resources, Scenario

__all__ = ["Catalog", "catalog", "Environment", "Kpi", "MetricSelector", "Resources", "Scenario", "Incident",
           "parameters_dir", "read_yaml", "validate", "load"]


#: the report names an environment may list (``reports:``), handed down by the report registry when it loads:
#: the catalog sits below the reports and imports none of them (docs/architecture.md)
REPORT_NAMES: list[str] = []


def known_reports(names) -> None:
    """Called by :mod:`rtanalytics.reports.registry` with the names of every report it found."""
    REPORT_NAMES[:] = list(names)


class Catalog:
    """Everything under one ``parameters/`` folder, each part loaded (and validated) on first use."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root else parameters_dir()

    def __repr__(self):
        return f"Catalog({str(self.root)!r})"

    @cached_property
    def environments(self) -> dict[str, Environment]:
        """``environments.yaml`` and every member of every fleet in ``fleet.yaml`` (names are unique across both)."""
        envs = dict(load(Environments, self.root / "environments.yaml").environments)
        path = self.root / "fleet.yaml"
        for fname, fleet in self.fleet_file.fleets.items():
            for name, data in fleet.member_data().items():
                where = f"fleets.{fname}.environments.{name}"
                if name in envs:
                    other = envs[name].fleet
                    raise CatalogError(str(path), where, f"environment name {name!r} is already used by "
                                       + (f"fleet {other!r}" if other else "environments.yaml")
                                       + "; give every environment its own name")
                envs[name] = validate(Environment, data, path, where)
                self._check_reports(envs[name].reports, path, where + ".reports")
        return envs

    @cached_property
    def fleet_file(self) -> FleetFile:
        path = self.root / "fleet.yaml"
        return load(FleetFile, path) if path.exists() else FleetFile()

    @property
    def fleets(self) -> dict[str, Fleet]:
        return self.fleet_file.fleets

    def fleet(self, name: str | None = None) -> Fleet:
        """The fleet ``name`` (the only one when there is one and no name is given)."""
        fleets = self.fleets
        if name is None and len(fleets) == 1:
            return next(iter(fleets.values()))
        if name not in fleets:
            raise ParameterError("--fleet", f"no fleet {name!r} in {self.root / 'fleet.yaml'}" if name else
                                 "name the fleet", ", ".join(sorted(fleets)) or "none defined in parameters/fleet.yaml")
        return fleets[name]

    def fleet_members(self, name: str) -> list[Environment]:
        return [e for e in self.environments.values() if e.fleet == name]

    @staticmethod
    def _check_reports(reports, path, where):
        if not REPORT_NAMES:  # the registry has not loaded in this process: nothing to check against
            return
        bad = [r for r in reports or [] if r not in REPORT_NAMES]
        if bad:
            raise CatalogError(str(path), where, f"unknown report(s) {bad}; accepts {', '.join(REPORT_NAMES)}")

    def environment(self, name: str) -> Environment:
        envs = self.environments
        if name not in envs:
            raise ParameterError("environment", f"unknown environment {name!r}", ", ".join(sorted(envs)))
        try:
            return envs[name].with_amplify_outputs(self.root)
        except ValueError as e:
            raise CatalogError(str(self.root / "environments.yaml"), f"environments.{name}.amplify_outputs",
                               str(e).split(": ", 1)[-1]) from None

    @cached_property
    def kpis(self) -> dict[str, Kpi]:
        return load(KpiCatalog, self.root / "kpis.yaml").kpis

    def scenario(self, name: str = "default") -> Scenario:
        path = self.root / "scenarios" / f"{name}.yaml"
        if not path.exists():
            have = sorted(p.stem for p in (self.root / "scenarios").glob("*.yaml"))
            raise CatalogError(str(path), None, f"no scenario {name!r} (have: {', '.join(have) or 'none'})")
        return load(Scenario, path)


_CACHE: dict[Path, Catalog] = {}


def catalog(root: Path | str | None = None) -> Catalog:
    """The catalog for ``root`` (default: :func:`parameters_dir`), cached per folder."""
    key = Path(root).resolve() if root else parameters_dir().resolve()
    if key not in _CACHE:
        _CACHE[key] = Catalog(key)
    return _CACHE[key]
