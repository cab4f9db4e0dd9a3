"""CloudWatch metric alarms: definitions in PutMetricAlarm's shape, and their evaluation over history.

Evaluation (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html): at the end
of every period the alarm looks at the most recent ``EvaluationPeriods`` (N) datapoints and goes to ALARM when
at least ``DatapointsToAlarm`` (M) of them breach the threshold. Missing datapoints follow
``TreatMissingData``: ``breaching`` and ``notBreaching`` count them as such; ``ignore`` keeps the current state
when the whole range is missing; ``missing`` (the default) goes to INSUFFICIENT_DATA then. Alarms on
``AWS/DynamoDB`` metrics always ignore missing data, whatever the setting.
"""

from __future__ import annotations

import shlex
import string
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .catalog import catalog, read_yaml
from .catalog.loader import validate
from .errors import CatalogError
from .frames import ALARM_HISTORY_COLUMNS
from .metricmath import MathError, check, referenced, rule_children
from .metricmath import evaluate as evaluate_math
from .queries import MetricQuery, normalize_stat

OPERATORS = {
    "GreaterThanThreshold": np.greater,
    "GreaterThanOrEqualToThreshold": np.greater_equal,
    "LessThanThreshold": np.less,
    "LessThanOrEqualToThreshold": np.less_equal,
}
_OP_WORDS = {"GreaterThanThreshold": "greater than", "GreaterThanOrEqualToThreshold": "greater than or equal to",
             "LessThanThreshold": "less than", "LessThanOrEqualToThreshold": "less than or equal to",
             "LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
             "LessThanLowerThreshold": "less than the lower band", "GreaterThanUpperThreshold":
             "greater than the upper band"}
BAND_OPERATORS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold")


class Alarm(BaseModel):
    """A metric alarm with PutMetricAlarm's field names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    AlarmName: str
    AlarmDescription: str = ""
    Namespace: str | None = None
    MetricName: str | None = None
    Dimensions: list[dict[str, str]] = []
    Statistic: str | None = None
    ExtendedStatistic: str | None = None
    #: a metric-math alarm: PutMetricAlarm's ``Metrics`` (MetricDataQuery items: ``MetricStat`` inputs, each at its
    #: own period and statistic, and ``Expression`` items; exactly one with ``ReturnData`` true, the alarm's series)
    Metrics: list[dict] | None = None
    Period: int
    EvaluationPeriods: int = Field(ge=1)
    DatapointsToAlarm: int | None = Field(None, ge=1)
    Threshold: float | None = None
    ThresholdMetricId: str | None = None
    ComparisonOperator: Literal["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
                                "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold",
                                "LessThanLowerThreshold", "GreaterThanUpperThreshold"]
    TreatMissingData: Literal["breaching", "notBreaching", "ignore", "missing"] = "missing"
    EvaluateLowSampleCountPercentile: Literal["evaluate", "ignore"] | None = None
    ActionsEnabled: bool = True
    AlarmActions: list[str] = []
    OKActions: list[str] = []
    InsufficientDataActions: list[str] = []
    Unit: str | None = None
    Tags: list[dict[str, str]] = []

    @field_validator("Statistic")
    @classmethod
    def _stat(cls, v):
        if v is not None and v not in ("SampleCount", "Average", "Sum", "Minimum", "Maximum"):
            raise ValueError("Statistic must be SampleCount, Average, Sum, Minimum or Maximum "
                             "(percentiles go in ExtendedStatistic)")
        return v

    @field_validator("ExtendedStatistic")
    @classmethod
    def _ext(cls, v):
        if v is None:
            return None
        v = normalize_stat(v)
        if v in ("SampleCount", "Average", "Sum", "Minimum", "Maximum"):
            raise ValueError(f"ExtendedStatistic {v!r} is a simple statistic: it goes in Statistic")
        return v

    @field_validator("Period")
    @classmethod
    def _period(cls, v):
        if not (v in (10, 20, 30) or (v > 0 and v % 60 == 0)):
            raise ValueError("Period must be 10, 20, 30 or a multiple of 60 seconds")
        return v

    @model_validator(mode="before")
    @classmethod
    def _math_period(cls, d):
        """A metric-math alarm's period is its returned series' (the expression's ``Period``, else its inputs'
        longest); PutMetricAlarm takes no top-level Period then."""
        if isinstance(d, dict) and d.get("Metrics") == [] and d.get("MetricName"):
            d = {k: v for k, v in d.items() if k != "Metrics"}  # DescribeAlarms lists "Metrics": [] on every alarm
        if isinstance(d, dict) and d.get("Metrics") and d.get("Period") is None:
            ms = d["Metrics"] if isinstance(d["Metrics"], list) else []
            ret = [m for m in ms if isinstance(m, dict) and m.get("ReturnData", True)]
            periods = [m.get("Period") for m in ret if m.get("Period")] or [
                (m.get("MetricStat") or {}).get("Period") for m in ms if isinstance(m, dict)
                and (m.get("MetricStat") or {}).get("Period")]
            if periods:
                d = {**d, "Period": max(int(x) for x in periods)}
        return d

    @model_validator(mode="after")
    def _rules(self):
        if self.Metrics is not None:
            self._check_math()
            return self
        if not self.Namespace or not self.MetricName:
            raise ValueError("give Namespace and MetricName (or Metrics, for a metric-math alarm)")
        if (self.Statistic is None) == (self.ExtendedStatistic is None):
            raise ValueError("give exactly one of Statistic and ExtendedStatistic")
        if self.DatapointsToAlarm is not None and self.DatapointsToAlarm > self.EvaluationPeriods:
            raise ValueError("DatapointsToAlarm cannot exceed EvaluationPeriods")
        if self.Period * self.EvaluationPeriods > 86400 * 7:
            raise ValueError("Period x EvaluationPeriods cannot exceed one week (604,800 s)")
        band = self.ComparisonOperator in BAND_OPERATORS
        if band and self.Threshold is not None:
            raise ValueError(f"{self.ComparisonOperator} compares against an anomaly band (ThresholdMetricId), "
                             "not a Threshold")
        if not band and self.Threshold is None:
            raise ValueError(f"{self.ComparisonOperator} needs a Threshold")
        return self

    def _check_math(self):
        given = [k for k in ("Namespace", "MetricName", "Statistic", "ExtendedStatistic") if getattr(self, k)]
        if given or self.Dimensions:
            raise ValueError(f"a metric-math alarm (Metrics) takes no {', '.join(given) or 'Dimensions'}: each "
                             "input's metric, statistic and period go in its MetricStat")
        ms = self.Metrics
        if not ms:
            raise ValueError("Metrics is empty: give the inputs (MetricStat) and the expression (Expression)")
        ids = []
        for i, m in enumerate(ms):
            if not isinstance(m, dict) or not m.get("Id"):
                raise ValueError(f"Metrics.{i}: every item needs an Id")
            if ("MetricStat" in m) == ("Expression" in m):
                raise ValueError(f"Metrics.{i} ({m['Id']}): give exactly one of MetricStat and Expression")
            if "MetricStat" in m:
                st = m["MetricStat"]
                if not isinstance(st, dict) or not (st.get("Metric") or {}).get("MetricName") or not st.get(
                        "Stat") or not st.get("Period"):
                    raise ValueError(f"Metrics.{i} ({m['Id']}): MetricStat needs Metric (Namespace, MetricName), "
                                     "Stat and Period")
            ids.append(m["Id"])
        if len(set(ids)) != len(ids):
            raise ValueError(f"Metrics: ids repeat ({', '.join(sorted({i for i in ids if ids.count(i) > 1}))})")
        ret = [m for m in ms if m.get("ReturnData", True)]
        if len(ret) != 1:
            raise ValueError(f"Metrics: exactly one item returns data (ReturnData true): {len(ret)} do — set "
                             "ReturnData false on the inputs")
        for m in ms:
            if "Expression" in m:
                try:
                    check(m["Expression"], f"Metrics {m['Id']} expression")
                    unknown = referenced(m["Expression"]) - set(ids) - {"REPEAT", "LINEAR", "repeat", "linear"}
                except MathError as e:
                    raise ValueError(str(e)) from None
                if unknown:
                    raise ValueError(f"Metrics {m['Id']}: the expression names {', '.join(sorted(unknown))}, "
                                     f"which no item has as Id ({', '.join(ids)})")

    @property
    def is_math(self) -> bool:
        return self.Metrics is not None

    def input_queries(self) -> list[MetricQuery]:
        """The metric inputs of a metric-math alarm, each at its own statistic and period (labels
        ``ALARM/ID``); a single-metric alarm's one query otherwise."""
        if not self.is_math:
            return [self.query()]
        out = []
        for m in self.Metrics:
            if "MetricStat" in m:
                st, met = m["MetricStat"], m["MetricStat"]["Metric"]
                out.append(MetricQuery(met.get("Namespace", ""), met["MetricName"], met.get("Dimensions", []),
                                       stat=st["Stat"], period=int(st["Period"]),
                                       label=f"{self.AlarmName}/{m['Id']}"))
        return out

    def math_series(self, frame: pd.DataFrame, index: pd.DatetimeIndex) -> pd.Series:
        """The alarm's series on ``index`` (its period grid) from its inputs' columns in ``frame``: every
        expression evaluated in order (an expression may use another's result), the returned one kept."""
        series, periods, metric_ids = {}, {}, []
        for m in self.Metrics:
            if "MetricStat" in m:
                col = frame[f"{self.AlarmName}/{m['Id']}"] if f"{self.AlarmName}/{m['Id']}" in frame else \
                    pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))
                p = int(m["MetricStat"]["Period"])
                # an input coarser than the alarm's period holds its value through its own period
                s = col.reindex(index, method="ffill", tolerance=pd.Timedelta(seconds=p - 1)) if p > self.Period \
                    else col.reindex(index)
                series[m["Id"]], periods[m["Id"]] = s.astype("float64"), p
                metric_ids.append(m["Id"])
        pending = [m for m in self.Metrics if "Expression" in m]
        for _ in range(len(pending)):  # expressions may refer to each other, in any order
            for m in list(pending):
                if referenced(m["Expression"]) <= set(series) | {"REPEAT", "LINEAR", "repeat", "linear"}:
                    series[m["Id"]] = evaluate_math(m["Expression"], series, periods, metric_ids, index=index,
                                               what=f"alarm {self.AlarmName}: {m['Id']}")
                    periods[m["Id"]] = int(m.get("Period") or self.Period)
                    pending.remove(m)
        if pending:
            raise ValueError(f"alarm {self.AlarmName}: expressions {', '.join(m['Id'] for m in pending)} refer "
                             "to each other in a circle")
        ret = next(m for m in self.Metrics if m.get("ReturnData", True))
        return series[ret["Id"]].rename(self.AlarmName)

    @property
    def m(self) -> int:
        return self.DatapointsToAlarm or self.EvaluationPeriods

    @property
    def stat(self) -> str:
        """The statistic (``expression`` for a metric-math alarm: each input has its own)."""
        return self.Statistic or self.ExtendedStatistic or "expression"

    @property
    def effective_treat_missing(self) -> str:
        """What CloudWatch actually does: AWS/DynamoDB alarms always ignore missing data."""
        return "ignore" if self.Namespace == "AWS/DynamoDB" else self.TreatMissingData

    @classmethod
    def from_aws(cls, d: dict) -> "Alarm":
        """From a DescribeAlarms ``MetricAlarms`` item or a PutMetricAlarm request (state and ARNs dropped);
        metric-math alarms (``Metrics``) included."""
        keep = {k: v for k, v in d.items() if k in cls.model_fields and v is not None}
        return cls.model_validate(keep)

    @classmethod
    def from_cli_args(cls, args: list[str] | str) -> "Alarm":
        """From ``aws cloudwatch put-metric-alarm`` arguments (``--alarm-name X --threshold 10 ...``)."""
        toks = shlex.split(args) if isinstance(args, str) else list(args)
        toks = [t for t in toks if t not in ("aws", "cloudwatch", "put-metric-alarm", "\\")]
        d: dict = {}
        i = 0
        while i < len(toks):
            t = toks[i]
            if not t.startswith("--"):
                raise ValueError(f"unexpected argument {t!r}")
            key = "".join(w.capitalize() for w in t[2:].split("-"))
            key = {"OkActions": "OKActions"}.get(key, key)
            vals = []
            i += 1
            while i < len(toks) and not toks[i].startswith("--"):
                vals.append(toks[i])
                i += 1
            if key == "Dimensions":
                d[key] = [dict(kv.split("=", 1) for kv in v.split(",")) for v in vals]
            elif key == "Tags":
                d[key] = [dict(kv.split("=", 1) for kv in v.split(",")) for v in vals]
            elif key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
                d[key] = vals
            else:
                d[key] = vals[0] if vals else True
        return cls.model_validate(d)

    def query(self) -> MetricQuery:
        """The alarm's metric at its statistic and period (a metric-math alarm has several: input_queries)."""
        if self.is_math:
            raise ValueError(f"alarm {self.AlarmName} is metric math: its inputs are input_queries() and its "
                             "series math_series(frame, index)")
        return MetricQuery(self.Namespace, self.MetricName, self.Dimensions, stat=self.stat, period=self.Period,
                           label=self.AlarmName)


class CompositeAlarm(BaseModel):
    """A composite alarm (PutCompositeAlarm's fields): a rule over other alarms' states."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    AlarmName: str
    AlarmRule: str
    AlarmDescription: str = ""
    ActionsEnabled: bool = True
    AlarmActions: list[str] = []
    OKActions: list[str] = []
    InsufficientDataActions: list[str] = []
    ActionsSuppressor: str | None = None
    ActionsSuppressorWaitPeriod: int | None = None
    ActionsSuppressorExtensionPeriod: int | None = None

    @property
    def children(self) -> list[str]:
        """Alarm names the rule refers to (``ALARM("name")``, ``OK(name)``, ``INSUFFICIENT_DATA(...)``; an ARN's
        last part), in order of first mention."""
        return rule_children(self.AlarmRule)


def alarms_from_describe(resp: dict) -> tuple[list["Alarm"], list[CompositeAlarm], list[str]]:
    """DescribeAlarms output (``MetricAlarms``/``CompositeAlarms``, or ``metric``/``composite`` lists) into
    models; alarms the evaluator cannot model (metric math) are listed by name with the reason."""
    metric = resp.get("MetricAlarms", resp.get("metric", []))
    composite = resp.get("CompositeAlarms", resp.get("composite", []))
    ok, skipped = [], []
    for d in metric:
        try:
            ok.append(Alarm.from_aws(d))
        except ValueError as e:
            skipped.append(f"{d.get('AlarmName')}: {e}")
    return ok, [CompositeAlarm.model_validate(c) for c in composite], skipped


def load_alarms(path=None, environment: str = "demo", errors: list | None = None) -> list[Alarm]:
    """The alarm catalog (``parameters/alarms.yaml``), ``${...}`` filled from the environment's resources.

    ``errors``: a list to collect every bad alarm's :class:`CatalogError` in (the alarm is left out) instead of
    raising at the first (``rtanalytics check`` lists them all)."""
    cat = catalog()
    path = path or cat.root / "alarms.yaml"
    data = read_yaml(path)
    subs = cat.environment(environment).resources.substitutions()
    out = []
    for i, a in enumerate((data or {}).get("alarms", [])):
        if isinstance(a, dict):
            a = dict(a)
            a["Dimensions"] = [{"Name": d.get("Name"), "Value": string.Template(str(d.get("Value"))).safe_substitute(
                subs)} for d in a.get("Dimensions", [])]
        try:
            out.append(validate(Alarm, a, path, prefix=f"alarms.{i}"))
        except CatalogError as e:
            if errors is None:
                raise
            errors.append(e)
    return out


def seed_names(path=None) -> dict[str, str]:
    """The seed's alarm names and the catalog alarm implementing each (``seed_names`` in alarms.yaml); a name
    that points at no alarm is a :class:`CatalogError`."""
    cat = catalog()
    path = path or cat.root / "alarms.yaml"
    data = read_yaml(path) or {}
    mapping = data.get("seed_names") or {}
    names = {a.get("AlarmName") for a in data.get("alarms", []) if isinstance(a, dict)}
    for seed, name in mapping.items():
        if name not in names:
            raise CatalogError(str(path), f"seed_names.{seed}", f"no alarm named {name!r} in this file")
    return dict(mapping)


def evaluation_range(alarm: "Alarm") -> int:
    """How many recent datapoints CloudWatch retrieves for an evaluation: ``EvaluationPeriods + 2``, as in the
    AWS documentation's examples (3 evaluation periods, evaluation range 5)."""
    return alarm.EvaluationPeriods + 2


def low_sample_threshold(stat: str) -> float | None:
    """Samples below which ``EvaluateLowSampleCountPercentile`` applies: 10/(1-p) for p in [0.5, 1), 10/p below."""
    if not stat.startswith("p"):
        return None
    p = float(stat[1:]) / 100.0
    if p >= 1.0 or p <= 0.0:
        return None
    return 10.0 / (1.0 - p) if p >= 0.5 else 10.0 / p


def breaching(alarm: "Alarm", values: np.ndarray, band: pd.DataFrame | None = None) -> np.ndarray:
    """Which datapoints breach (missing ones never do; the missing-data rules decide about them)."""
    present = ~np.isnan(values)
    op = alarm.ComparisonOperator
    with np.errstate(invalid="ignore"):
        if op in BAND_OPERATORS:
            if band is None:
                raise ValueError(f"alarm {alarm.AlarmName}: {op} needs the band series (lower, upper)")
            lo = band["lower"].to_numpy(dtype=float)
            hi = band["upper"].to_numpy(dtype=float)
            below, above = values < lo, values > hi
            br = below | above if op == "LessThanLowerOrGreaterThanUpperThreshold" else (
                below if op == "LessThanLowerThreshold" else above)
        else:
            br = OPERATORS[op](values, alarm.Threshold)
    return br & present


OK, INSUFFICIENT, ALARM, KEEP = 0, 1, 2, -1
STATE_NAMES = np.array(["OK", "INSUFFICIENT_DATA", "ALARM"])


def evaluate_states(alarm: "Alarm", values: np.ndarray, band: pd.DataFrame | None = None,
                    sample_counts: np.ndarray | None = None, initial_state: int = INSUFFICIENT,
                    prep: "SeriesPrep | None" = None) -> np.ndarray:
    """The alarm's state code after each datapoint (0 OK, 1 INSUFFICIENT_DATA, 2 ALARM), vectorised.

    At each evaluation CloudWatch retrieves the evaluation range R (``EvaluationPeriods + 2``) of recent
    datapoints (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
    "How alarm state is evaluated when data is missing"):

    1. If at least N (``EvaluationPeriods``) of them are real, the N most recent real ones decide: ALARM when at
       least M (``DatapointsToAlarm``) breach, else OK. How missing data is treated does not matter.
    2. Otherwise every real datapoint counts, and N minus their number are filled by ``TreatMissingData``:
       ``breaching`` adds them as breaching, ``notBreaching`` as not breaching; ``missing`` and ``ignore`` add
       nothing, and with no real datapoint at all go to INSUFFICIENT_DATA or keep the current state.
    3. "Avoiding premature transitions to alarm state": with ``missing`` (``ignore`` keeps the state instead)
       and fewer than M breaching, the alarm still goes to ALARM when no real datapoint in the range is
       non-breaching and the oldest breaching datapoint in the evaluation range is at least M datapoints old.
       This follows the missing-data table of the CloudWatch User Guide as published before its 2023 revision
       (section "How alarm state is evaluated when data is missing"), whose rows for 3 of 3 include
       ``X - - - -`` (oldest first): ALARM with ``missing``, the current state with ``ignore``, ALARM with
       ``breaching``, OK with ``notBreaching`` — the breaching datapoint counts while it is in the range.

    Alarms on AWS/DynamoDB metrics always ignore missing data. With ``EvaluateLowSampleCountPercentile:
    ignore`` a percentile datapoint from too few samples (see :func:`low_sample_threshold`) keeps the state.
    """
    a = alarm
    n, m = a.EvaluationPeriods, a.m
    r = evaluation_range(a)
    p = prep if prep is not None and prep.matches(values) else SeriesPrep(values)
    size = p.size
    if size == 0:
        return np.zeros(0, dtype=np.int8)
    real = p.real
    br = breaching(a, p.v, band)
    # breaching datapoints counted over the evaluation range (positions before the series start are missing);
    # what depends on the series alone (real counts, positions of real datapoints) comes from ``p``, shared by
    # every alarm on the same series
    c_br = np.zeros(size + 1, dtype=np.int32)
    np.cumsum(br, dtype=np.int32, out=c_br[1:])
    br_in = c_br[1:] - p.lagged(c_br, r)
    real_in = p.real_in(r)
    # case 1: breaching among the N most recent real datapoints
    br_last_n = c_br[1:] - c_br[p.start_of_last(n)]
    state = np.where(br_last_n >= m, np.int8(ALARM), np.int8(OK))
    few = real_in < n
    if few.any():
        mode = a.effective_treat_missing
        if mode == "breaching":
            few_state = np.where(br_in + (n - real_in) >= m, np.int8(ALARM), np.int8(OK))
        elif mode == "notBreaching":
            few_state = np.where(br_in >= m, np.int8(ALARM), np.int8(OK))
        else:
            # premature ALARM: no non-breaching real datapoint in the evaluation range, and the oldest real (hence
            # breaching) datapoint anywhere in the range is at least M datapoints old — judged on the whole range
            # R, like every other rule here, so a breaching point that ages past the last N positions with nothing
            # newer keeps the alarm in ALARM until it leaves the range (the documented row "X - - - -", 3 of 3)
            premature = (real_in == br_in) & p.oldest_age_at_least(r, m)
            few_state = np.where(br_in >= m, np.int8(ALARM),
                                 np.where(premature, np.int8(ALARM if mode == "missing" else KEEP), np.int8(OK)))
            few_state[real_in == 0] = INSUFFICIENT if mode == "missing" else KEEP
        np.copyto(state, few_state, where=few)
    if sample_counts is not None and a.EvaluateLowSampleCountPercentile == "ignore":
        thr = low_sample_threshold(a.stat)
        if thr is not None:
            low = np.asarray(sample_counts, dtype=float) < thr
            state[low & real] = KEEP
    keep = state == KEEP
    if keep.any():  # "keep the current state": the last decided state carried forward, whole arrays
        pos = np.where(keep, -1, np.arange(size))
        np.maximum.accumulate(pos, out=pos)
        filled = state[np.maximum(pos, 0)]
        filled[pos < 0] = initial_state
        state = filled
    return state.astype(np.int8, copy=False)


class SeriesPrep:
    """What the alarm rules need from a series regardless of the alarm (which datapoints are real, their running
    count and positions, the next real datapoint), computed once and shared by every alarm evaluated on it
    (:func:`evaluate_many`); lagged and per-N/R arrays are cached as they are first asked for."""

    def __init__(self, values):
        self.v = np.asarray(values, dtype="float64")
        self.size = self.v.size
        self.real = ~np.isnan(self.v)
        self.c_real = np.zeros(self.size + 1, dtype=np.int32)
        np.cumsum(self.real, dtype=np.int32, out=self.c_real[1:])
        self.real_pos = np.flatnonzero(self.real).astype(np.int32)
        self._cache: dict = {}
        self._src = values

    def matches(self, values) -> bool:
        return values is self._src or values is self.v

    def lagged(self, c: np.ndarray, r: int) -> np.ndarray:
        """``c[max(i + 1 - r, 0)]`` for every position i (the running count just before the range)."""
        out = np.zeros(self.size, dtype=c.dtype)
        if self.size > r:
            out[r:] = c[1:self.size - r + 1]
        return out

    def real_in(self, r: int) -> np.ndarray:
        key = ("real_in", r)
        if key not in self._cache:
            self._cache[key] = self.c_real[1:] - self.lagged(self.c_real, r)
        return self._cache[key]

    def start_of_last(self, n: int) -> np.ndarray:
        """Index into the running counts where the N most recent real datapoints begin."""
        key = ("start", n)
        if key not in self._cache:
            if self.real_pos.size:
                k = self.c_real[1:]
                self._cache[key] = self.real_pos[np.clip(k - n, 0, self.real_pos.size - 1)]
            else:
                self._cache[key] = np.zeros(self.size, dtype=np.int32)
        return self._cache[key]

    def oldest_age_at_least(self, r: int, m: int) -> np.ndarray:
        """Where the oldest real datapoint in the range of ``r`` is at least ``m`` datapoints old (age + 1 >= m)."""
        key = ("age", r, m)
        if key not in self._cache:
            akey = ("age_of_oldest", r)
            if akey not in self._cache:
                size = self.size
                nxt = np.full(size + 1, size, dtype=np.int64)
                nxt[:size] = np.where(self.real, np.arange(size), size)
                nxt = np.minimum.accumulate(nxt[::-1])[::-1]
                idx = np.arange(1, size + 1)
                first = nxt[np.maximum(idx - r, 0)]
                age = np.where(first <= idx - 1, (idx - 1) - first, -1)  # -1: no real datapoint in the range
                self._cache[akey] = age
            self._cache[key] = self._cache[akey] + 1 >= m
        return self._cache[key]


def evaluate_many(alarms: Sequence["Alarm"], values: np.ndarray, initial_state: int = INSUFFICIENT) -> list:
    """:func:`evaluate_states` for several alarms on one series, sharing its preparation."""
    prep = SeriesPrep(values)
    return [evaluate_states(a, prep.v, prep=prep, initial_state=initial_state) for a in alarms]


def evaluate_once(alarm: "Alarm", window: Sequence[float], current: str = "INSUFFICIENT_DATA",
                  band: Sequence[tuple[float, float]] | None = None) -> str:
    """One evaluation, written as the AWS documentation states the rules (see :func:`evaluate_states`), for
    the datapoints of the evaluation range (oldest first, NaN = missing). This is the per-datapoint reference
    the vectorised evaluator is checked against; it is not used on hot paths."""
    n, m = alarm.EvaluationPeriods, alarm.m
    vals = list(window)[-evaluation_range(alarm):]
    bands = list(band)[-len(vals):] if band is not None else None
    pts = []  # (age, breaching) for real datapoints, newest first
    for age, j in enumerate(range(len(vals) - 1, -1, -1)):
        v = vals[j]
        if v is None or v != v:
            continue
        if alarm.ComparisonOperator in BAND_OPERATORS:
            lo_, hi_ = bands[j]
            b = {"LessThanLowerOrGreaterThanUpperThreshold": v < lo_ or v > hi_, "LessThanLowerThreshold": v < lo_,
                 "GreaterThanUpperThreshold": v > hi_}[alarm.ComparisonOperator]
        else:
            b = bool(OPERATORS[alarm.ComparisonOperator](v, alarm.Threshold))
        pts.append((age, b))
    if len(pts) >= n:
        return "ALARM" if sum(b for _, b in pts[:n]) >= m else "OK"
    breaching_n = sum(b for _, b in pts)
    mode = alarm.effective_treat_missing
    if mode == "breaching":
        return "ALARM" if breaching_n + (n - len(pts)) >= m else "OK"
    if mode == "notBreaching":
        return "ALARM" if breaching_n >= m else "OK"
    if not pts:
        return "INSUFFICIENT_DATA" if mode == "missing" else current
    if breaching_n >= m:
        return "ALARM"
    ages = [age for age, _ in pts]  # every real datapoint of the evaluation range (see evaluate_states, rule 3)
    if all(b for _, b in pts) and ages and max(ages) + 1 >= m:
        return "ALARM" if mode == "missing" else current
    return "OK"


def evaluate_loop(alarm: "Alarm", values: Sequence[float], initial_state: str = "INSUFFICIENT_DATA") -> list[str]:
    """:func:`evaluate_once` at every datapoint, in a Python loop: the reference implementation."""
    r = evaluation_range(alarm)
    state = initial_state
    out = []
    vals = list(values)
    for i in range(len(vals)):
        window = [float("nan")] * max(0, r - (i + 1)) + vals[max(0, i + 1 - r): i + 1]
        state = evaluate_once(alarm, window, state)
        out.append(state)
    return out


def evaluate(alarm: "Alarm | dict", series: pd.Series, band: pd.DataFrame | None = None,
             sample_counts: pd.Series | None = None, initial_state: str = "INSUFFICIENT_DATA") -> "AlarmEvaluation":
    """Replay ``alarm`` over ``series`` (its statistic per period, NaN = missing, indexed by period start).

    ``alarm`` may be an :class:`Alarm` or a plain dict of PutMetricAlarm fields. Returns an
    :class:`AlarmEvaluation`: the per-evaluation states, the state timeline (one row per change, with the
    reason as CloudWatch words it) and the transitions that fire actions.
    """
    a = alarm if isinstance(alarm, Alarm) else Alarm.model_validate(alarm)
    codes = evaluate_states(a, series.to_numpy(dtype="float64"), band,
                            None if sample_counts is None else sample_counts.to_numpy(dtype=float),
                            {"OK": OK, "INSUFFICIENT_DATA": INSUFFICIENT, "ALARM": ALARM}[initial_state])
    return AlarmEvaluation(a, series, codes, initial_state)


class AlarmEvaluation:
    """What an alarm did over a history: ``states`` per evaluation, ``timeline`` of changes, ``transitions``."""

    def __init__(self, alarm: "Alarm", series: pd.Series, codes: np.ndarray, initial_state: str):
        self.alarm = alarm
        self.series = series
        self.codes = codes
        self.initial_state = initial_state
        # CloudWatch evaluates once the period has ended: the state applies from the end of the newest period
        self.eval_times = series.index + pd.Timedelta(seconds=alarm.Period)

    @property
    def states(self) -> pd.DataFrame:
        return pd.DataFrame({"timestamp": self.eval_times, "state": STATE_NAMES[self.codes],
                             "value": self.series.to_numpy()})

    @property
    def timeline(self) -> pd.DataFrame:
        """``timestamp, alarm, from_state, to_state, reason``: every state change (the first evaluation included
        when it leaves the initial state)."""
        init = {"OK": OK, "INSUFFICIENT_DATA": INSUFFICIENT, "ALARM": ALARM}[self.initial_state]
        prev = np.r_[init, self.codes[:-1]]
        ch = np.flatnonzero(self.codes != prev)
        rows = [{"timestamp": self.eval_times[i], "alarm": self.alarm.AlarmName, "from_state": STATE_NAMES[prev[i]],
                 "to_state": STATE_NAMES[self.codes[i]], "reason": reason_at(self.alarm, self.series, i,
                                                                              self.codes[i], prev[i])}
                for i in ch]
        df = pd.DataFrame(rows, columns=ALARM_HISTORY_COLUMNS)
        df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
        return df

    @property
    def transitions(self) -> pd.DataFrame:
        """State changes with the actions they fire (``AlarmActions`` on ALARM, ``OKActions`` on OK,
        ``InsufficientDataActions`` on INSUFFICIENT_DATA; nothing when ``ActionsEnabled`` is false)."""
        t = self.timeline
        a = self.alarm
        acts = {"ALARM": a.AlarmActions, "OK": a.OKActions, "INSUFFICIENT_DATA": a.InsufficientDataActions}
        t["actions"] = [list(acts[s]) if a.ActionsEnabled else [] for s in t["to_state"]]
        return t

    def time_in_state(self) -> pd.Series:
        """Minutes spent in each state."""
        return pd.Series(STATE_NAMES[self.codes]).value_counts() * self.alarm.Period / 60.0


def reason_at(a: "Alarm", series: pd.Series, i: int, code: int, prev: int) -> str:
    """The state reason as CloudWatch writes it, e.g. ``Threshold Crossed: 2 out of the last 3 datapoints
    [41.0 (11/11/26 18:10:00), 33.0 (11/11/26 18:05:00)] were greater than the threshold (10.0) (minimum 2
    datapoints for OK -> ALARM transition).``"""
    if code == INSUFFICIENT:
        return "Insufficient Data: no datapoints were received for the evaluation range."
    lo = max(0, i - a.EvaluationPeriods + 1)
    vals = series.iloc[lo:i + 1][::-1]
    arr = vals.to_numpy(dtype=float)
    br = breaching(a, arr) if a.ComparisonOperator not in BAND_OPERATORS else ~np.isnan(arr)
    shown = [(v, t) for (t, v), b in zip(vals.items(), br) if (b if code == ALARM else not b) and not np.isnan(v)]
    pts = ", ".join(f"{v:.1f} ({t:%d/%m/%y %H:%M:%S})" for v, t in shown)
    word = _OP_WORDS[a.ComparisonOperator]
    if code == OK:
        word = "not " + word
    n_shown = len(shown)
    thr = f" ({a.Threshold:.1f})" if a.Threshold is not None else ""
    return (f"Threshold Crossed: {n_shown} out of the last {a.EvaluationPeriods} datapoints [{pts}] "
            f"{'was' if n_shown == 1 else 'were'} {word} the threshold{thr} (minimum {a.m} "
            f"datapoint{'s' if a.m != 1 else ''} for {STATE_NAMES[prev]} -> {STATE_NAMES[code]} transition).")
