"""Settings: where a team's catalog lives (the project), and the paths every layer reads from it.

The package is the tool; a team's catalog is its own folder (a *project*, like a dbt project): a file
``rtanalytics.yaml`` at its root, the catalog in ``parameters/``, rendered runs in ``outputs/`` and the metrics
cache in ``.cache/`` beside it. Every command finds the project the same way:

1. ``--project DIR`` (the command line sets ``RTANALYTICS_PROJECT`` for the run and its kernels),
2. ``$RTANALYTICS_PROJECT``,
3. the current folder and its parents, the first holding ``rtanalytics.yaml`` (as git finds ``.git``),
4. the bundled example: the seed's catalog shipped inside the package (``rtanalytics/example``), read through
   :mod:`importlib.resources`; its runs go to ``./outputs`` of the current folder.

``$RTANALYTICS_PARAMETERS``, ``$RTANALYTICS_OUTPUTS`` and ``$RTANALYTICS_CACHE`` still override one path each
(the test suite sends outputs and cache to a throwaway folder that way).

This module sits at the bottom of the layers (docs/architecture.md): it imports nothing of rtanalytics but the
errors, and the layers above read their paths from :func:`current` instead of importing each other's constants.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import yaml

from .errors import CatalogError  # noqa: F401 (re-exported: settings.CatalogError)

PROJECT_FILE = "rtanalytics.yaml"
#: catalog files: what ``check`` validates and what a run's provenance hashes
CATALOG_SUFFIXES = (".yaml", ".yml", ".json")


def bundled_example() -> Path:
    """The example project shipped in the package (the seed's catalog)."""
    return Path(str(files("rtanalytics") / "example"))


@dataclass(frozen=True)
class Project:
    """A project's paths. ``bundled``: the example shipped in the package, used when no project was found."""

    root: Path
    name: str
    parameters: Path
    outputs: Path
    cache: Path
    bundled: bool = False
    found_by: str = ""  # --project / RTANALYTICS_PROJECT, the current folder, or the bundled example
    settings: dict = field(default_factory=dict, compare=False)

    @property
    def workdir(self) -> Path:
        """Where a scheduled command runs from: the project's root (the current folder for the bundled example,
        whose root is inside the installed package)."""
        return Path.cwd() if self.bundled else self.root

    @property
    def label(self) -> str:
        """How a report's first line names the catalog."""
        if self.bundled:
            return f"bundled example catalog ({self.parameters})"
        return f"project {self.name} ({self.root})"

    def catalog_files(self) -> list[Path]:
        """Every catalog file under ``parameters/``, sorted (what ``check`` validates and a run hashes)."""
        if not self.parameters.is_dir():
            return []
        return sorted(p for p in self.parameters.rglob("*") if p.is_file() and p.suffix in CATALOG_SUFFIXES)

    def provenance(self) -> dict:
        """For a run's ``summary.json``: which catalog it used — the project, each catalog file with its
        SHA-256, and one hash over them all (paths and contents), so two runs can be told apart or matched."""
        whole = hashlib.sha256()
        listed = {}
        for p in self.catalog_files():
            rel = p.relative_to(self.parameters).as_posix()
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
            listed[rel] = digest
            whole.update(f"{rel}\0{digest}\n".encode())
        return {"project": self.name, "root": str(self.root), "bundled": self.bundled, "found_by": self.found_by,
                "parameters": str(self.parameters), "files": listed, "sha256": whole.hexdigest()}


def _read_project_file(root: Path) -> dict:
    path = root / PROJECT_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(str(path), None, f"no {PROJECT_FILE} here",
                           "run `rtanalytics init DIR` to create a project, or name a folder that has one") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise CatalogError(str(path), f"line {mark.line + 1}" if mark else None,
                           f"not valid YAML: {getattr(e, 'problem', e)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogError(str(path), None, "is not a mapping", "name: my-team (and optionally parameters, "
                           "outputs, cache: folders relative to the project)")
    unknown = sorted(set(data) - {"name", "parameters", "outputs", "cache", "version"})
    if unknown:
        raise CatalogError(str(path), unknown[0], "unknown field", "accepts name, parameters, outputs, cache")
    for key in ("name", "parameters", "outputs", "cache"):
        if key in data and not isinstance(data[key], str):
            raise CatalogError(str(path), key, f"must be a string, got {data[key]!r}")
    return data


def load_project(root: Path | str, found_by: str = "--project") -> Project:
    """The project at ``root`` (a folder holding ``rtanalytics.yaml``)."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise CatalogError(str(root), None, "project folder not found",
                           "name an existing folder, or create one with `rtanalytics init DIR`")
    data = _read_project_file(root)
    return Project(root=root, name=data.get("name") or root.name,
                   parameters=_env_path("RTANALYTICS_PARAMETERS") or root / data.get("parameters", "parameters"),
                   outputs=_env_path("RTANALYTICS_OUTPUTS") or root / data.get("outputs", "outputs"),
                   cache=_env_path("RTANALYTICS_CACHE") or root / data.get("cache", ".cache"),
                   found_by=found_by, settings=data)


def _env_path(name: str) -> Path | None:
    v = os.environ.get(name)
    return Path(v) if v else None


def find_root(start: Path | str | None = None) -> Path | None:
    """The first of ``start`` (default: the current folder) and its parents that holds ``rtanalytics.yaml``."""
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / PROJECT_FILE).is_file():
            return d
    return None


def current(explicit: Path | str | None = None) -> Project:
    """The project in force: ``explicit``, ``$RTANALYTICS_PROJECT``, the current folder or a parent, else the
    bundled example (see the module's docstring). Resolved on every call: nothing is frozen at import."""
    if explicit:
        return load_project(explicit, "--project")
    env = os.environ.get("RTANALYTICS_PROJECT")
    if env:
        return load_project(env, "RTANALYTICS_PROJECT")
    root = find_root()
    if root is not None:
        return load_project(root, "current folder")
    example = bundled_example()
    return Project(root=example, name="example", parameters=_env_path("RTANALYTICS_PARAMETERS")
                   or example / "parameters", outputs=_env_path("RTANALYTICS_OUTPUTS") or Path.cwd() / "outputs",
                   cache=_env_path("RTANALYTICS_CACHE") or _user_cache(), bundled=True,
                   found_by="bundled example (no rtanalytics.yaml here or above)")


def _user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rtanalytics"


__all__ = ["Project", "current", "default_outputs", "load_project", "find_root", "bundled_example", "PROJECT_FILE"]


def default_outputs() -> Path:
    """The outputs folder of the project in force (``$RTANALYTICS_OUTPUTS`` overrides it)."""
    return current().outputs
