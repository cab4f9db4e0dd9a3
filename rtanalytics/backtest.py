"""Alarm backtesting, what-if sweeps, alert routing and the alarm configuration audit.

Scoring follows the SRE Workbook's four measures for an alerting rule ("Alerting on SLOs",
https://sre.google/workbook/alerting-on-slos/): **precision** (share of alarm episodes that coincide with a
real incident), **recall** (share of incidents detected), **detection time** (incident start → ALARM) and
**reset time** (incident end → back out of ALARM).

An ALARM *episode* runs from a transition into ALARM to the next transition out of it. It *detects* an incident
when it starts inside ``[incident start, incident end + grace]``; an episode that overlaps no incident (widened
by ``grace``) is a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from .alarms import ALARM, INSUFFICIENT, Alarm, SeriesPrep, breaching, evaluate_states
from .catalog import catalog, read_yaml
from .catalog.loader import validate
from .health import action_findings
from .metricmath import MathError, rule_states
from .retention import check_period, oldest_start
from .sources.evidence import source_now, unwrap
from .timewindow import TimeWindow, to_utc, utcnow


def episodes(codes: np.ndarray, eval_times: pd.DatetimeIndex) -> pd.DataFrame:
    """ALARM episodes ``start, end`` (end = first evaluation out of ALARM, or NaT if still in ALARM)."""
    in_alarm = codes == ALARM
    d = np.diff(np.r_[0, in_alarm.astype(np.int8), 0])
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    st = eval_times[starts]
    en = pd.DatetimeIndex([eval_times[e] if e < len(eval_times) else pd.NaT for e in ends], tz="UTC")
    return pd.DataFrame({"start": st, "end": en})


def match(eps: pd.DataFrame, incidents: pd.DataFrame, grace: pd.Timedelta = pd.Timedelta(minutes=30)):
    """Pair episodes with incidents: ``(per_incident, per_episode)`` frames (see module docstring)."""
    inc = incidents.reset_index(drop=True).copy()
    for c in ("start", "end"):  # an empty incidents frame has object columns: make them times all the same
        inc[c] = pd.to_datetime(inc[c] if c in inc else pd.Series([], dtype="object"), utc=True)

    def ns(values) -> np.ndarray:
        return pd.DatetimeIndex(pd.to_datetime(pd.Series(values), utc=True)).as_unit("ns").asi8

    big = np.iinfo(np.int64).max
    e_st = ns(eps["start"]) if len(eps) else np.zeros(0, np.int64)
    e_en = np.where(eps["end"].isna().to_numpy(), big, ns(eps["end"])) if len(eps) else np.zeros(0, np.int64)
    i_st = ns(inc["start"]) if len(inc) else np.zeros(0, np.int64)
    i_en = ns(inc["end"]) if len(inc) else np.zeros(0, np.int64)
    g = int(pd.Timedelta(grace).value)
    # detection: episode start inside [incident start, incident end + grace]
    det = (e_st[:, None] >= i_st[None, :]) & (e_st[:, None] <= i_en[None, :] + g)
    overlap = (e_st[:, None] <= i_en[None, :] + g) & (e_en[:, None] >= i_st[None, :])
    per_inc = inc.copy()
    first = np.where(det.any(axis=0), np.argmax(det, axis=0), -1) if det.size else np.full(len(inc), -1)
    per_inc["detected"] = first >= 0
    per_inc["detected_at"] = pd.DatetimeIndex([eps["start"].iloc[j] if j >= 0 else pd.NaT for j in first],
                                              tz="UTC")
    per_inc["detection_minutes"] = (per_inc["detected_at"] - per_inc["start"]).dt.total_seconds() / 60
    reset = [eps["end"].iloc[j] if j >= 0 else pd.NaT for j in first]
    per_inc["reset_minutes"] = (pd.DatetimeIndex(reset, tz="UTC") - pd.DatetimeIndex(
        pd.to_datetime(per_inc["end"], utc=True))).total_seconds() / 60
    per_ep = eps.copy()
    per_ep["true_alarm"] = overlap.any(axis=1) if len(inc) else False
    return per_inc, per_ep


@dataclass
class Score:
    alarm: str
    episodes: int
    false_alarms: int
    incidents: int
    detected: int
    precision: float
    recall: float
    detection_minutes: float
    reset_minutes: float
    minutes_in_alarm: float

    def row(self) -> dict:
        return dict(self.__dict__)


def score(name: str, codes: np.ndarray, eval_times: pd.DatetimeIndex, period: int, incidents: pd.DataFrame,
          grace=pd.Timedelta(minutes=30)) -> Score:
    eps = episodes(codes, eval_times)
    per_inc, per_ep = match(eps, incidents, grace)
    n_ep = len(eps)
    tp = int(per_ep["true_alarm"].sum()) if n_ep else 0
    det = per_inc[per_inc["detected"]]
    return Score(name, n_ep, n_ep - tp, len(per_inc), len(det), tp / n_ep if n_ep else np.nan,
                 len(det) / len(per_inc) if len(per_inc) else np.nan,
                 float(det["detection_minutes"].mean()) if len(det) else np.nan,
                 float(det["reset_minutes"].mean()) if len(det) else np.nan,
                 float((codes == ALARM).sum() * period / 60.0))


def relevant_incidents(alarm: Alarm, incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents that change the alarm's metric (the ``metrics`` column the demo gives), else all of them."""
    if "metrics" not in incidents or incidents.empty:
        return incidents
    keys = {f"{q.namespace}/{q.metric}" for q in alarm.input_queries()}
    return incidents[incidents["metrics"].apply(lambda ms: any(k in ms for k in keys))]


def alarm_series(alarms: Sequence[Alarm], source, window, limits: list | None = None) -> dict[str, pd.Series]:
    """Each alarm's metric at its statistic, on its own clock-aligned period grid (fetched per period).

    CloudWatch keeps an alarm's period only for so long (1-minute data 15 days, 5-minute 63 days): a replay
    cannot reach further back, so each group starts no earlier than its tier allows, and ``limits`` (when a
    list is given) receives one sentence per group that was cut."""
    now = source_now(source)
    out = {}
    for period in sorted({a.Period for a in alarms}):
        group = [a for a in alarms if a.Period == period]
        start = window.start
        oldest = oldest_start(period, now).ceil(f"{period}s")
        if start < oldest:
            start = min(oldest, window.end - pd.Timedelta(seconds=period))
            if limits is not None:
                limits.append(f"{', '.join(a.AlarmName for a in group)}: replayed from {start:%Y-%m-%d %H:%M} UTC "
                              f"only — CloudWatch keeps {period} s data for {(now - oldest_start(period, now)).days}"
                              " days, so the older part of the window cannot be replayed")
        aligned = TimeWindow(start.floor(f"{period}s"), window.end)  # CloudWatch's clock-aligned periods
        plain = [a for a in group if not a.is_math]
        df = source.metrics([a.query() for a in plain], aligned) if plain else None
        cols = {a.AlarmName: df[a.AlarmName] for a in plain}
        for a in group:
            if a.is_math:  # its inputs, each at its own period and statistic; the expression evaluated here
                inputs = source.metrics(a.input_queries(), aligned)
                grid = pd.date_range(aligned.start, aligned.end, freq=f"{period}s", inclusive="left")
                cols[a.AlarmName] = a.math_series(inputs, grid)
        full = pd.date_range(window.start.floor(f"{period}s"), aligned.start, freq=f"{period}s", inclusive="left")
        out.update({a.AlarmName: pd.concat([pd.Series(np.nan, index=full), cols[a.AlarmName]]) if len(full)
                    else cols[a.AlarmName] for a in group})
    return out


def backtest(alarms: Sequence[Alarm], series: dict[str, pd.Series], incidents: pd.DataFrame,
             grace=pd.Timedelta(minutes=30), relevant_only: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replay ``alarms`` over ``series`` (from :func:`alarm_series`) and score them against ``incidents``:
    ``(scores, detections)`` where detections is alarm x incident."""
    rows, det_rows = [], []
    for a in alarms:
        s = series[a.AlarmName]
        codes = evaluate_states(a, s.to_numpy(dtype=float))
        times = s.index + pd.Timedelta(seconds=a.Period)
        inc = relevant_incidents(a, incidents) if relevant_only else incidents
        rows.append(score(a.AlarmName, codes, times, a.Period, inc, grace).row())
        per_inc, _ = match(episodes(codes, times), incidents, grace)
        for r in per_inc.itertuples():
            det_rows.append({"alarm": a.AlarmName, "incident": r.id, "detected": r.detected,
                             "detection_minutes": r.detection_minutes})
    return pd.DataFrame(rows), pd.DataFrame(det_rows)


def composite_states(composite, alarms: Sequence[Alarm], series: dict[str, pd.Series],
                     composites: Sequence = ()) -> pd.Series:
    """A composite alarm replayed from its children's replayed states: each child (a metric alarm, or another
    composite) evaluated over its series, its state held between its evaluations, on the clock of the finest
    child period; the rule (:func:`rtanalytics.metricmath.rule_states`) gives ALARM or OK at each instant.
    Returns state codes indexed by evaluation time. A child that is not among ``alarms``/``composites`` is a
    :class:`~rtanalytics.metricmath.MathError` naming it."""
    by_name = {a.AlarmName: a for a in alarms}
    nested = {c.AlarmName: c for c in composites}
    states, periods = {}, []
    for child in composite.children:
        if child in by_name:
            a = by_name[child]
            s = series[child]
            states[child] = pd.Series(evaluate_states(a, s.to_numpy(dtype=float)),
                                      index=s.index + pd.Timedelta(seconds=a.Period))
            periods.append(a.Period)
        elif child in nested and child != composite.AlarmName:
            states[child] = composite_states(nested[child], alarms, series, [c for c in composites
                                                                             if c.AlarmName != composite.AlarmName])
            periods.append(int(states[child].attrs.get("period", 60)))
        else:
            raise MathError(f"composite alarm {composite.AlarmName}: its rule names {child!r}, which is not among "
                            "the alarms replayed (import the file that defines it too)")
    period = min(periods)
    lo = min(s.index.min() for s in states.values() if len(s))
    hi = max(s.index.max() for s in states.values() if len(s))
    grid = pd.date_range(lo, hi, freq=f"{period}s")
    on_grid = {k: v.reindex(grid, method="ffill").fillna(1).to_numpy(dtype=np.int8) for k, v in states.items()}
    out = pd.Series(rule_states(composite.AlarmRule, on_grid), index=grid, name=composite.AlarmName)
    out.attrs["period"] = period
    return out


def _leaves(composite, composites, seen=None) -> set[str]:
    """The metric alarms under a composite (through nested composites)."""
    seen = seen or {composite.AlarmName}
    nested = {c.AlarmName: c for c in composites}
    out = set()
    for ch in composite.children:
        if ch in nested and ch not in seen:
            out |= _leaves(nested[ch], composites, seen | {ch})
        elif ch not in nested:
            out.add(ch)
    return out


def backtest_composites(composites: Sequence, alarms: Sequence[Alarm], series: dict[str, pd.Series],
                        incidents: pd.DataFrame, grace=pd.Timedelta(minutes=30)) -> tuple[pd.DataFrame, list[str]]:
    """Scores of composite alarms replayed from their children (as :func:`backtest` scores metric alarms), and
    one sentence per composite that could not be replayed."""
    rows, notes = [], []
    for c in composites:
        try:
            st = composite_states(c, alarms, series, composites)
        except MathError as e:
            notes.append(str(e))
            continue
        # the incidents any of its metric alarms is about (as each metric alarm is scored on its own)
        kids = [a for a in alarms if a.AlarmName in _leaves(c, composites)]
        rel = pd.concat([relevant_incidents(a, incidents) for a in kids]).drop_duplicates(subset=["id"]) \
            if kids and len(incidents) and "id" in incidents else incidents
        rows.append(score(c.AlarmName, st.to_numpy(), st.index, int(st.attrs["period"]), rel, grace).row())
    return pd.DataFrame(rows), notes


def sweep(alarm: Alarm, series: pd.Series, incidents: pd.DataFrame, thresholds: Sequence[float],
          mn: Sequence[tuple[int, int]], grace=pd.Timedelta(minutes=30)) -> pd.DataFrame:
    """What-if: every threshold x (M, N) for ``alarm`` over ``series``; one scored row per candidate."""
    out = []
    v = series.to_numpy(dtype=float)
    prep = SeriesPrep(v)  # every candidate runs on the same series: prepared once
    times = series.index + pd.Timedelta(seconds=alarm.Period)
    for thr in thresholds:
        for m, n in mn:
            cand = Alarm(**{**alarm.model_dump(), "Threshold": float(thr), "DatapointsToAlarm": m,
                            "EvaluationPeriods": n})
            sc = score(alarm.AlarmName, evaluate_states(cand, prep.v, prep=prep), times, alarm.Period, incidents,
                       grace)
            out.append({"threshold": float(thr), "M": m, "N": n, **{k: val for k, val in sc.row().items()
                                                                   if k != "alarm"}})
    return pd.DataFrame(out)


# ------------------------------------------------------------------------------------------------- routing
class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str
    respond_minutes: float | None = None
    escalate_after_minutes: float | None = None
    pages: bool = False


class BusinessHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: str = "America/Los_Angeles"
    start: str = "08:00"
    end: str = "18:00"
    weekdays: list[int] = [0, 1, 2, 3, 4]


def off_hours(index: pd.DatetimeIndex, bh: "BusinessHours") -> np.ndarray:
    """Which instants fall outside business hours (the routing calendar: its time zone, weekdays, start-end),
    vectorised."""
    local = pd.DatetimeIndex(index).tz_convert(bh.timezone)
    hhmm = local.strftime("%H:%M")
    inside = np.isin(local.day_of_week, bh.weekdays) & (hhmm >= bh.start) & (hhmm < bh.end)
    return ~np.asarray(inside)


class Action(BaseModel):
    """An alarm action besides SNS, as the seed names it (a Lambda, PagerDuty, a support case)."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    name: str
    when: str | None = None
    arn: str | None = None  # what AlarmActions must hold for CloudWatch to run it; None: not provisioned yet


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid")
    protocol: str
    endpoint: str


class UmbrellaTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str
    subscriptions: list[Subscription] = []


class Routing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_hours: BusinessHours = BusinessHours()
    production_topic: UmbrellaTopic | None = None
    topics: dict[str, Topic]
    levels: dict[str, str] = {"P0": "Critical", "P1": "Warning", "P2": "Info"}
    actions: dict[str, list[Action]] = {}  # seed alarm name -> its actions besides SNS

    def level_of_arn(self, arn: str) -> str | None:
        name = arn.rsplit(":", 1)[-1]
        for level, t in self.topics.items():
            if t.topic == name:
                return level
        return None

    def intended_level(self, a: Alarm) -> str | None:
        tags = {t.get("Key"): t.get("Value") for t in a.Tags}
        if tags.get("AlertLevel") in self.topics:
            return tags["AlertLevel"]
        for p, level in self.levels.items():
            if a.AlarmDescription.startswith(p + ":") or a.AlarmDescription.startswith(p + " "):
                return level
        levels = [self.level_of_arn(x) for x in a.AlarmActions]
        return next((lv for lv in levels if lv), None)


def load_routing(path=None) -> Routing:
    path = path or catalog().root / "routing.yaml"
    return validate(Routing, read_yaml(path), path)


def pages(alarms: Sequence[Alarm], histories: pd.DataFrame, routing: Routing) -> pd.DataFrame:
    """Notifications from ALARM transitions: ``timestamp, alarm, level, pages, off_hours, escalated,
    minutes_in_alarm``. Off-hours uses the routing's business hours; a Critical page escalates when the alarm is
    still in ALARM after ``escalate_after_minutes`` (no acknowledgement data exists in CloudWatch)."""
    by = {a.AlarmName: a for a in alarms}
    rows = []
    bh = routing.business_hours
    for name, h in histories.groupby("alarm", sort=False):
        a = by.get(name)
        if a is None:
            continue
        levels = [routing.level_of_arn(x) for x in a.AlarmActions]
        level = next((lv for lv in levels if lv), None)
        if level is None:
            continue
        t = routing.topics[level]
        h = h.sort_values("timestamp")
        nxt = h["timestamp"].shift(-1)
        for ts, to, nx in zip(h["timestamp"], h["to_state"], nxt):
            if to != "ALARM":
                continue
            dur = (nx - ts).total_seconds() / 60 if pd.notna(nx) else np.nan
            local = ts.tz_convert(bh.timezone)
            hhmm = local.strftime("%H:%M")
            off = local.weekday() not in bh.weekdays or not (bh.start <= hhmm < bh.end)
            esc = bool(t.escalate_after_minutes is not None and (np.isnan(dur) or dur > t.escalate_after_minutes))
            rows.append({"timestamp": ts, "alarm": name, "level": level, "pages": t.pages, "off_hours": off,
                         "escalated": esc, "minutes_in_alarm": dur, "local_hour": local.hour,
                         "local_weekday": local.weekday()})
    return pd.DataFrame(rows, columns=["timestamp", "alarm", "level", "pages", "off_hours", "escalated",
                                       "minutes_in_alarm", "local_hour", "local_weekday"])


def history_stats(history: pd.DataFrame, flap_window="1h", flap_count: int = 3) -> pd.DataFrame:
    """Per alarm from real alarm history: ALARM entries, time in ALARM, mean time to resolve (ALARM → OK) and
    flapping (``flap_count`` or more ALARM entries within ``flap_window``). Time to acknowledge is not in
    CloudWatch's history, so it is reported as unknown rather than guessed."""
    rows = []
    for name, h in history.sort_values("timestamp").groupby("alarm", sort=False):
        ts = h["timestamp"].reset_index(drop=True)
        to = h["to_state"].reset_index(drop=True)
        entries = ts[to == "ALARM"]
        ends = []
        for i in entries.index:
            later = ts[(ts.index > i) & (to != "ALARM")]
            ends.append(later.iloc[0] - ts[i] if len(later) else pd.NaT)
        durs = pd.Series(ends, dtype="timedelta64[ns]")
        win = pd.Timedelta(flap_window)
        counts = [((entries >= t) & (entries < t + win)).sum() for t in entries]
        rows.append({"alarm": name, "alarm_entries": len(entries),
                     "minutes_in_alarm": durs.dt.total_seconds().sum() / 60,
                     "mttr_minutes": durs.dt.total_seconds().mean() / 60 if durs.notna().any() else np.nan,
                     "still_in_alarm": bool(durs.isna().any()),
                     "flapping": bool(max(counts, default=0) >= flap_count), "mtta_minutes": None})
    return pd.DataFrame(rows)


def noise(history: pd.DataFrame, window, names: Sequence[str], business_hours=None, periods: dict | None = None,
          flap_periods: int = 3, replayed: dict[str, int] | None = None) -> pd.DataFrame:
    """A noise report from real alarm history (DescribeAlarmHistory state updates, metric and composite alarms),
    per alarm of ``names`` over ``window``, noisiest first: ``pages`` (entries into ALARM), ``flaps`` (ALARM
    episodes shorter than ``flap_periods`` periods — ``periods`` gives each alarm's, else 15 minutes),
    ``median_minutes`` and ``longest_minutes`` in ALARM, ``share_in_alarm`` of the window, ``off_hours_pages``
    (outside the routing calendar's business hours), ``verdict`` (never fired, always firing, flapping, ok) and,
    where ``replayed`` gives the pages the replay predicts, ``replay_pages`` and ``agrees``.

    The state before the window's first transition is that transition's ``from_state``; an alarm with no
    transition in the window kept one state throughout, which history alone cannot tell (``verdict`` says so)."""
    t0, t1 = pd.Timestamp(window.start), pd.Timestamp(window.end)
    span = (t1 - t0).total_seconds()
    h = history[(history["timestamp"] >= t0) & (history["timestamp"] < t1)].sort_values("timestamp", kind="stable") \
        if len(history) else history
    rows = []
    for name in list(dict.fromkeys(list(names) + (sorted(set(h["alarm"])) if len(h) else []))):
        g = h[h["alarm"] == name] if len(h) else h
        ts = pd.DatetimeIndex(g["timestamp"]) if len(g) else pd.DatetimeIndex([], tz="UTC")
        to = g["to_state"].to_numpy() if len(g) else np.array([], dtype=object)
        start_state = g["from_state"].iloc[0] if len(g) else None
        # ALARM intervals: from each entry into ALARM (or the window's start) to the next transition out
        bounds = list(ts) + [t1]
        states = [start_state] + list(to)
        edges = [t0] + list(ts)
        durs = [(bounds[i] - edges[i]).total_seconds() / 60 for i in range(len(states)) if states[i] == "ALARM"]
        entries = ts[to == "ALARM"] if len(ts) else ts
        flap_min = (periods or {}).get(name, 300) * flap_periods / 60 if periods and name in periods else 15.0
        in_alarm = sum(durs)
        share = in_alarm * 60 / span if span else float("nan")
        off = int(off_hours(entries, business_hours).sum()) if business_hours is not None and len(entries) else 0
        if not len(g):
            verdict = "no transition in the window (never fired, or in one state throughout)"
        elif share >= 0.99:
            verdict = "always firing"
        elif not len(entries):
            verdict = "never fired"
        else:
            flaps = sum(1 for d in durs if d < flap_min)
            verdict = "flapping" if flaps >= 3 or (flaps and flaps >= len(entries) / 2) else "ok"
        row = {"alarm": name, "pages": int(len(entries)), "flaps": int(sum(1 for d in durs if d < flap_min)),
               "median_minutes": float(np.median(durs)) if durs else float("nan"),
               "longest_minutes": float(max(durs)) if durs else float("nan"),
               "share_in_alarm": float(share), "off_hours_pages": off, "verdict": verdict}
        if replayed is not None and name in replayed:
            row["replay_pages"] = int(replayed[name])
            row["agrees"] = bool(replayed[name] == len(entries))
        rows.append(row)
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(["pages", "flaps", "share_in_alarm"], ascending=False, kind="stable").reset_index(drop=True)
    return out


def cannot_work(alarms: Sequence[Alarm], source, window, series: dict[str, pd.Series] | None = None,
                now=None, composites: Sequence = ()) -> pd.DataFrame:
    """Alarms that cannot work as written, each with the fix (``alarm, severity, finding, fix``):

    * no metric with exactly the alarm's namespace, name and dimension set exists (ListMetrics) — a dimension the
      service never emits keeps a "below threshold" alarm permanently true, or the alarm permanently without data;
    * the metric exists but has no datapoint in the window; the replay sits in INSUFFICIENT_DATA, or in ALARM,
      for the whole window;
    * ``Period`` x ``EvaluationPeriods`` over a day (CloudWatch's limit for periods under an hour; 7 days above);
    * a period CloudWatch's retention tiers cannot serve for the window's start (no datapoints at all);
    * on AWS, actions (of ``alarms`` and ``composites``) sending to an SNS topic that does not exist or that
      nobody is confirmed on (:func:`rtanalytics.health.action_findings`)."""
    now = to_utc(now) if now is not None else utcnow()
    f = []

    def add(a, sev, finding, fix):
        f.append({"alarm": a.AlarmName, "severity": sev, "finding": finding, "fix": fix})

    for a in alarms:
        missing = False
        for q in a.input_queries():  # a metric-math alarm: every input must exist
            dims = q.dims
            found = source.list_metrics(q.namespace, q.metric, dims or None)
            exact = [m for m in found if dict(m.dimensions) == dims]
            if not exact:  # what the service does publish under this name, for the fix
                others = source.list_metrics(q.namespace, q.metric) if dims else found
                near = sorted({", ".join(f"{k}={v}" for k, v in m.dimensions) for m in others})[:3]
                which = f" (input {q.label.rsplit('/', 1)[-1]})" if a.is_math else ""
                add(a, "high", f"no metric {q.namespace}/{q.metric}{which} with exactly the dimensions "
                    f"{dims or '{}'} exists (ListMetrics)", "use the dimension set the service publishes"
                    + (f": it has {'; '.join(near)}" if near else " (none is published under this name)"))
                missing = True
        if missing:
            continue
        span = a.Period * a.EvaluationPeriods
        if span > (7 * 86400 if a.Period >= 3600 else 86400):
            add(a, "high", f"Period x EvaluationPeriods = {span / 3600:g} h: over CloudWatch's limit "
                f"({'7 days' if a.Period >= 3600 else '1 day'})", "fewer evaluation periods or a longer period")
        why = check_period(a.Period, window.start, now)
        if why:
            add(a, "medium", f"{why}: the replay cannot reach the window's start", "a window CloudWatch still keeps")
        s = (series or {}).get(a.AlarmName)
        if s is None:
            continue
        v = s.to_numpy(dtype=float)
        if len(v) and np.isnan(v).all():
            add(a, "high", "the metric has no datapoint in the window", "check the service publishes it")
        codes = evaluate_states(a, v)
        if len(codes) and (codes == ALARM).all():
            add(a, "high", "in ALARM for the whole window", "the condition always holds: check threshold and "
                "dimensions")
        elif len(codes) and (codes == INSUFFICIENT).all():
            add(a, "medium", "INSUFFICIENT_DATA for the whole window", "set TreatMissingData, or check the metric")
    aws = getattr(unwrap(source), "aws", None)
    if aws is not None:  # only an AWS source knows the account's topics
        f += action_findings(aws, [*alarms, *composites])
    return pd.DataFrame(f, columns=["alarm", "severity", "finding", "fix"])


# --------------------------------------------------------------------------------------------------- audit
def audit(alarms: Sequence[Alarm], routing: Routing, metrics: dict[str, pd.Series] | None = None,
          always_pct: float = 20.0, seed_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Configuration findings: ``alarm, severity, finding, fix`` (see the issue's list; each rule in the code).
    With ``seed_names`` (seed alarm → catalog alarm), each of the seed's actions besides SNS is checked too: it
    runs only if its ARN is among the alarm's AlarmActions."""
    f = []

    def add(a, sev, finding, fix):
        f.append({"alarm": a.AlarmName, "severity": sev, "finding": finding, "fix": fix})

    by_alarm = {v: k for k, v in (seed_names or {}).items()}
    for a in alarms:
        for act in routing.actions.get(by_alarm.get(a.AlarmName, ""), []):
            what = f"{act.kind}: {act.name}" + (f" ({act.when})" if act.when else "")
            if act.arn is None:
                add(a, "high" if routing.intended_level(a) == "Critical" else "medium",
                    f"the seed's action '{what}' has no ARN: CloudWatch cannot run it",
                    "provision it and set its ARN in parameters/routing.yaml, then add it to AlarmActions")
            elif act.arn not in a.AlarmActions:
                add(a, "high", f"the seed's action '{what}' is not among AlarmActions", f"add {act.arn} to AlarmActions")
    for a in alarms:
        if a.Namespace == "AWS/DynamoDB" and a.TreatMissingData not in ("ignore",):
            add(a, "high" if a.MetricName in ("ThrottledRequests", "SystemErrors", "UserErrors") else "medium",
                f"TreatMissingData={a.TreatMissingData} is overridden: AWS/DynamoDB alarms always ignore missing "
                "data" + (f"; {a.MetricName} is only published when non-zero, so once in ALARM the alarm stays "
                          "there" if a.MetricName in ("ThrottledRequests", "SystemErrors", "UserErrors") else ""),
                "alarm on a metric-math expression FILL(m, 0) instead, or on ReadThrottleEvents/WriteThrottleEvents")
        if not a.OKActions:
            add(a, "low", "no OKActions: nobody is told when it recovers", "add the Info topic to OKActions")
        intended = routing.intended_level(a)
        actual = {routing.level_of_arn(x) for x in a.AlarmActions} - {None}
        if intended and actual and intended not in actual:
            add(a, "high", f"intended level {intended} but AlarmActions go to {sorted(actual)}",
                f"send AlarmActions to {routing.topics[intended].topic}")
        if not a.AlarmActions:
            add(a, "medium", "no AlarmActions: the alarm notifies nobody", "add the topic of its level")
        for x in a.OKActions:
            if routing.level_of_arn(x) in ("Critical",):
                add(a, "low", "OKActions page the Critical topic", "send recoveries to the Info topic")
        if intended:
            resp = routing.topics[intended].respond_minutes
            earliest = a.Period * a.m / 60
            if resp is not None and earliest > resp:
                add(a, "medium", f"earliest detection is {earliest:g} min (Period {a.Period} s x "
                    f"DatapointsToAlarm {a.m}), longer than the {intended} response target of {resp:g} min",
                    "shorten the period or lower DatapointsToAlarm")
        if metrics is not None and a.AlarmName in metrics:
            v = metrics[a.AlarmName].to_numpy(dtype=float)
            codes = evaluate_states(a, v)
            pct = 100 * (codes == ALARM).mean() if len(codes) else 0.0

            if pct >= always_pct:
                add(a, "high", f"in ALARM {pct:.0f}% of the audited history", "raise the threshold or fix the cause")
            elif not breaching(a, v).any():
                add(a, "info", "never breached over the audited history", "check the threshold still matters")
    return pd.DataFrame(f, columns=["alarm", "severity", "finding", "fix"])
