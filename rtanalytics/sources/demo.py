"""The ``demo`` source: a deterministic simulation of the RealTechee 2.0 production stack.

Every series the seed names is modelled at 1-minute resolution from one traffic curve (daily and weekly
seasonality, ~1% week-over-week growth) and published the way its AWS service publishes it (see
:mod:`rtanalytics.sources.stats`): ALB counts as unit events absent when zero, latencies as per-request
distributions, Lambda ``Errors`` as 0/1 samples, gauges once a minute. Incidents from a scenario file in
``parameters/scenarios/`` change series while active, and show in the demo's logs and deploy events.

Determinism: each (series, UTC day) is drawn from its own random stream seeded by the scenario seed, the
series and the day, always for the whole day; so a timestamp has the same value whatever window is asked for.
Nothing after the source's ``now`` exists yet.
"""

from __future__ import annotations

import fnmatch
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..alarms import evaluate, load_alarms
from ..catalog import Scenario, catalog
from ..catalog.models import Environment, MetricSelector
from ..errors import SourceError
from ..frames import EVENT_COLUMNS, empty_alarm_history, empty_events
from ..logs import demo_logs
from ..queries import MetricQuery
from ..timewindow import TimeWindow, parse_duration, to_utc, utcnow
from . import stats
from .base import MetricId, assemble, cloudwatch_window, grid_bounds, mark_incomplete, match_metric, problem, servable

MIN_PER_DAY = 1440
_ANCHOR_GROWTH = pd.Timestamp("2026-01-05", tz="UTC")
WEEKLY_GROWTH = 0.01


@dataclass(frozen=True)
class Spec:
    """One simulated series. ``level`` is an event rate per minute at average traffic (``event``), a median
    (``dist``), a probability (``binary`` and ``event`` with ``share``) or a value (``gauge``)."""

    key: str
    namespace: str
    metric: str
    dims: tuple[tuple[str, str], ...]
    kind: str  # event | dist | binary | gauge | remainder | health
    level: float = 0.0
    parent: str | None = None
    sigma: float = 0.5
    traffic: float = 1.0  # coupling of the level to the traffic curve (exponent)
    load: float = 0.0  # dist: median *= 1 + load * traffic
    share: bool = False
    subtract: tuple[str, ...] = ()
    hidden: bool = False
    unit: str = "None"

    @property
    def metric_id(self) -> MetricId:
        return MetricId(self.namespace, self.metric, self.dims)


def _d(**kw) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(kw.items()))


PAGES = {"/": 0.35, "/products": 0.2, "/projects": 0.2, "/contact": 0.1, "/about": 0.1, "/admin": 0.05}
LEAD_SOURCES = {"Website": 0.4, "Referral": 0.2, "Google": 0.2, "Facebook": 0.1, "Direct": 0.1}
# quote sizes as the seed's categorizeQuoteValue buckets them (<5k, 5k-25k, 25k-100k, >=100k), in the shares the
# amounts' own distribution gives (AverageQuoteValue: lognormal, median 15k, sigma 1): P(<5k)=0.136, ...
QUOTE_VALUES = {"Small": 0.136, "Medium": 0.559, "Large": 0.276, "Enterprise": 0.029}
ACTIONS = {"view_property": 3.0, "submit_request": 0.1, "upload_document": 0.3, "view_quote": 0.6,
           "update_profile": 0.2}
DDB_OPS = {"GetItem": (0.45, 4.0), "Query": (0.3, 8.0), "Scan": (0.03, 35.0), "PutItem": (0.12, 6.0),
           "UpdateItem": (0.10, 7.0)}
TABLE_WEIGHT = {"Contacts": 0.25, "Properties": 0.3, "Requests": 0.25, "Projects": 0.12, "Quotes": 0.08}
LAMBDAS = {"notification-processor": (3.0, 350.0), "user-admin": (0.5, 180.0), "status-processor": (1.5, 120.0)}


def build_specs(env: Environment) -> list[Spec]:
    """The series of the simulated stack for ``env``'s resource names, in dependency order."""
    r = env.resources
    prod = {"Environment": "Production"}
    s: list[Spec] = []
    alb = _d(LoadBalancer=r.alb)
    ns = "AWS/ApplicationELB"
    s += [
        Spec("alb.requests", ns, "RequestCount", alb, "event", level=30.0, unit="Count"),
        Spec("alb.5xx", ns, "HTTPCode_Target_5XX_Count", alb, "event", level=0.0003, parent="alb.requests",
             share=True, unit="Count"),
        Spec("alb.4xx", ns, "HTTPCode_Target_4XX_Count", alb, "event", level=0.0002, parent="alb.requests",
             share=True, unit="Count"),
        Spec("alb.2xx", ns, "HTTPCode_Target_2XX_Count", alb, "remainder", parent="alb.requests",
             subtract=("alb.5xx", "alb.4xx"), unit="Count"),
        Spec("alb.latency", ns, "TargetResponseTime", alb, "dist", level=0.16, parent="alb.requests", sigma=0.7,
             load=0.25, unit="Seconds"),
    ]
    ns = "AWS/DynamoDB"
    for t in r.tables:
        table = f"{t}-{r.table_suffix}"
        w = TABLE_WEIGHT.get(t, 0.2)
        reads, writes = [], []
        for op, (share, median) in DDB_OPS.items():
            k = f"ddb.{t}.{op}"
            dims = _d(TableName=table, Operation=op)
            s.append(Spec(k + ".ops", ns, "_Ops", dims, "event", level=2.0 * 30 * w * share, hidden=True))
            s.append(Spec(k + ".latency", ns, "SuccessfulRequestLatency", dims, "dist", level=median,
                          parent=k + ".ops", sigma=0.45, load=0.1, unit="Milliseconds"))
            s.append(Spec(k + ".throttled", ns, "ThrottledRequests", dims, "event", level=0.0, traffic=0.0,
                          unit="Count"))
            s.append(Spec(k + ".syserr", ns, "SystemErrors", dims, "event", level=0.0004, unit="Count"))
            (reads if op in ("GetItem", "Query", "Scan") else writes).append(k + ".ops")
        tdims = _d(TableName=table)
        s.append(Spec(f"ddb.{t}.reads", ns, "_Reads", tdims, "remainder", parent=None, subtract=tuple(reads),
                      hidden=True))
        s.append(Spec(f"ddb.{t}.writes", ns, "_Writes", tdims, "remainder", parent=None, subtract=tuple(writes),
                      hidden=True))
        s.append(Spec(f"ddb.{t}.rcu", ns, "ConsumedReadCapacityUnits", tdims, "dist", level=1.5,
                      parent=f"ddb.{t}.reads", sigma=0.6, unit="Count"))
        s.append(Spec(f"ddb.{t}.wcu", ns, "ConsumedWriteCapacityUnits", tdims, "dist", level=1.0,
                      parent=f"ddb.{t}.writes", sigma=0.3, unit="Count"))
    s.append(Spec("ddb.usererrors", ns, "UserErrors", (), "event", level=0.02, unit="Count"))
    ns = "AWS/Lambda"
    for fn in r.lambda_functions:
        rate, median = LAMBDAS.get(fn, (1.0, 200.0))
        fd = _d(FunctionName=fn)
        s += [
            Spec(f"lambda.{fn}.invocations", ns, "Invocations", fd, "event", level=rate, unit="Count"),
            Spec(f"lambda.{fn}.errors", ns, "Errors", fd, "binary", level=0.002, parent=f"lambda.{fn}.invocations",
                 unit="Count"),
            Spec(f"lambda.{fn}.throttles", ns, "Throttles", fd, "event", level=0.0, traffic=0.0, unit="Count"),
            Spec(f"lambda.{fn}.duration", ns, "Duration", fd, "dist", level=median,
                 parent=f"lambda.{fn}.invocations", sigma=0.5, load=0.05, unit="Milliseconds"),
            Spec(f"lambda.{fn}.concurrency", ns, "ConcurrentExecutions", fd, "gauge",
                 level=max(1.0, rate * median / 60000 * 8), traffic=0.5, unit="Count"),
        ]
    if r.s3_bucket:
        ns = "AWS/S3"
        bd = _d(BucketName=r.s3_bucket, FilterId="EntireBucket")
        s += [
            Spec("s3.requests", ns, "AllRequests", bd, "event", level=8.0, unit="Count"),
            Spec("s3.firstbyte", ns, "FirstByteLatency", bd, "dist", level=25.0, parent="s3.requests", sigma=0.6,
                 unit="Milliseconds"),
            Spec("s3.total", ns, "TotalRequestLatency", bd, "dist", level=60.0, parent="s3.requests", sigma=0.7,
                 unit="Milliseconds"),
        ]
    ns = "RealTechee/Business"
    for src, w in LEAD_SOURCES.items():
        s.append(Spec(f"biz.requests.{src}", ns, "RequestsSubmitted", _d(LeadSource=src, **prod), "event",
                      level=0.085 * w, unit="Count"))
    for cat, w in QUOTE_VALUES.items():
        s.append(Spec(f"biz.quotes.{cat}", ns, "QuotesGenerated", _d(QuoteValue=cat, **prod), "event",
                      level=0.05 * w, unit="Count"))
    s.append(Spec("biz.quotes", ns, "_Quotes", _d(**prod), "remainder", subtract=tuple(
        f"biz.quotes.{c}" for c in QUOTE_VALUES), hidden=True))
    s.append(Spec("biz.quotevalue", ns, "AverageQuoteValue", _d(**prod), "dist", level=15000.0, parent="biz.quotes",
                  sigma=1.0))
    s.append(Spec("biz.projects", ns, "ProjectsCompleted", _d(**prod), "event", level=0.012, unit="Count"))
    s.append(Spec("biz.logins", ns, "UserLogins", _d(**prod), "event", level=0.9, unit="Count"))
    for act, w in ACTIONS.items():
        s.append(Spec(f"biz.actions.{act}", ns, "UserActions", _d(Action=act, **prod), "event", level=w,
                      unit="Count"))
    s.append(Spec("biz.sessions", ns, "ActiveSessions", _d(**prod), "gauge", level=40.0, unit="Count"))
    # what the health probes publish after each 5-minute run (the seed's application check: the app fails when
    # over 5% of its requests fail): 1 failed, 0 passed — the metric the application_unavailable alarm watches
    s.append(Spec("health.application", "RealTechee/Health", "HealthCheckFailed", _d(Check="application", **prod),
                  "health", parent="alb.5xx", subtract=("alb.requests",), unit="Count"))
    ns = "RealTechee/Performance"
    vitals = {"LargestContentfulPaint": (1900.0, 0.4), "FirstInputDelay": (35.0, 0.7),
              "InteractionToNextPaint": (120.0, 0.6),
              "CumulativeLayoutShift": (0.04, 0.9), "PageLoadTime": (2600.0, 0.45),
              "DOMContentLoaded": (1200.0, 0.4), "TimeToFirstByte": (250.0, 0.5)}
    slow = {"/products": 1.25, "/admin": 1.1}
    for page, w in PAGES.items():
        pd_ = _d(Page=page, **prod)
        key = f"perf.{page}"
        s.append(Spec(key + ".views", ns, "_PageViews", pd_, "event", level=8.0 * w, hidden=True))
        for m, (median, sigma) in vitals.items():
            factor = slow.get(page, 1.0) if m in ("LargestContentfulPaint", "PageLoadTime") else 1.0
            s.append(Spec(f"{key}.{m}", ns, m, pd_, "dist", level=median * factor, parent=key + ".views",
                          sigma=sigma, load=0.08, unit="None" if m == "CumulativeLayoutShift" else "Milliseconds"))
    return s


def traffic(minutes: np.ndarray) -> np.ndarray:
    """Relative traffic at epoch minutes: 1.0 is the average of the week of 2026-01-05.

    Daily: low at night in US Pacific time (peak around 20:00 UTC); weekly: weekends at 60%;
    growth: ~1% week over week.
    """
    hour = (minutes % MIN_PER_DAY) / 60.0
    dow = ((minutes // MIN_PER_DAY) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    daily = 0.22 + 0.78 * (0.5 * (1 + np.cos(2 * np.pi * (hour - 20.0) / 24.0))) ** 1.6
    weekly = np.where(dow >= 5, 0.6, 1.0)
    weeks = (minutes - _ANCHOR_GROWTH.value // 60_000_000_000) / (7 * MIN_PER_DAY)
    return daily * weekly * (1 + WEEKLY_GROWTH) ** weeks / _TRAFFIC_NORM


def _norm() -> float:
    m = np.arange(7 * MIN_PER_DAY) + _ANCHOR_GROWTH.value // 60_000_000_000
    hour = (m % MIN_PER_DAY) / 60.0
    dow = ((m // MIN_PER_DAY) + 3) % 7
    daily = 0.22 + 0.78 * (0.5 * (1 + np.cos(2 * np.pi * (hour - 20.0) / 24.0))) ** 1.6
    return float(np.mean(daily * np.where(dow >= 5, 0.6, 1.0)))


_TRAFFIC_NORM = _norm()


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a scenario incident (ground truth)."""

    incident: object
    start: pd.Timestamp
    end: pd.Timestamp
    cycle: int

    @property
    def id(self) -> str:
        return f"{self.incident.id}@{self.start.strftime('%Y-%m-%dT%H:%MZ')}"


class DemoSource:
    """The embedded demo (see module docstring). ``now`` freezes the clock (default: the current minute)."""

    name = "demo"

    def __init__(self, environment: str | Environment = "demo", scenario: str | Scenario | None = None,
                 now=None, cache_days: int = 20000, parameters=None):
        cat = catalog(parameters)
        self.environment = environment if isinstance(environment, Environment) else cat.environment(environment)
        if scenario is None:
            scenario = self.environment.scenario or "default"
        self.scenario = self._for_environment(scenario if isinstance(scenario, Scenario) else cat.scenario(scenario))
        self.now = (to_utc(now) if now is not None else utcnow()).floor("min")
        self.specs = build_specs(self.environment)
        self.by_key = {s.key: s for s in self.specs}
        self.by_id = {s.metric_id: s for s in self.specs if not s.hidden}
        self._cache: OrderedDict = OrderedDict()
        self._cache_max = cache_days
        self.calls = 0
        self.problems: list[dict] = []  # queries answered with nothing, and why (see metrics)
        self._alarm_history: dict = {}  # the alarm history, evaluated once from a fixed origin
        self._effects = self._index_effects()

    # -------------------------------------------------------------------------------------------- scenario
    def _for_environment(self, sc: Scenario) -> Scenario:
        """The scenario as this environment lives it: causes named with its own resources (``${alb}``...),
        and for a fleet's simulated service its own seed and incident schedule (``demo`` in the catalog)."""
        subs = self.environment.resources.substitutions()
        upd: dict = {"incidents": [inc.model_copy(update={"cause": inc.cause.resolved(subs)})
                                   for inc in sc.incidents]}
        v = self.environment.demo
        if v is not None:
            upd |= {"seed": sc.seed + v.seed, "anchor": sc.anchor + parse_duration(v.offset).to_pytimedelta()}
        return sc.model_copy(update=upd)

    def _index_effects(self) -> dict[str, list]:
        out: dict[str, list] = {}
        for inc in self.scenario.incidents:
            for eff in inc.effects:
                for s in self.specs:
                    if s.namespace == eff.namespace and s.metric == eff.metric and all(
                            _glob(dict(s.dims).get(k), v) for k, v in eff.dimensions.items()):
                        out.setdefault(s.key, []).append((inc, eff))
        return out

    def occurrences(self, window: TimeWindow) -> list[Occurrence]:
        """Every incident occurrence that overlaps ``window`` (and has started by ``now``)."""
        sc = self.scenario
        anchor = pd.Timestamp(sc.anchor)
        out = []
        for inc in sc.incidents:
            dur = parse_duration(inc.duration)
            off = parse_duration(inc.at) if sc.cycle else None
            if sc.cycle:
                cyc = parse_duration(sc.cycle)
                first = int(np.floor((window.start - dur - anchor - off) / cyc))
                last = int(np.floor((window.end - anchor - off) / cyc))
                starts = [(anchor + off + c * cyc, c) for c in range(max(first, 0), last + 1)]
            else:
                starts = [(to_utc(inc.at), 0)]
            for st, c in starts:
                en = st + dur
                if st < window.end and en > window.start and st < self.now:
                    out.append(Occurrence(inc, st, en, c))
        return sorted(out, key=lambda o: o.start)

    # -------------------------------------------------------------------------------------------- generation
    def _rng(self, key: str, day: int) -> np.random.Generator:
        return np.random.default_rng([self.scenario.seed, zlib.crc32(key.encode()), day + 100_000])

    def _day_traffic(self, day: int) -> np.ndarray:
        """Traffic for each minute of ``day``, computed once per day and shared by every series."""
        hit = self._cache.get(("__traffic__", day))
        if hit is None:
            hit = traffic(np.arange(day * MIN_PER_DAY, (day + 1) * MIN_PER_DAY, dtype=np.int64))
            if self.environment.demo is not None and self.environment.demo.scale != 1.0:
                hit = hit * self.environment.demo.scale
            self._cache[("__traffic__", day)] = hit
        return hit

    def _day_occurrences(self, day: int) -> list[Occurrence]:
        hit = self._cache.get(("__occ__", day))
        if hit is None:
            hit = self.occurrences(TimeWindow(pd.Timestamp(day * 86400, unit="s", tz="UTC"),
                                              pd.Timestamp((day + 1) * 86400, unit="s", tz="UTC")))
            self._cache[("__occ__", day)] = hit
        return hit

    def _level(self, spec: Spec, day: int, minutes: np.ndarray) -> np.ndarray:
        lvl = np.full(minutes.size, spec.level, dtype="float64")
        tr = self._day_traffic(day)
        if spec.kind == "event" and not spec.share:
            lvl = lvl * (tr if spec.traffic == 1.0 else tr ** spec.traffic)
        elif spec.kind == "dist":
            lvl = lvl * (1 + spec.load * tr)
        elif spec.kind == "gauge":
            lvl = lvl * tr ** spec.traffic
        effs = self._effects.get(spec.key)
        if effs:
            for o in self._day_occurrences(day):
                for inc, eff in effs:
                    if inc is not o.incident:
                        continue
                    s_min = int(o.start.value // 60_000_000_000)
                    e_min = int(o.end.value // 60_000_000_000)
                    ramp = max(parse_duration(eff.ramp).total_seconds() / 60.0, 1.0)
                    w = np.clip((minutes - s_min + 1) / ramp, 0, 1) * (minutes < e_min)
                    target = lvl * eff.scale + eff.add if eff.set is None else np.full_like(lvl, eff.set)
                    lvl = lvl + w * (target - lvl)
        return lvl

    def raw(self, key: str, day: int) -> dict[str, np.ndarray]:
        """Per-minute raw data of one series for one UTC day (epoch day number)."""
        ck = (key, day)
        hit = self._cache.get(ck)
        if hit is not None:
            self._cache.move_to_end(ck)
            return hit
        spec = self.by_key[key]
        minutes = np.arange(day * MIN_PER_DAY, (day + 1) * MIN_PER_DAY, dtype=np.int64)
        rng = self._rng(key, day)
        out: dict[str, np.ndarray]
        if spec.kind == "event":
            lvl = self._level(spec, day, minutes)
            if spec.share:
                n = self.raw(spec.parent, day)["k"]
                k = rng.binomial(n, np.clip(lvl, 0.0, 1.0))
            else:
                k = rng.poisson(np.clip(lvl, 0.0, None))
            out = {"k": k.astype(np.int64)}
        elif spec.kind == "remainder":
            if spec.parent:
                k = self.raw(spec.parent, day)["k"].copy()
                for sub in spec.subtract:
                    k -= self.raw(sub, day)["k"]
            else:
                k = sum(self.raw(sub, day)["k"] for sub in spec.subtract)
            out = {"k": np.asarray(k, dtype=np.int64)}
        elif spec.kind == "dist":
            n = self.raw(spec.parent, day)["k"]
            lvl = self._level(spec, day, minutes)
            mu = np.log(lvl) + 0.05 * rng.standard_normal(minutes.size)
            out = {"n": n, "mu": mu, "sigma": np.full(minutes.size, spec.sigma)}
        elif spec.kind == "binary":
            n = self.raw(spec.parent, day)["k"]
            p = np.clip(self._level(spec, day, minutes), 0.0, 1.0)
            out = {"n": n, "k": rng.binomial(n, p).astype(np.int64)}
        elif spec.kind == "health":  # one probe result per 5-minute block, held for the block
            e5 = self.raw(spec.parent, day)["k"].reshape(-1, 5).sum(axis=1)
            req = self.raw(spec.subtract[0], day)["k"].reshape(-1, 5).sum(axis=1)
            failed = (e5 > 0.05 * req) & (req > 0)
            out = {"v": np.repeat(failed.astype(float), 5)}
        elif spec.kind == "gauge":
            lvl = self._level(spec, day, minutes)
            v = np.maximum(lvl * (1 + 0.08 * rng.standard_normal(minutes.size)), 0.0)
            if spec.unit == "Count":
                v = np.round(v)
            out = {"v": v}
        else:  # pragma: no cover - build_specs only makes the kinds above
            raise SourceError(f"unknown series kind {spec.kind}")
        self._cache[ck] = out
        if len(self._cache) > self._cache_max:
            self._cache.popitem(last=False)
        return out

    def raw_range(self, key: str, m0: int, m1: int) -> dict[str, np.ndarray]:
        """Raw data for epoch minutes ``[m0, m1)``; minutes at or after ``now`` carry no data."""
        d0, d1 = m0 // MIN_PER_DAY, (m1 - 1) // MIN_PER_DAY
        parts = [self.raw(key, d) for d in range(d0, d1 + 1)]
        cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        lo = m0 - d0 * MIN_PER_DAY
        sl = {k: v[lo: lo + (m1 - m0)].copy() for k, v in cat.items()}
        now_min = int(self.now.value // 60_000_000_000)
        future = np.arange(m0, m1) >= now_min
        if future.any():
            for k in ("k", "n"):
                if k in sl:
                    sl[k][future] = 0
            if "v" in sl:
                sl["v"][future] = np.nan
        return sl

    # -------------------------------------------------------------------------------------------- protocol
    def list_metrics(self, namespace=None, metric=None, dimensions=None) -> list[MetricId]:
        return [m for m in self.by_id if match_metric(m, namespace, metric, dimensions)]

    def series(self, q: MetricQuery, window: TimeWindow) -> pd.Series:
        """One query's values on its period grid over ``window``."""
        if q.expression is not None:
            raise SourceError(f"query {q.id}: the demo source does not evaluate metric math ({q.expression!r}); "
                              "compute it from the referenced columns with pandas")
        if q.period < 60:
            raise SourceError(f"query {q.label!r}: period {q.period} s is finer than the demo's 1-minute data")
        s0, nper = grid_bounds(window, q.period)
        s1 = s0 + nper * q.period
        idx = pd.to_datetime(s0 + q.period * np.arange(nper, dtype=np.int64), unit="s", utc=True)
        spec = self.by_id.get(MetricId(q.namespace, q.metric, q.dimensions))
        if spec is None:
            return pd.Series(np.nan, index=idx, dtype="float64")
        m0, m1 = s0 // 60, s1 // 60
        raw = self.raw_range(spec.key, m0, m1)
        minutes = np.arange(m0, m1, dtype=np.int64)
        group = (minutes * 60 - s0) // q.period
        starts = stats.group_starts(group)
        kind = spec.kind
        if kind in ("event", "remainder"):
            vals = stats.event_stat(q.stat, raw["k"], starts)
        elif kind == "dist":
            vals = stats.dist_stat(q.stat, raw["n"], raw["mu"], raw["sigma"], starts)
        elif kind == "binary":
            vals = stats.binary_stat(q.stat, raw["n"], raw["k"], starts)
        else:
            vals = stats.gauge_stat(q.stat, raw["v"], group, starts)
        return pd.Series(vals, index=idx[group[starts]], dtype="float64")

    def metrics(self, queries: Sequence[MetricQuery], window: TimeWindow) -> pd.DataFrame:
        """As CloudWatch answers: the start rounded for its age, and a query whose period the retention tier
        of the window's start no longer keeps (or finer than the demo's 1-minute data) answered with nothing
        and listed in :attr:`problems` — the demo never serves what CloudWatch could not."""
        self.calls += 1
        window = cloudwatch_window(window, self.now)
        exprs = [q for q in queries if q.expression is not None]
        if exprs:
            self.series(exprs[0], window)  # raises the explanatory error
        ok, probs = servable(queries, window, self.now)
        fine = [q for q in ok if q.period < 60]
        probs += [problem(q, window, f"period {q.period} s is finer than the demo's 1-minute data", "resolution")
                  for q in fine]
        cols = {q.label: self.series(q, window) for q in ok if q.period >= 60}
        cols |= {p["query"]: pd.Series(dtype="float64") for p in probs}
        self.problems += probs
        return mark_incomplete(assemble(cols, queries, window), probs)

    def full_resolution(self, queries: Sequence[MetricQuery], window: TimeWindow) -> pd.DataFrame:
        """The simulation's values at any period and age, without CloudWatch's retention limits: what the
        services published at the time (the demo's alarm history is evaluated on this, as CloudWatch evaluated
        its alarms when the data was fresh)."""
        return assemble({q.label: self.series(q, window) for q in queries}, queries, window)

    def events(self, window: TimeWindow) -> pd.DataFrame:
        """Deploy events (routine and incident-linked) and the scenario's incidents (ground truth)."""
        rows = []
        for d in self.deploys(window):
            rows.append(d)
        for o in self.occurrences(window):
            inc = o.incident
            rows.append({"start": o.start, "end": o.end, "kind": "incident", "source": "scenario",
                         "severity": inc.severity, "summary": inc.title, "id": o.id, "cause": _sel(inc.cause)})
        if not rows:
            return empty_events()
        df = pd.DataFrame(rows)
        return df[EVENT_COLUMNS + [c for c in df.columns if c not in EVENT_COLUMNS]].sort_values(
            "start", kind="stable").reset_index(drop=True)

    def incidents(self, window: TimeWindow) -> pd.DataFrame:
        """Ground truth: ``id, incident, kind, start, end, severity, title, cause, metrics`` (metrics the incident
        changes) for occurrences in ``window``."""
        rows = [{"id": o.id, "incident": o.incident.id, "kind": o.incident.kind, "start": o.start, "end": o.end,
                 "severity": o.incident.severity, "title": o.incident.title, "cause": _sel(o.incident.cause),
                 "metrics": sorted(_with_derived({f"{e.namespace}/{e.metric}" for e in o.incident.effects}))}
                for o in self.occurrences(window)]
        cols = ["id", "incident", "kind", "start", "end", "severity", "title", "cause", "metrics"]
        return pd.DataFrame(rows, columns=cols)

    def deploys(self, window: TimeWindow) -> list[dict]:
        sc = self.scenario
        out = []
        anchor = pd.Timestamp(sc.anchor)
        t = parse_duration(sc.deploy_time)
        day0 = max(window.start.floor("D"), anchor.floor("D"))
        for day in pd.date_range(day0, window.end.floor("D"), freq="D"):
            if day.weekday() in sc.deploy_days:
                at = day + t
                if window.start <= at < window.end and at < self.now:
                    out.append(self._deploy_row(at, "routine deploy"))
        for o in self.occurrences(TimeWindow(window.start - pd.Timedelta(hours=2), window.end)):
            if o.incident.deploy:
                at = o.start - parse_duration(o.incident.deploy)
                if window.start <= at < window.end:
                    out.append(self._deploy_row(at, f"deploy before {o.incident.id}"))
        return sorted(out, key=lambda r: r["start"])

    def version_at(self, at: pd.Timestamp) -> str:
        """The application version live at ``at``: 2.4.N where N counts routine deploys since the anchor."""
        sc = self.scenario
        anchor = pd.Timestamp(sc.anchor)
        if at <= anchor:
            return "2.4.0"
        days = pd.date_range(anchor.floor("D"), at.floor("D"), freq="D")
        t = parse_duration(sc.deploy_time)
        n = int(sum(1 for d in days if d.weekday() in sc.deploy_days and d + t <= at))
        return f"2.4.{n}"

    def _deploy_row(self, at, why) -> dict:
        v = self.version_at(at + pd.Timedelta(seconds=1))
        if why.startswith("deploy before"):
            v = v + "-hotfix"
        return {"start": at, "end": at + pd.Timedelta(minutes=2), "kind": "deploy", "source": "amplify",
                "severity": "info", "summary": f"{why}: version {v}", "version": v}

    def alarm_history(self, window: TimeWindow, alarm_names=None) -> pd.DataFrame:
        return demo_alarm_history(self, window, alarm_names)

    def logs(self, log_group: str, window: TimeWindow, filter_pattern: str | None = None) -> pd.DataFrame:
        return demo_logs(self, log_group, window, filter_pattern)


def _with_derived(metrics: set[str]) -> set[str]:
    """Metrics an incident changes, with those derived from them (the health probe fails on ALB 5XX)."""
    if "AWS/ApplicationELB/HTTPCode_Target_5XX_Count" in metrics:
        metrics = metrics | {"RealTechee/Health/HealthCheckFailed"}
    return metrics


def _glob(value, pattern) -> bool:
    return value is not None and fnmatch.fnmatchcase(value, str(pattern))


def _sel(m: MetricSelector) -> str:
    d = ",".join(f"{k}={v}" for k, v in sorted(m.dimensions.items()))
    return f"{m.namespace}/{m.metric}" + (f"[{d}]" if d else "")


def _make_demo(environment="demo", **kw) -> DemoSource:
    return DemoSource(environment=environment, **kw)


HISTORY_ORIGIN = pd.Timestamp("2026-01-05", tz="UTC")


def demo_alarm_history(src, window: TimeWindow, alarm_names: Sequence[str] | None = None) -> pd.DataFrame:
    """The demo's alarm history: the catalog's alarms evaluated over the demo's metrics.

    History is a fact of the source, the same whatever window asks for it: every alarm is evaluated once from
    a fixed origin (:data:`HISTORY_ORIGIN`; for windows before it, one day before the window) up to the
    source's ``now``, on clock-aligned periods as CloudWatch evaluates, at full resolution (as the data was
    when CloudWatch evaluated it), and each window takes its slice.
    """
    alarms = load_alarms(environment=src.environment.name)
    if alarm_names:
        alarms = [a for a in alarms if a.AlarmName in set(alarm_names)]
    if not alarms:
        return empty_alarm_history()
    origin = HISTORY_ORIGIN if window.start >= HISTORY_ORIGIN + pd.Timedelta(days=1) else \
        (window.start - pd.Timedelta(days=1)).floor("D")
    memo = getattr(src, "_alarm_history", None)
    if memo is None:
        memo = {}
    frames = []
    for a in alarms:
        key = (a.model_dump_json(), origin)
        if key not in memo:
            end = max(src.now, window.end)
            full = TimeWindow(origin.floor(f"{a.Period}s"), end)
            series = src.full_resolution([a.query()], full)[a.AlarmName]
            memo[key] = evaluate(a, series).timeline
        tr = memo[key]
        frames.append(tr[(tr["timestamp"] >= window.start) & (tr["timestamp"] < window.end)])
    df = pd.concat(frames, ignore_index=True)
    if df.empty:
        return empty_alarm_history()
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True).dt.as_unit("ns")
    df = df.astype({c: object for c in ("alarm", "from_state", "to_state", "reason")})
    return df.sort_values("timestamp", kind="stable").reset_index(drop=True)
