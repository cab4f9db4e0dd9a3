"""``MetricQuery``: what a CloudWatch ``MetricDataQuery`` carries, as a small immutable value.

A query is either a metric (``namespace``, ``metric``, ``dimensions``, ``stat``, ``period``) or a metric-math
``expression`` over other queries' ids. Statistics use CloudWatch's names: ``SampleCount, Average, Sum,
Minimum, Maximum`` and every extended statistic: ``pNN``, trimmed mean ``tmNN`` / ``TM(a%:b%)`` / ``TM(a:b)``, winsorized
mean ``WM``, trimmed count ``TC``, trimmed sum ``TS``, percentile rank ``PR(a:b)`` and ``IQM`` (:class:`Statistic`).
See https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

SIMPLE_STATS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_STAT_ALIASES = {s.lower(): s for s in SIMPLE_STATS} | {"avg": "Average", "min": "Minimum", "max": "Maximum",
                                                        "count": "SampleCount", "mean": "Average"}
_NUMBER = r"\d{1,3}(?:\.\d{1,10})?|\d+(?:\.\d{1,10})?|\.\d{1,10}"
_SHORT_RE = re.compile(rf"^(p|tm|wm|tc|ts)({_NUMBER})$", re.IGNORECASE)
_RANGE_RE = re.compile(rf"^(tm|wm|tc|ts|pr)\(\s*(?:({_NUMBER})(%?))?\s*:\s*(?:({_NUMBER})(%?))?\s*\)$", re.IGNORECASE)
_ID_RE = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
STAT_HELP = ("SampleCount, Average, Sum, Minimum, Maximum, pNN (p95, p99.9), tmNN / wmNN / tcNN / tsNN (tm90), "
             "TM/WM/TC/TS(a%:b%) or (a:b) (TM(10%:90%), TC(:0.5)), PR(a:b) (PR(:300)) or IQM")


@dataclass(frozen=True)
class Statistic:
    """A CloudWatch statistic, parsed (User Guide, "CloudWatch statistics definitions").

    ``kind`` is ``simple`` (SampleCount, Average, Sum, Minimum, Maximum), ``p`` (percentile ``lo`` in 0–100),
    ``tm`` trimmed mean, ``wm`` winsorized mean, ``tc`` trimmed count, ``ts`` trimmed sum or ``pr`` percentile
    rank. A range's bounds ``lo``/``hi`` are percentages when ``percent`` (0–100; ``None`` for an open end: 0 or
    100), else values: then a datapoint counts when ``lo < value <= hi`` ("includes values equal to the higher
    boundary, but does not include values equal to the lower boundary"). ``tm99`` is ``TM(:99%)`` and IQM is
    ``TM(25%:75%)``.
    """

    kind: str
    lo: float | None = None
    hi: float | None = None
    percent: bool = True
    name: str = ""

    @property
    def is_percentile(self) -> bool:
        return self.kind == "p"

    @property
    def needs_raw(self) -> bool:
        """Percentiles and every trimmed / winsorized / rank statistic need raw datapoints (not statistic sets)."""
        return self.kind != "simple"

    def unit(self, metric_unit: str | None) -> str | None:
        """The statistic's unit: PR is a percentage, TC and SampleCount a count, the rest the metric's own."""
        if self.kind == "pr":
            return "Percent"
        if self.kind == "tc" or self.name == "SampleCount":
            return "Count"
        return metric_unit

    def fractions(self) -> tuple[float, float]:
        """A percent range as fractions of the distribution (an open end is 0 or 1)."""
        return ((self.lo or 0.0) / 100.0, (100.0 if self.hi is None else self.hi) / 100.0)


def _num_text(x: float) -> str:
    return f"{x:.10f}".rstrip("0").rstrip(".")


def parse_stat(stat: str) -> Statistic:
    """Parse a statistic as CloudWatch spells it (case aside), or raise ``ValueError`` naming what is accepted."""
    s = str(stat).strip()
    if s.lower() in _STAT_ALIASES:
        return Statistic("simple", name=_STAT_ALIASES[s.lower()])
    if s.upper() == "IQM":
        return Statistic("tm", 25.0, 75.0, True, "IQM")
    m = _SHORT_RE.fullmatch(s)
    if m:
        kind, num = m.group(1).lower(), float(m.group(2))
        if num > 100:
            raise ValueError(f"statistic {stat!r}: a percentile is at most 100")
        if kind == "p":
            return Statistic("p", num, None, True, f"p{_num_text(num)}")
        return Statistic(kind, None, num, True, f"{kind}{_num_text(num)}")
    m = _RANGE_RE.fullmatch(s)
    if m:
        kind, lo, lo_pct, hi, hi_pct = m.groups()
        kind = kind.lower()
        if lo is None and hi is None:
            raise ValueError(f"statistic {stat!r}: give at least one bound, e.g. {kind.upper()}(:95%)")
        pcts = {x for b, x in ((lo, lo_pct), (hi, hi_pct)) if b is not None}
        if len(pcts) != 1:
            raise ValueError(f"statistic {stat!r}: both bounds are percentages or both are values")
        percent = pcts == {"%"}
        if kind == "pr" and percent:
            raise ValueError(f"statistic {stat!r}: PR takes values, not percentages (PR(:300), PR(100:2000))")
        lo_v = None if lo is None else float(lo)
        hi_v = None if hi is None else float(hi)
        if percent and any(v is not None and v > 100 for v in (lo_v, hi_v)):
            raise ValueError(f"statistic {stat!r}: a percentage is at most 100")
        if lo_v is not None and hi_v is not None and lo_v >= hi_v:
            raise ValueError(f"statistic {stat!r}: the lower bound must be below the upper one")
        pct = "%" if percent else ""
        text = f"{kind.upper()}({'' if lo_v is None else _num_text(lo_v) + pct}:" \
               f"{'' if hi_v is None else _num_text(hi_v) + pct})"
        return Statistic(kind, lo_v, hi_v, percent, text)
    raise ValueError(f"unknown statistic {stat!r} (accepts {STAT_HELP})")


def normalize_stat(stat: str) -> str:
    """Return the CloudWatch spelling of a statistic, or raise ``ValueError`` naming what is accepted."""
    return parse_stat(stat).name


def percentile_of(stat: str) -> float | None:
    """``0.95`` for ``p95``; ``None`` for a statistic that is not a percentile."""
    st = parse_stat(stat)
    return st.lo / 100.0 if st.kind == "p" else None


def _dims(d) -> tuple[tuple[str, str], ...]:
    if d is None:
        return ()
    if isinstance(d, Mapping):
        items = d.items()
    else:
        items = []
        for x in d:
            if isinstance(x, Mapping):
                items.append((x["Name"], x["Value"]))
            else:
                items.append(tuple(x))
    return tuple(sorted((str(k), str(v)) for k, v in items))


@dataclass(frozen=True)
class MetricQuery:
    """One CloudWatch metric (or metric-math expression) at one statistic and period.

    ``dimensions`` may be given as a dict, a list of ``{"Name","Value"}`` or of pairs; it is stored sorted so that
    two queries for the same metric compare equal.
    """

    namespace: str = ""
    metric: str = ""
    dimensions: tuple[tuple[str, str], ...] = field(default=())
    stat: str = "Average"
    period: int = 300
    label: str = ""
    id: str = ""
    expression: str | None = None
    return_data: bool = True

    def __post_init__(self):
        object.__setattr__(self, "dimensions", _dims(self.dimensions))
        if self.expression is None:
            if not self.namespace or not self.metric:
                raise ValueError("a MetricQuery needs a namespace and a metric name (or an expression)")
            object.__setattr__(self, "stat", normalize_stat(self.stat))
        p = int(self.period)
        if not (p in (1, 5, 10, 20, 30) or (p > 0 and p % 60 == 0)):
            raise ValueError(f"period {self.period} s: CloudWatch accepts 1, 5, 10, 20, 30 or a multiple of 60")
        object.__setattr__(self, "period", p)
        if not self.id:
            object.__setattr__(self, "id", "m" + hashlib.sha1(self.identity().encode()).hexdigest()[:12])
        elif not _ID_RE.fullmatch(self.id):
            raise ValueError(f"query id {self.id!r}: must start with a lowercase letter, then letters, digits or _")
        if not self.label:
            object.__setattr__(self, "label", self.default_label())

    @property
    def dims(self) -> dict[str, str]:
        return dict(self.dimensions)

    def default_label(self) -> str:
        if self.expression is not None:
            return self.id
        dv = " ".join(v for _, v in self.dimensions)
        return f"{self.metric} {self.stat}" + (f" {dv}" if dv else "")

    def identity(self) -> str:
        """A canonical string for what data this query asks for (not its id or label): the cache key."""
        if self.expression is not None:
            return f"expr|{self.expression}|{self.period}"
        d = ",".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace}|{self.metric}|{d}|{self.stat}|{self.period}"

    def with_(self, **kw) -> "MetricQuery":
        if ("stat" in kw or "period" in kw) and "label" not in kw and self.label == self.default_label():
            kw["label"] = ""
        if "id" not in kw and any(k in kw for k in ("namespace", "metric", "dimensions", "stat", "period")):
            kw["id"] = ""
        return replace(self, **kw)

    def to_cloudwatch(self) -> dict[str, Any]:
        """The ``MetricDataQuery`` structure of GetMetricData."""
        if self.expression is not None:
            q = {"Id": self.id, "Expression": self.expression, "Period": self.period, "Label": self.label}
        else:
            q = {
                "Id": self.id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": self.namespace,
                        "MetricName": self.metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
                    },
                    "Period": self.period,
                    "Stat": self.stat,
                },
                "Label": self.label,
            }
        q["ReturnData"] = self.return_data
        return q

    @classmethod
    def from_cloudwatch(cls, q: Mapping[str, Any]) -> "MetricQuery":
        """Build from a ``MetricDataQuery`` dict (as in GetMetricData requests or a saved console query)."""
        if "Expression" in q:
            return cls(expression=q["Expression"], period=q.get("Period", 300), id=q.get("Id", ""),
                       label=q.get("Label", ""), return_data=q.get("ReturnData", True))
        ms = q["MetricStat"]
        m = ms["Metric"]
        return cls(namespace=m["Namespace"], metric=m["MetricName"], dimensions=m.get("Dimensions", []),
                   stat=ms["Stat"], period=ms["Period"], id=q.get("Id", ""), label=q.get("Label", ""),
                   return_data=q.get("ReturnData", True))


def unique_labels(queries: Iterable[MetricQuery]) -> list[MetricQuery]:
    """Return the queries with labels made unique (``label``, ``label (2)``, ...) so frame columns never collide."""
    seen: dict[str, int] = {}
    out = []
    for q in queries:
        n = seen.get(q.label, 0) + 1
        seen[q.label] = n
        out.append(q if n == 1 else replace(q, label=f"{q.label} ({n})"))
    return out


_EXPR_ID = re.compile(r"\b([a-z][a-zA-Z0-9_]*)\b")


def referenced_ids(expression: str, ids) -> set[str]:
    """The query ids (among ``ids``) a metric-math expression refers to."""
    return set(_EXPR_ID.findall(expression)) & set(ids)
