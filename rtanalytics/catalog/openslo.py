"""OpenSLO v1 (https://github.com/OpenSLO/OpenSLO, ``apiVersion: openslo/v1``) with CloudWatch metric sources.

Supported kinds: ``SLO`` (inline ``indicator`` or ``indicatorRef``), ``SLI`` (``ratioMetric`` with good/bad/total,
``thresholdMetric``), ``AlertPolicy`` (``conditions`` inline or by ``conditionRef``) and ``AlertCondition``
(``condition.kind: burnrate``). Time windows: rolling (``duration: 30d, isRolling: true``) and calendar-aligned
(``duration: 1M, isRolling: false, calendar: {startTime, timeZone}``). Budgeting: ``Occurrences``,
``Timeslices``, ``RatioTimeslices``. Metric sources: ``type: CloudWatch`` with ``namespace, metricName, stat,
dimensions`` (``${...}`` placeholders filled from the environment).

Anything else is refused with its location named — an unsupported field is never silently ignored. rtanalytics'
own settings live in ``metadata.annotations`` (free-form in OpenSLO): ``rtanalytics/missing-slices:
exclude|good|bad`` and ``rtanalytics/stale-after: 30m``.
"""

from __future__ import annotations

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
    type: Literal["CloudWatch"]
    spec: CloudWatchSpec
    metricSourceRef: str | None = None


class MetricRef(_M):
    metricSource: MetricSource


class RatioMetric(_M):
    counter: bool = True
    good: MetricRef | None = None
    bad: MetricRef | None = None
    total: MetricRef

    @model_validator(mode="after")
    def _one(self):
        if (self.good is None) == (self.bad is None):
            raise ValueError("ratioMetric needs exactly one of 'good' and 'bad' (and 'total')")
        return self


class SLISpec(_M):
    description: str = ""
    ratioMetric: RatioMetric | None = None
    thresholdMetric: MetricRef | None = None

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
    target: float = Field(gt=0, lt=1)
    op: Literal["lt", "lte", "gt", "gte"] | None = None
    value: float | None = None
    timeSliceTarget: float | None = Field(None, gt=0, le=1)
    timeSliceWindow: str | None = None
    indicator: Any = None

    @model_validator(mode="after")
    def _f(self):
        if self.indicator is not None:
            raise ValueError("per-objective indicators are not supported; put the indicator on the SLO")
        return self


class AlertConditionSpec(_M):
    description: str = ""
    severity: str
    condition: "BurnRateCondition"


class BurnRateCondition(_M):
    kind: Literal["burnrate"]
    op: Literal["gt", "gte"] = "gte"
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


class AlertPolicySpec(_M):
    description: str = ""
    alertWhenNoData: bool = False
    alertWhenResolved: bool = False
    alertWhenBreaching: bool = True
    conditions: list[ConditionRef | AlertCondition]
    notificationTargets: list[dict] = []


class AlertPolicy(_M):
    apiVersion: Literal["openslo/v1"] = "openslo/v1"
    kind: Literal["AlertPolicy"] = "AlertPolicy"
    metadata: Metadata
    spec: AlertPolicySpec


class SLOSpec(_M):
    description: str = ""
    service: str
    indicator: InlineSLI | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindow] = Field(min_length=1, max_length=1)
    budgetingMethod: Literal["Occurrences", "Timeslices", "RatioTimeslices"]
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: list[str] = []

    @model_validator(mode="after")
    def _ind(self):
        if (self.indicator is None) == (self.indicatorRef is None):
            raise ValueError("give exactly one of indicator and indicatorRef")
        for o in self.objectives:
            if self.budgetingMethod in ("Timeslices", "RatioTimeslices") and not o.timeSliceWindow:
                raise ValueError(f"{self.budgetingMethod} objectives need timeSliceWindow")
            if self.budgetingMethod == "RatioTimeslices" and o.timeSliceTarget is None:
                raise ValueError("RatioTimeslices objectives need timeSliceTarget")
        return self


class SLO(_M):
    apiVersion: Literal["openslo/v1"] = "openslo/v1"
    kind: Literal["SLO"] = "SLO"
    metadata: Metadata
    spec: SLOSpec


KINDS = {"SLO": SLO, "SLI": SLI, "AlertPolicy": AlertPolicy, "AlertCondition": AlertCondition}
KNOWN_ANNOTATIONS = {"rtanalytics/missing-slices", "rtanalytics/stale-after"}


class OpenSLOCatalog:
    """Every OpenSLO document in a folder, cross-references resolved."""

    def __init__(self, slos: dict[str, SLO], slis: dict[str, SLI], policies: dict[str, AlertPolicy],
                 conditions: dict[str, AlertCondition]):
        self.slos, self.slis, self.policies, self.conditions = slos, slis, policies, conditions

    def indicator(self, slo: SLO) -> SLISpec:
        if slo.spec.indicator is not None:
            return slo.spec.indicator.spec
        return self.slis[slo.spec.indicatorRef].spec

    def burn_conditions(self, slo: SLO) -> list[AlertCondition]:
        out = []
        for pname in slo.spec.alertPolicies:
            for c in self.policies[pname].spec.conditions:
                out.append(self.conditions[c.conditionRef] if isinstance(c, ConditionRef) else c)
        return out


def load_openslo(folder: Path | str) -> OpenSLOCatalog:
    """Load and validate every ``*.yaml`` in ``folder``; errors name the file, document and field."""
    folder = Path(folder)
    found: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise CatalogError(str(folder), None, "no OpenSLO files (*.yaml)")
    for f in files:
        try:
            docs = list(yaml.safe_load_all(f.read_text()))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise CatalogError(str(f), f"line {mark.line + 1}" if mark else None, f"not valid YAML: {e}") from None
        for i, d in enumerate(d for d in docs if d is not None):
            where = f"document {i + 1}"
            if not isinstance(d, dict):
                raise CatalogError(str(f), where, "an OpenSLO document must be a mapping")
            if d.get("apiVersion") != "openslo/v1":
                raise CatalogError(str(f), f"{where}.apiVersion", f"{d.get('apiVersion')!r} is not supported "
                                   "(use openslo/v1)")
            kind = d.get("kind")
            if kind not in KINDS:
                raise CatalogError(str(f), f"{where}.kind", f"unsupported kind {kind!r} (supported: "
                                   f"{', '.join(KINDS)})")
            try:
                obj = KINDS[kind].model_validate(d)
            except ValidationError as e:
                err = e.errors()[0]
                loc = ".".join(str(x) for x in err["loc"])
                msg = "unsupported field (rtanalytics does not implement it; remove it)" \
                    if err["type"] == "extra_forbidden" else err["msg"]
                raise CatalogError(str(f), f"{where} ({kind} {d.get('metadata', {}).get('name', '?')}).{loc}",
                                   msg) from None
            unknown = set(obj.metadata.annotations) - KNOWN_ANNOTATIONS
            unknown = {a for a in unknown if a.startswith("rtanalytics/")}
            if unknown:
                raise CatalogError(str(f), f"{where}.metadata.annotations", f"unknown {sorted(unknown)} "
                                   f"(known: {sorted(KNOWN_ANNOTATIONS)})")
            name = obj.metadata.name
            if name in found[kind]:
                raise CatalogError(str(f), f"{where}.metadata.name", f"duplicate {kind} name {name!r}")
            found[kind][name] = obj
    cat = OpenSLOCatalog(found["SLO"], found["SLI"], found["AlertPolicy"], found["AlertCondition"])
    for s in cat.slos.values():
        if s.spec.indicatorRef and s.spec.indicatorRef not in cat.slis:
            raise CatalogError(str(folder), f"SLO {s.metadata.name}.spec.indicatorRef",
                               f"no SLI named {s.spec.indicatorRef!r}")
        for p in s.spec.alertPolicies:
            if p not in cat.policies:
                raise CatalogError(str(folder), f"SLO {s.metadata.name}.spec.alertPolicies", f"no AlertPolicy {p!r}")
    for p in cat.policies.values():
        for c in p.spec.conditions:
            if isinstance(c, ConditionRef) and c.conditionRef not in cat.conditions:
                raise CatalogError(str(folder), f"AlertPolicy {p.metadata.name}.spec.conditions",
                                   f"no AlertCondition {c.conditionRef!r}")
    return cat
