"""The source protocol and its registry (one door for data; see DESIGN.md, "Sources").

A source answers five questions over a :class:`~rtanalytics.timewindow.TimeWindow`:

* ``metrics(queries, window)`` — a wide metrics frame, one column per query label, indexed by period start
  (epoch-aligned as CloudWatch aligns), covering the window's aligned period grid; missing periods are NaN.
* ``list_metrics(namespace, metric, dimensions)`` — discovery, as ListMetrics (dimension values may be globs).
* ``logs(log_group, window, filter_pattern)`` — the logs frame.
* ``alarm_history(window, alarm_names)`` — the alarm-history frame.
* ``events(window)`` — deploys and other timeline events the source knows of.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..frames import metrics_frame, utc_index
from ..queries import MetricQuery
from ..retention import check_period, cloudwatch_start
from ..timewindow import TimeWindow


@dataclass(frozen=True)
class MetricId:
    """One metric as ListMetrics returns it: namespace, name and (sorted) dimensions."""

    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...] = ()

    def query(self, stat: str = "Average", period: int = 300, **kw) -> MetricQuery:
        return MetricQuery(self.namespace, self.metric, self.dimensions, stat=stat, period=period, **kw)


def match_metric(m: MetricId, namespace=None, metric=None, dimensions: dict | None = None) -> bool:
    """ListMetrics matching: equal namespace and name when given; every given dimension present, its value
    matching (``*`` and ``?`` globs allowed); with ``dimensions`` given, no extra dimensions."""
    if namespace and m.namespace != namespace:
        return False
    if metric and not fnmatch.fnmatchcase(m.metric, metric):
        return False
    if dimensions is not None:
        have = dict(m.dimensions)
        if set(have) != set(dimensions):
            return False
        for k, pat in dimensions.items():
            if not fnmatch.fnmatchcase(have[k], str(pat)):
                return False
    return True


@runtime_checkable
class Source(Protocol):
    name: str

    def metrics(self, queries: Sequence[MetricQuery], window: TimeWindow) -> pd.DataFrame: ...

    def list_metrics(self, namespace: str | None = None, metric: str | None = None,
                     dimensions: dict | None = None) -> list[MetricId]: ...

    def logs(self, log_group: str, window: TimeWindow, filter_pattern: str | None = None) -> pd.DataFrame: ...

    def alarm_history(self, window: TimeWindow, alarm_names: Sequence[str] | None = None) -> pd.DataFrame: ...

    def events(self, window: TimeWindow) -> pd.DataFrame: ...


def problem(q: MetricQuery | None, window: TimeWindow, reason: str, kind: str) -> dict:
    """One entry of a source's ``problems``: what could not be had, over which time, why (``kind``: fetch,
    denied, partial, retention, resolution, no-data, logs, alarm-history, events)."""
    return {"query": q.label if q is not None else "?", "id": q.id if q is not None else "?",
            "start": window.start.isoformat(), "end": window.end.isoformat(), "reason": reason, "kind": kind}


def servable(queries: Sequence[MetricQuery], window: TimeWindow, now) -> tuple[list[MetricQuery], list[dict]]:
    """Split ``queries`` into those CloudWatch can answer for ``window`` (asked at ``now``) and a problem for
    each of the others: a period finer than the retention tier of the window's start returns no datapoints
    (see :mod:`rtanalytics.retention`), so it is never sent and never read as "no data"."""
    ok, probs = [], []
    for q in queries:
        why = check_period(q.period, window.start, now)
        if why is None:
            ok.append(q)
        else:
            probs.append(problem(q, window, why, "retention"))
    return ok, probs


def cloudwatch_window(window: TimeWindow, now) -> TimeWindow:
    """``window`` with its start rounded down as CloudWatch rounds a GetMetricData StartTime of that age."""
    start = cloudwatch_start(window.start, now)
    return window if start == window.start else TimeWindow(start, window.end)


def mark_incomplete(df: pd.DataFrame, probs: Sequence[dict]) -> pd.DataFrame:
    """Record on ``df.attrs["incomplete"]`` (label → reason) which columns are not complete: the cache stores
    nothing of them, and reports say ``partial``."""
    inc = dict(df.attrs.get("incomplete", {}))
    for p in probs:
        inc.setdefault(p["query"], p["reason"])
    df.attrs["incomplete"] = inc
    return df


def period_grid(window: TimeWindow, period: int) -> pd.DatetimeIndex:
    """Start instants of the periods covering ``window``, as GetMetricData lays them out: from the start time
    rounded down to the whole minute (CloudWatch's rounding for data under 15 days old), one every ``period``
    seconds until the end time is covered."""
    s0, n = grid_bounds(window, period)
    secs = s0 + period * np.arange(n, dtype=np.int64)
    return utc_index(pd.to_datetime(secs, unit="s", utc=True))


def grid_bounds(window: TimeWindow, period: int) -> tuple[int, int]:
    """``(first period start in epoch seconds, number of periods)`` for :func:`period_grid`."""
    s0 = int(window.start.floor("min").timestamp()) if period >= 60 else int(window.start.floor("s").timestamp())
    end = window.end.timestamp()
    n = max(int(np.ceil((end - s0) / period)), 1)
    return s0, n


def assemble(columns: dict[str, pd.Series], queries: Sequence[MetricQuery], window: TimeWindow) -> pd.DataFrame:
    """Put per-query series on the union of the queries' period grids, in query order.

    A value stamped between grid points (CloudWatch rounds the start time of old data to 5 minutes or an hour;
    an export may have started at another minute) goes to the period that contains it rather than being lost.
    Whole arrays: each column's values are written into one preallocated block at their grid positions."""
    grids = {p: period_grid(window, p) for p in sorted({q.period for q in queries})}
    grid = None
    for g in grids.values():
        grid = g if grid is None else grid.union(g)
    index = metrics_frame({}, grid if grid is not None else []).index
    gi = index.asi8
    kept = [q for q in queries if q.return_data]
    single = len(grids) == 1  # one period: its grid is the union grid
    block = np.full((len(index), len(kept)), np.nan)
    for j, q in enumerate(kept):
        s = columns[q.label]
        g = grids[q.period]
        if not len(s) or not len(g):
            continue
        ts = pd.DatetimeIndex(s.index)
        ts = (ts.tz_convert("UTC") if ts.tz is not None else ts.tz_localize("UTC")).as_unit(index.unit).asi8
        ga = g.as_unit(index.unit).asi8
        step = q.period * _per_second(index.unit)
        # the period containing each value: the grid is regular, so arithmetic, not a binary search
        pos = (ts - ga[0]) // step
        ok = (pos >= 0) & (pos < len(ga))
        vals = s.to_numpy(dtype=float)
        if not ok.all():
            pos, vals = pos[ok], vals[ok]
        rows = pos if single else np.searchsorted(gi, ga[pos])  # the period's row in the union grid
        block[rows, j] = vals  # in time order: a later value for the same period wins, as before
    return pd.DataFrame(block, index=index, columns=pd.Index([q.label for q in kept], name="label"), copy=False)


def _per_second(unit: str) -> int:
    return {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]


_REGISTRY: dict[str, Callable[..., Source]] = {}

#: the built-in sources, named the way a plugin names its factory ("module:factory"), imported when first used:
#: the registry sits below the sources it lists (as fsspec's ``known_implementations``)
BUILTIN = {"cloudwatch": "rtanalytics.sources.cloudwatch:_make_cloudwatch",
           "demo": "rtanalytics.sources.demo:_make_demo",
           "files": "rtanalytics.sources.files:_make_files"}


def register_source(name: str):
    """Decorator: register a source factory under ``name`` (a plugin's own, or one made in a notebook)."""

    def deco(factory):
        _REGISTRY[name] = factory
        return factory

    return deco


def source_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_source(name: str = "demo", **options) -> Source:
    """Create the source registered as ``name`` with its options (for example ``environment=``)."""
    _load_builtin()
    if isinstance(name, Source):
        return name
    if name not in _REGISTRY:
        raise ParameterError("source", f"unknown source {name!r}", ", ".join(sorted(_REGISTRY)))
    return _REGISTRY[name](**options)


_PLUGINS_LOADED = False


def _by_path(path: str) -> Callable[..., Source]:
    """A factory named ``module:attribute``, imported at its first call."""

    def lazy(*args, **kw):
        module, _, attr = path.partition(":")
        return getattr(import_module(module), attr)(*args, **kw)

    return lazy


def _load_builtin():
    """The built-in sources (:data:`BUILTIN`), then any a team's package declares under the
    ``rtanalytics.sources`` entry-point group (``name = "package.module:factory"``), each imported when first
    used. A plugin never replaces a built-in name."""
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    for name, path in BUILTIN.items():
        _REGISTRY.setdefault(name, _by_path(path))
    for ep in entry_points(group="rtanalytics.sources"):
        if ep.name in _REGISTRY:
            continue

        def lazy(*args, _ep=ep, **kw):
            return _ep.load()(*args, **kw)

        _REGISTRY[ep.name] = lazy
