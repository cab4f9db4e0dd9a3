"""CloudWatch metric alarms: definitions in PutMetricAlarm's shape, and their evaluation over history.

Evaluation (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html): at the end
of every period the alarm looks at the most recent ``EvaluationPeriods`` (N) datapoints and goes to ALARM when
at least ``DatapointsToAlarm`` (M) of them breach the threshold. Missing datapoints follow
``TreatMissingData``: ``breaching`` and ``notBreaching`` count them as such; ``ignore`` keeps the current state
when the whole range is missing; ``missing`` (the default) goes to INSUFFICIENT_DATA then. Alarms on
``AWS/DynamoDB`` metrics always ignore missing data, whatever the setting.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .catalog import catalog, read_yaml
from .catalog.loader import validate
from .frames import ALARM_HISTORY_COLUMNS, empty_alarm_history
from .queries import MetricQuery, normalize_stat
from .timewindow import TimeWindow

OPERATORS = {
    "GreaterThanThreshold": np.greater,
    "GreaterThanOrEqualToThreshold": np.greater_equal,
    "LessThanThreshold": np.less,
    "LessThanOrEqualToThreshold": np.less_equal,
}
_OP_WORDS = {"GreaterThanThreshold": "greater than", "GreaterThanOrEqualToThreshold": "greater than or equal to",
             "LessThanThreshold": "less than", "LessThanOrEqualToThreshold": "less than or equal to"}


class Alarm(BaseModel):
    """A metric alarm with PutMetricAlarm's field names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    AlarmName: str
    AlarmDescription: str = ""
    Namespace: str
    MetricName: str
    Dimensions: list[dict[str, str]] = []
    Statistic: str | None = None
    ExtendedStatistic: str | None = None
    Period: int
    EvaluationPeriods: int = Field(ge=1)
    DatapointsToAlarm: int | None = Field(None, ge=1)
    Threshold: float
    ComparisonOperator: Literal["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
                                "LessThanOrEqualToThreshold"]
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
        return None if v is None else normalize_stat(v)

    @field_validator("Period")
    @classmethod
    def _period(cls, v):
        if not (v in (10, 30) or (v > 0 and v % 60 == 0)):
            raise ValueError("Period must be 10, 30 or a multiple of 60 seconds")
        return v

    @model_validator(mode="after")
    def _rules(self):
        if (self.Statistic is None) == (self.ExtendedStatistic is None):
            raise ValueError("give exactly one of Statistic and ExtendedStatistic")
        if self.DatapointsToAlarm is not None and self.DatapointsToAlarm > self.EvaluationPeriods:
            raise ValueError("DatapointsToAlarm cannot exceed EvaluationPeriods")
        if self.Period * self.EvaluationPeriods > 86400 * 7:
            raise ValueError("Period x EvaluationPeriods cannot exceed one week (604,800 s)")
        return self

    @property
    def m(self) -> int:
        return self.DatapointsToAlarm or self.EvaluationPeriods

    @property
    def stat(self) -> str:
        return self.Statistic or self.ExtendedStatistic

    @property
    def effective_treat_missing(self) -> str:
        """What CloudWatch actually does: AWS/DynamoDB alarms always ignore missing data."""
        return "ignore" if self.Namespace == "AWS/DynamoDB" else self.TreatMissingData

    def query(self) -> MetricQuery:
        return MetricQuery(self.Namespace, self.MetricName, self.Dimensions, stat=self.stat, period=self.Period,
                           label=self.AlarmName)


def load_alarms(path=None, environment: str = "demo") -> list[Alarm]:
    """The alarm catalog (``parameters/alarms.yaml``), ``${...}`` filled from the environment's resources."""
    import string

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
        out.append(validate(Alarm, a, path, prefix=f"alarms.{i}"))
    return out


def evaluate(alarm: Alarm | dict, series: pd.Series, initial_state: str = "INSUFFICIENT_DATA") -> pd.DataFrame:
    """The alarm's state after each evaluation, one row per period of ``series``.

    ``series`` holds the alarm's statistic per period (NaN = missing), indexed by period start. Returns
    ``timestamp`` (the evaluation instant: the end of the newest period), ``state``, ``breaching`` (count of
    breaching datapoints among the last N after missing-data treatment) and ``reason``.
    """
    a = alarm if isinstance(alarm, Alarm) else Alarm.model_validate(alarm)
    n, m = a.EvaluationPeriods, a.m
    v = series.to_numpy(dtype="float64")
    present = ~np.isnan(v)
    with np.errstate(invalid="ignore"):
        br = OPERATORS[a.ComparisonOperator](v, a.Threshold) & present
    mode = a.effective_treat_missing
    if mode == "breaching":
        br = br | ~present
    b = _rolling_sum(br.astype(np.int64), n)
    p = _rolling_sum(present.astype(np.int64), n)
    state = np.where(b >= m, 2, 0).astype(np.int8)  # 0 OK, 1 INSUFFICIENT_DATA, 2 ALARM, -1 keep
    if mode in ("missing", "ignore"):
        empty = p == 0
        state = np.where(empty, 1 if mode == "missing" else -1, state)
    codes = pd.Series(state.astype(float)).replace(-1, np.nan).ffill()
    init = {"OK": 0, "INSUFFICIENT_DATA": 1, "ALARM": 2}[initial_state]
    codes = codes.fillna(init).astype(int).to_numpy()
    names = np.array(["OK", "INSUFFICIENT_DATA", "ALARM"])[codes]
    ts = series.index + pd.Timedelta(seconds=a.Period)
    out = pd.DataFrame({"timestamp": ts, "state": names, "breaching": b, "value": v})
    out["reason"] = _reasons(a, out)
    return out


def _rolling_sum(x: np.ndarray, n: int) -> np.ndarray:
    c = np.cumsum(np.r_[0, x])
    idx = np.arange(1, x.size + 1)
    return c[idx] - c[np.maximum(idx - n, 0)]


def _reasons(a: Alarm, df: pd.DataFrame) -> list[str]:
    word = _OP_WORDS[a.ComparisonOperator]
    out = []
    for st, b in zip(df["state"].to_numpy(), df["breaching"].to_numpy()):
        if st == "INSUFFICIENT_DATA":
            out.append(f"Insufficient Data: {a.EvaluationPeriods} datapoints were unknown.")
        else:
            verb = "" if st == "ALARM" else "not "
            out.append(f"Threshold Crossed: {int(b)} out of the last {a.EvaluationPeriods} datapoints "
                       f"{'were' if b != 1 else 'was'} {word} the threshold ({a.Threshold:g}); "
                       f"{verb}at least {a.m} needed for ALARM.")
    return out


def transitions(alarm: Alarm, timeline: pd.DataFrame) -> pd.DataFrame:
    """State changes of a timeline from :func:`evaluate` as alarm-history rows."""
    st = timeline["state"]
    prev = st.shift(1)
    ch = timeline[(st != prev) & prev.notna()]
    return pd.DataFrame({"timestamp": ch["timestamp"].to_numpy(), "alarm": alarm.AlarmName,
                         "from_state": prev[ch.index].to_numpy(), "to_state": ch["state"].to_numpy(),
                         "reason": ch["reason"].to_numpy()}, columns=ALARM_HISTORY_COLUMNS)


def demo_alarm_history(src, window: TimeWindow, alarm_names: Sequence[str] | None = None) -> pd.DataFrame:
    """The demo's alarm history: the catalog's alarms evaluated over the demo's metrics.

    Evaluation starts one day before ``window`` so that states entering the window are settled.
    """
    alarms = load_alarms(environment=src.environment.name)
    if alarm_names:
        alarms = [a for a in alarms if a.AlarmName in set(alarm_names)]
    if not alarms:
        return empty_alarm_history()
    lookback = TimeWindow(window.start - pd.Timedelta(days=1), window.end)
    frames = []
    for a in alarms:
        s = src.metrics([a.query()], lookback)[a.AlarmName]
        tl = evaluate(a, s)
        tr = transitions(a, tl)
        frames.append(tr[(tr["timestamp"] >= window.start) & (tr["timestamp"] < window.end)])
    df = pd.concat(frames, ignore_index=True)
    if df.empty:
        return empty_alarm_history()
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df.sort_values("timestamp", kind="stable").reset_index(drop=True)
