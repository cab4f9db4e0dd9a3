"""Finding and reading the YAML catalog under ``parameters/`` with errors that name the file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import CatalogError
from ..settings import current as current_project

M = TypeVar("M", bound=BaseModel)


def parameters_dir() -> Path:
    """The catalog folder of the project in force (:func:`rtanalytics.settings.current`): ``parameters/`` of the
    project found from ``--project``, ``$RTANALYTICS_PROJECT`` or the current folder, else the bundled example's;
    ``$RTANALYTICS_PARAMETERS`` overrides it."""
    return current_project().parameters


_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path | str) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(str(path), None, "file not found") from None
    try:
        return yaml.load(text, Loader=_SAFE)  # libyaml's safe loader when built in: 5-10x the pure-Python one
    except yaml.YAMLError:
        pass
    try:  # bad YAML: read again by the pure-Python loader, whose messages point at the place more precisely
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise CatalogError(str(path), where, f"not valid YAML: {getattr(e, 'problem', e)}") from None


def validate(model: type[M], data: Any, path: Path | str, prefix: str = "") -> M:
    """``model.model_validate(data)``, turning pydantic's errors into one :class:`CatalogError` naming every field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = []
        first_field = None
        for err in e.errors():
            loc = ".".join(str(x) for x in (([prefix] if prefix else []) + list(err["loc"])))
            first_field = first_field or loc
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field (remove it or check its spelling)"
            problems.append((loc or "(top level)", msg))
        err = CatalogError(str(path), first_field, "; ".join(f"{loc}: {msg}" for loc, msg in problems))
        err.problems = problems  # every bad field, for `rtanalytics check`
        raise err from None


def load(model: type[M], path: Path | str, prefix: str = "") -> M:
    return validate(model, read_yaml(path), path, prefix)
