"""OpenSLO v1 (https://github.com/OpenSLO/OpenSLO, ``apiVersion: openslo/v1``) as people write it.

Kinds: ``SLO`` (inline ``indicator`` or ``indicatorRef``; ``alertPolicies`` by name, ``alertPolicyRef`` or
inline), ``SLI`` (``ratioMetric`` with good/bad/total, or the ``raw``/``rawType`` form of a precomputed ratio;
``thresholdMetric``), ``AlertPolicy`` (``conditions`` inline or by ``conditionRef``; ``notificationTargets``
inline or by ``targetRef``), ``AlertCondition`` (``condition.kind: burnrate``, ``op`` lt/lte/gt/gte),
``Service``, ``DataSource`` (``metricSourceRef``) and ``AlertNotificationTarget``. A file may hold several
documents (``---``) or a YAML list of them; unquoted timestamps (``startTime: 2022-01-01 12:00:00``) and empty
lists (``alertPolicies:``) are read as meant. Time windows: rolling (``duration: 30d``) and calendar-aligned
(``duration: 1M, isRolling: false, calendar: {startTime, timeZone}``). Budgeting: ``Occurrences``,
``Timeslices``, ``RatioTimeslices`` (with ``timeSliceTarget`` each slice is good or bad; without, the budget is
the mean of the slices' ratios). Objectives: ``target`` or ``targetPercent``.

Every reference is resolved (a ``targetRef`` or ``indicatorRef`` to nothing is an error), and validation
reports *every* error at once, each with its file and path. A field rtanalytics does not implement is refused by
name — never silently ignored. An SLO whose metrics are not CloudWatch's (``type: Prometheus``, ...) loads and is
listed as not computable from this source (:meth:`OpenSLOCatalog.computable`) instead of refusing the folder.
rtanalytics' own settings live in ``metadata.annotations``: ``rtanalytics/missing-slices: exclude|good|bad``
and ``rtanalytics/stale-after: 30m``.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import CatalogError
from ..queries import normalize_stat
from ..timewindow import parse_duration


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Metadata(_M):
    name: str
    displayName: str | None = None
    labels: dict[str, Any] = {}
    annotations: dict[str, str] = {}


class Dim(_M):
    name: str
    value: str


class CloudWatchSpec(_M):
    region: str | None = None
    namespace: str
    metricName: str
    stat: str = "Sum"
    dimensions: list[Dim] = []

    @field_validator("stat")
    @classmethod
    def _stat(cls, v):
        return normalize_stat(v)


class MetricSource(_M):
    """``type`` and ``spec`` as the metric source's vendor defines them; CloudWatch's is validated here, any
    other is kept as given (its SLO is listed as not computable from CloudWatch)."""

    type: str | None = None
    spec: Any = None
    metricSourceRef: str | None = None

    @model_validator(mode="after")
    def _cw(self):
        if self.type is None and self.metricSourceRef is None:
            raise ValueError("a metricSource needs 'type' (and 'spec') or 'metricSourceRef'")
        if self.type is not None and self.type.lower() == "cloudwatch":
            object.__setattr__(self, "type", "CloudWatch")
            object.__setattr__(self, "spec", CloudWatchSpec.model_validate(self.spec or {}))
        return self

    @property
    def is_cloudwatch(self) -> bool:
        return self.type == "CloudWatch"


class MetricRef(_M):
    metricSource: MetricSource


class RatioMetric(_M):
    counter: bool = True
    good: MetricRef | None = None
    bad: MetricRef | None = None
    total: MetricRef | None = None
    raw: MetricRef | None = None  # a precomputed ratio ...
    rawType: Literal["success", "failure"] | None = None  # ... of good (success) or of bad (failure) events

    @model_validator(mode="after")
    def _one(self):
        if self.raw is not None:
            if self.good is not None or self.bad is not None:
                raise ValueError("ratioMetric: 'raw' stands alone (no 'good' or 'bad')")
            if self.rawType is None:
                raise ValueError("ratioMetric with 'raw' needs rawType: success or failure")
            return self
        if (self.good is None) == (self.bad is None):
            raise ValueError("ratioMetric needs exactly one of 'good' and 'bad' (and 'total'), or 'raw'")
        if self.total is None:
            raise ValueError("ratioMetric needs 'total' beside 'good' or 'bad'")
        return self

    def sources(self) -> list[MetricSource]:
        return [m.metricSource for m in (self.good, self.bad, self.total, self.raw) if m is not None]


class SLISpec(_M):
    description: str = ""
    ratioMetric: RatioMetric | None = None
    thresholdMetric: MetricRef | None = None

    def sources(self) -> list[MetricSource]:
        return self.ratioMetric.sources() if self.ratioMetric else [self.thresholdMetric.metricSource]

    @model_validator(mode="after")
    def _one(self):
        if (self.ratioMetric is None) == (self.thresholdMetric is None):
            raise ValueError("an SLI needs exactly one of ratioMetric and thresholdMetric")
        return self


class SLI(_M):
    apiVersion: Literal["openslo/v1"] = "openslo/v1"
    kind: Literal["SLI"] = "SLI"
    metadata: Metadata
    spec: SLISpec


class InlineSLI(_M):
    metadata: Metadata
    spec: SLISpec


class Calendar(_M):
    startTime: str
    timeZone: str = "UTC"

    @field_validator("startTime", mode="before")
    @classmethod
    def _t(cls, v):
        # YAML reads an unquoted "2022-01-01 12:00:00" as a datetime: take it as written
        return v.isoformat(sep=" ") if isinstance(v, (_dt.datetime, _dt.date)) else v


class TimeWindow(_M):
    duration: str
    isRolling: bool = True
    calendar: Calendar | None = None

    @field_validator("duration")
    @classmethod
    def _dur(cls, v):
        if v.endswith(("M", "Q", "Y")):
            int(v[:-1])
        else:
            parse_duration(v)
        return v

    @model_validator(mode="after")
    def _cal(self):
        if not self.isRolling and self.calendar is None:
            raise ValueError("a calendar-aligned timeWindow (isRolling: false) needs 'calendar'")
        if self.isRolling and self.duration.endswith(("M", "Q", "Y")):
            raise ValueError("a rolling window needs a fixed duration (e.g. 28d, 30d), not months")
        return self


class Objective(_M):
    displayName: str | None = None
    target: float | None = Field(None, gt=0, lt=1)
    targetPercent: float | None = Field(None, gt=0, lt=100)
    op: Literal["lt", "lte", "gt", "gte"] | None = None
    value: float | None = None
    timeSliceTarget: float | None = Field(None, gt=0, le=1)
    timeSliceWindow: str | None = None
    indicator: Any = None

    @model_validator(mode="after")
    def _f(self):
        if self.indicator is not None:
            raise ValueError("per-objective indicators are not supported; put the indicator on the SLO")
        if self.target is None and self.targetPercent is None:
            raise ValueError("an objective needs 'target' (0..1) or 'targetPercent' (0..100)")
        if self.target is None:
            object.__setattr__(self, "target", self.targetPercent / 100.0)
        return self


class AlertConditionSpec(_M):
    description: str = ""
    severity: str
    condition: "BurnRateCondition"


class BurnRateCondition(_M):
    kind: Literal["burnrate"]
    op: Literal["lt", "lte", "gt", "gte"] = "gte"
    threshold: float = Field(gt=0)
    lookbackWindow: str
    alertAfter: str = "0m"

    @field_validator("lookbackWindow")
    @classmethod
    def _lw(cls, v):
        parse_duration(v)
        return v

    @field_validator("alertAfter")
    @classmethod
    def _aa(cls, v):
        if v not in ("0", "0m", "0s"):
            parse_duration(v)
        return v


AlertConditionSpec.model_rebuild()


class AlertCondition(_M):
    apiVersion: Literal["openslo/v1"] = "openslo/v1"
    kind: Literal["AlertCondition"] = "AlertCondition"
    metadata: Metadata
    spec: AlertConditionSpec


class ConditionRef(_M):
    conditionRef: str


class NotificationTargetSpec(_M):
    description: str = ""
    target: str


class AlertNotificationTarget(_M):
    apiVersion: Literal["openslo/v1"] = "openslo/v1"
    kind: Literal["AlertNotificationTarget"] = "AlertNotificationTarget"
    metadata: Metadata
    spec: NotificationTargetSpec


class TargetRef(_M):
    targetRef: str


class InlineTarget(_M):
    kind: Literal["AlertNotificationTarget"] = "AlertNotificationTarget"
    metadata: Metadata
    spec: NotificationTargetSpec


class AlertPolicySpec(_M):
    description: str = ""
    alertWhenNoData: bool = False
    alertWhenResolved: bool = False
    alertWhenBreaching: bool = True
    conditions: list[ConditionRef | AlertCondition]
    notificationTargets: list[TargetRef | InlineTarget] = []


class AlertPolicy(_M):
    apiVersion: Literal["openslo/v1"] = "openslo/v1"
    kind: Literal["AlertPolicy"] = "AlertPolicy"
    metadata: Metadata
    spec: AlertPolicySpec


class AlertPolicyRef(_M):
    alertPolicyRef: str


class SLOSpec(_M):
    description: str = ""
    service: str
    indicator: InlineSLI | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindow] = Field(min_length=1, max_length=1)
    budgetingMethod: Literal["Occurrences", "Timeslices", "RatioTimeslices"]
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: list[str | AlertPolicyRef | AlertPolicy] = []

    @model_validator(mode="after")
    def _ind(self):
        if (self.indicator is None) == (self.indicatorRef is None):
            raise ValueError("give exactly one of indicator and indicatorRef")
        for o in self.objectives:
            if self.budgetingMethod in ("Timeslices", "RatioTimeslices") and not o.timeSliceWindow:
                raise ValueError(f"{self.budgetingMethod} objectives need timeSliceWindow")
        return self

    def policy_names(self) -> list[str]:
        return [p if isinstance(p, str) else (p.alertPolicyRef if isinstance(p, AlertPolicyRef) else
                                              p.metadata.name) for p in self.alertPolicies]


class SLO(_M):
    apiVersion: Literal["openslo/v1"] = "openslo/v1"
    kind: Literal["SLO"] = "SLO"
    metadata: Metadata
    spec: SLOSpec


class ServiceSpec(_M):
    description: str = ""


class Service(_M):
    apiVersion: Literal["openslo/v1"] = "openslo/v1"
    kind: Literal["Service"] = "Service"
    metadata: Metadata
    spec: ServiceSpec = ServiceSpec()


class DataSourceSpec(_M):
    description: str = ""
    type: str
    connectionDetails: Any = None


class DataSource(_M):
    apiVersion: Literal["openslo/v1"] = "openslo/v1"
    kind: Literal["DataSource"] = "DataSource"
    metadata: Metadata
    spec: DataSourceSpec


KINDS = {"SLO": SLO, "SLI": SLI, "AlertPolicy": AlertPolicy, "AlertCondition": AlertCondition, "Service": Service,
         "DataSource": DataSource, "AlertNotificationTarget": AlertNotificationTarget}
KNOWN_ANNOTATIONS = {"rtanalytics/missing-slices", "rtanalytics/stale-after"}


class OpenSLOCatalog:
    """Every OpenSLO document in a folder, cross-references resolved."""

    def __init__(self, slos: dict[str, SLO], slis: dict[str, SLI], policies: dict[str, AlertPolicy],
                 conditions: dict[str, AlertCondition], services: dict[str, Service] | None = None,
                 datasources: dict[str, DataSource] | None = None,
                 targets: dict[str, AlertNotificationTarget] | None = None):
        self.slos, self.slis, self.policies, self.conditions = slos, slis, policies, conditions
        self.services = services or {}
        self.datasources = datasources or {}
        self.targets = targets or {}

    def indicator(self, slo: SLO) -> SLISpec:
        if slo.spec.indicator is not None:
            return slo.spec.indicator.spec
        return self.slis[slo.spec.indicatorRef].spec

    def policies_of(self, slo: SLO) -> list[AlertPolicy]:
        return [p if isinstance(p, AlertPolicy) else self.policies[n]
                for p, n in zip(slo.spec.alertPolicies, slo.spec.policy_names())]

    def burn_conditions(self, slo: SLO) -> list[AlertCondition]:
        out = []
        for pol in self.policies_of(slo):
            for c in pol.spec.conditions:
                out.append(self.conditions[c.conditionRef] if isinstance(c, ConditionRef) else c)
        return out

    def source_type(self, m: MetricSource) -> str | None:
        if m.type is not None:
            return m.type
        ds = self.datasources.get(m.metricSourceRef or "")
        return ds.spec.type if ds else None

    def computable(self, slo: SLO) -> tuple[bool, str]:
        """Whether this package can compute the SLO from CloudWatch, and if not, why."""
        kinds = sorted({self.source_type(m) or "?" for m in self.indicator(slo).sources()})
        if kinds != ["CloudWatch"]:
            return False, (f"its indicator reads {', '.join(kinds)} metrics, not CloudWatch: not computable from "
                           "this source")
        if any(m.type is None for m in self.indicator(slo).sources()):
            return False, "its metrics come through a DataSource reference without CloudWatch query fields"
        return True, ""


_LISTS = {"alertPolicies", "conditions", "notificationTargets", "objectives", "dimensions", "timeWindow"}


def _normalise(obj):
    """As people write OpenSLO: an empty list key (``alertPolicies:``) is an empty list; unquoted dates stay
    as written."""
    if isinstance(obj, dict):
        return {k: ([] if (v is None and k in _LISTS) else _normalise(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_normalise(x) for x in obj]
    return obj


def load_openslo(folder: Path | str) -> OpenSLOCatalog:
    """Load and validate every ``*.yaml`` in ``folder`` (or one file). Every error is reported at once, each
    with its file, document and field path."""
    folder = Path(folder)
    found: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
    where_of: dict[tuple[str, str], str] = {}
    files = [folder] if folder.is_file() else sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise CatalogError(str(folder), None, "no OpenSLO files (*.yaml)")
    errors: list[str] = []
    for f in files:
        try:
            raw_docs = list(yaml.safe_load_all(f.read_text()))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            errors.append((f, f"line {mark.line + 1}" if mark else None, f"not valid YAML: {e}"))
            continue
        docs = []
        for d in raw_docs:  # a document may itself be a list of objects
            docs += d if isinstance(d, list) else ([d] if d is not None else [])
        for i, d in enumerate(docs):
            where = f"document {i + 1}"
            if not isinstance(d, dict):
                errors.append((f, where, "an OpenSLO document must be a mapping"))
                continue
            if d.get("apiVersion") != "openslo/v1":
                errors.append((f, f"{where}.apiVersion", f"{d.get('apiVersion')!r} is not supported (use openslo/v1)"))
                continue
            kind = d.get("kind")
            if kind not in KINDS:
                errors.append((f, f"{where}.kind", f"unsupported kind {kind!r} (supported: {', '.join(KINDS)})"))
                continue
            name_hint = (d.get("metadata") or {}).get("name", "?") if isinstance(d.get("metadata"), dict) else "?"
            try:
                obj = KINDS[kind].model_validate(_normalise(d))
            except ValidationError as e:
                for err in e.errors():
                    loc = ".".join(str(x) for x in err["loc"])
                    msg = "unsupported field (rtanalytics does not implement it; remove it)" \
                        if err["type"] == "extra_forbidden" else err["msg"]
                    errors.append((f, f"{where} ({kind} {name_hint}).{loc}", msg))
                continue
            unknown = {a for a in set(obj.metadata.annotations) - KNOWN_ANNOTATIONS if a.startswith("rtanalytics/")}
            if unknown:
                errors.append((f, f"{where}.metadata.annotations", f"unknown {sorted(unknown)} "
                               f"(known: {sorted(KNOWN_ANNOTATIONS)})"))
            name = obj.metadata.name
            if name in found[kind]:
                errors.append((f, f"{where}.metadata.name", f"duplicate {kind} name {name!r}"))
                continue
            found[kind][name] = obj
            where_of[(kind, name)] = (f, f"{where} ({kind} {name})")
    cat = OpenSLOCatalog(found["SLO"], found["SLI"], found["AlertPolicy"], found["AlertCondition"],
                         found["Service"], found["DataSource"], found["AlertNotificationTarget"])
    errors += _unresolved(cat, where_of)
    if errors:
        err = CatalogError(str(folder), None, f"{len(errors)} problem(s):\n  " + "\n  ".join(
            f"{f}: {w}: {m}" if w else f"{f}: {m}" for f, w, m in errors))
        err.problems_by_file = [(str(f), w, m) for f, w, m in errors]  # for `rtanalytics check`
        raise err

    return cat


def _unresolved(cat: OpenSLOCatalog, where_of: dict) -> list[tuple]:
    """Every reference to a document that is not there, as ``(file, field, problem)``."""
    errs = []

    def add(at, field, problem):
        errs.append((at[0], f"{at[1]}.{field}", problem))

    def sources(spec: SLISpec, at: tuple, under: str = ""):
        for m in spec.sources():
            if m.metricSourceRef and m.metricSourceRef not in cat.datasources:
                add(at, under + "metricSourceRef", f"no DataSource named {m.metricSourceRef!r}")

    for n, s in cat.slos.items():
        at = where_of[("SLO", n)]
        if s.spec.indicatorRef and s.spec.indicatorRef not in cat.slis:
            add(at, "spec.indicatorRef", f"no SLI named {s.spec.indicatorRef!r}")
        elif s.spec.indicator is not None:
            sources(s.spec.indicator.spec, at, "spec.indicator.")
        if cat.services and s.spec.service not in cat.services:
            add(at, "spec.service", f"no Service named {s.spec.service!r}")
        for p, pn in zip(s.spec.alertPolicies, s.spec.policy_names()):
            if not isinstance(p, AlertPolicy) and pn not in cat.policies:
                add(at, "spec.alertPolicies", f"no AlertPolicy named {pn!r}")
    for n, sli in cat.slis.items():
        sources(sli.spec, where_of[("SLI", n)])
    pols = list(cat.policies.items()) + [(p.metadata.name, p) for s in cat.slos.values() for p in
                                         s.spec.alertPolicies if isinstance(p, AlertPolicy)]
    for n, p in pols:
        at = where_of.get(("AlertPolicy", n), ("?", f"AlertPolicy {n}"))
        for c in p.spec.conditions:
            if isinstance(c, ConditionRef) and c.conditionRef not in cat.conditions:
                add(at, "spec.conditions", f"no AlertCondition named {c.conditionRef!r}")
        for t in p.spec.notificationTargets:
            if isinstance(t, TargetRef) and t.targetRef not in cat.targets:
                add(at, "spec.notificationTargets", f"no AlertNotificationTarget named {t.targetRef!r}")
    return errs
