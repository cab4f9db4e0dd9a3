"""SLOs: SLIs, attainment, error budgets, burn rates, burndown and multiwindow burn-rate alerting.

Pure functions over an :class:`Sli` — per-period ``good`` and ``total`` counts on a regular grid:

* request-based (OpenSLO ``Occurrences``; CloudWatch Application Signals' request-based SLOs): good and bad
  *events* per 1-minute period;
* period-based (``Timeslices``/``RatioTimeslices``; Application Signals' period-based SLOs): each time slice is
  one good or bad *period*.

Formulas (all windows half-open, counts summed over the window):

* attainment           = good / total
* error budget         = (1 - target) x total                      (allowed bad events or bad slices)
* consumed             = bad / budget;   remaining = 1 - consumed   (exactly 1 when nothing is bad)
* burn rate over w     = (bad_w / total_w) / (1 - target)           (1 = spending the budget exactly on time)
* share of a T-window budget burnt at rate b for d = b x d / T      (14.4 for 1 h of 30 days = 2%)
* detection time of a burn-rate rule (long window W, rate b) for an error ratio e
                       = (1 - target) / e x W x b                   (100% errors, 99.9%, 1 h, 14.4: 51.8 s)

Missing data (documented policy): a period without data is neither good nor bad — it leaves ``total`` — for
request-based SLIs; for slices the ``missing`` policy decides (``exclude`` by default, or ``good``/``bad``).
An SLI whose newest datapoint is older than ``stale_after`` is flagged stale, never counted as good.
Excluded periods (maintenance, deploys) are removed from good and total alike.
Sources: Google SRE Workbook, "Alerting on SLOs" (https://sre.google/workbook/alerting-on-slos/);
OpenSLO v1; CloudWatch Application Signals SLO concepts.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Sequence, TypeVar

import numpy as np
import pandas as pd

from .timewindow import parse_duration


@dataclass
class Sli:
    """``good``/``total`` per period starting at ``index`` (period ``period_s`` seconds); ``has_data`` marks
    periods where the source had data; ``kind`` is ``requests`` or ``slices``."""

    index: pd.DatetimeIndex
    good: np.ndarray
    total: np.ndarray
    period_s: int
    kind: str = "requests"
    has_data: np.ndarray | None = None
    excluded: np.ndarray | None = None

    def __post_init__(self):
        self.good = np.asarray(self.good, dtype="float64")
        self.total = np.asarray(self.total, dtype="float64")
        if not isinstance(self.index, pd.DatetimeIndex):
            self.index = pd.DatetimeIndex(self.index)
        if self.has_data is None:
            self.has_data = self.total > 0
        if self.excluded is None:
            self.excluded = np.zeros(self.good.size, dtype=bool)

    @property
    def bad(self) -> np.ndarray:
        b = self.__dict__.get("_bad")
        if b is None:
            b = self.__dict__["_bad"] = self.total - self.good
        return b

    def cumulative(self, what: str) -> np.ndarray:
        """Cumulative sums (with a leading 0) of ``good``, ``bad`` or ``total``, computed once per SLI."""
        cache = self.__dict__.setdefault("_cum", {})
        if what not in cache:
            if what == "bad" and "_bad" not in self.__dict__:  # total - good, without a third array of counts
                out = self.cumulative("total") - self.cumulative("good")
                if self.__dict__.get("_exact_good") and self.__dict__.get("_exact_total"):
                    self.__dict__["_exact_bad"] = True  # differences of exact whole sums are exact
            else:
                out = np.empty(getattr(self, what).size + 1)
                self.__dict__[f"_exact_{what}"] = _cumsum0(getattr(self, what), out)
            cache[what] = out
        return cache[what]

    def window_sum(self, what: str, n: int, out: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``what`` over the trailing ``n`` periods at every period (fewer at the start); into ``out``
        when given (a scratch buffer: see :meth:`scratch`)."""
        return _window_from_cumsum(self.cumulative(what), n, self.output(self.good.size) if out is None else out)

    def output(self, size: int) -> np.ndarray:
        """An uninitialised float64 array for a result of this SLI that is kept and written in full (a burn rate,
        a rolling attainment)."""
        return np.empty(size)

    def scratch(self) -> np.ndarray:
        """A reusable buffer of the SLI's length for temporaries (the denominators of ratios): one allocation per
        SLI instead of one per window (at 130,000 minutes each is 1 MB and its page faults)."""
        buf = self.__dict__.get("_scratch")
        if buf is None:
            buf = self.__dict__["_scratch"] = np.empty(self.good.size)
        return buf

    def no_total_windows(self, n: int) -> np.ndarray | None:
        """The periods whose trailing ``n``-period window has no total at all (sums to exactly 0), from the runs
        of periods without total; None when that is not cheap and certain: totals not whole numbers (a tiny
        total could vanish in the cumulative sum) or more than an eighth of the periods without total."""
        runs = self.__dict__.get("_zero_runs", False)
        if runs is False:
            runs = None
            self.cumulative("total")
            if self.__dict__.get("_exact_total"):
                z = np.flatnonzero(self.total == 0)
                if z.size <= self.total.size // 8:
                    cut = np.flatnonzero(np.diff(z) != 1)
                    runs = (z[np.concatenate(([0], cut + 1))], z[np.concatenate((cut, [z.size - 1]))]) if z.size \
                        else (z, z)
            self.__dict__["_zero_runs"] = runs
        if runs is None:
            return None
        first, last = runs
        # a window ending at i is empty when a run covers its n periods, or all of [0, i] for a run from 0
        lo = np.where(first == 0, 0, first + (n - 1))
        keep = lo <= last
        lo, length = lo[keep], last[keep] - lo[keep] + 1
        if not length.size:
            return np.zeros(0, np.intp)
        offsets = np.concatenate(([0], np.cumsum(length)[:-1]))
        return np.arange(int(length.sum())) + np.repeat(lo - offsets, length)

    def slice(self, start, end) -> "Sli":
        """The periods starting in ``[start, end)`` (views, no copies: the index is sorted)."""
        a = self.index.searchsorted(pd.Timestamp(start), side="left")
        b = self.index.searchsorted(pd.Timestamp(end), side="left")
        return Sli(self.index[a:b], self.good[a:b], self.total[a:b], self.period_s, self.kind, self.has_data[a:b],
                   self.excluded[a:b])


OPS = {"lt": np.less, "lte": np.less_equal, "gt": np.greater, "gte": np.greater_equal}


def occurrences_sli(index, good=None, total=None, bad=None, period_s: int = 60) -> Sli:
    """Request-based SLI from per-period counts (``good`` or ``bad``, and ``total``). A period where ``total``
    is missing has no data; ``good``/``bad`` missing while ``total`` exists count as 0 (CloudWatch publishes
    the ALB code counts only when non-zero). Written to allocate few arrays: this runs on every SLO."""
    # fmax(x, 0) is one pass into a fresh array: NaN (no data) becomes 0 and so does a negative count, which no
    # counter produces; a period has data when its total is > 0 (NaN > 0 is False)
    t = np.fmax(np.asarray(total, dtype="float64"), 0.0)
    has = np.greater(np.asarray(total, dtype="float64"), 0.0)
    g = np.fmax(np.asarray(good if good is not None else bad, dtype="float64"), 0.0)
    if good is None:  # good = total - bad, at least 0 (bad >= 0 already keeps it <= total)
        np.subtract(t, g, out=g)
        np.maximum(g, 0.0, out=g)
    else:  # good <= total (0 where total is missing)
        np.minimum(g, t, out=g)
    return Sli(pd.DatetimeIndex(index), g, t, period_s, "requests", has)


def timeslice_sli(index, values, op: str, threshold: float, period_s: int, missing: str = "exclude") -> Sli:
    """Period-based SLI: a slice is good when ``value op threshold``; a slice without data follows ``missing``
    (``exclude``: not counted, ``good``, ``bad``)."""
    v = np.asarray(values, dtype="float64")
    has = ~np.isnan(v)
    with np.errstate(invalid="ignore"):
        ok = OPS[op](v, threshold) & has
    if missing == "exclude":
        total = has.astype(float)
        good = ok.astype(float)
    elif missing == "good":
        total = np.ones(v.size)
        good = (ok | ~has).astype(float)
    elif missing == "bad":
        total = np.ones(v.size)
        good = ok.astype(float)
    else:
        raise ValueError(f"missing policy {missing!r}: use exclude, good or bad")
    return Sli(pd.DatetimeIndex(index), good, total, period_s, "slices", has)


def fraction_sli(index, good_fraction, period_s: int, missing: str = "exclude") -> Sli:
    """A period-based SLI whose periods are partly good: each period with data counts 1, of which
    ``good_fraction`` (0..1, e.g. a precomputed success ratio) is good. The budget is then the mean of the
    periods' ratios (OpenSLO ``RatioTimeslices`` without ``timeSliceTarget``, or a ``raw`` ratio metric).
    Periods without data follow ``missing`` like :func:`timeslice_sli` (exclude, good or bad)."""
    f = pd.Series(good_fraction, dtype="float64").to_numpy(dtype=float)
    has = np.isfinite(f)
    f = np.clip(np.nan_to_num(f, nan=0.0), 0.0, 1.0)
    if missing == "good":
        good, total = np.where(has, f, 1.0), np.ones_like(f)
    elif missing == "bad":
        good, total = np.where(has, f, 0.0), np.ones_like(f)
    else:
        good, total = np.where(has, f, 0.0), has.astype(float)
    return Sli(pd.DatetimeIndex(index), good, total, period_s, "slices", has)


def ratio_timeslice_sli(index, good, total, slice_target: float, period_s: int, missing: str = "exclude") -> Sli:
    """Period-based SLI from a ratio: a slice is good when good/total >= ``slice_target``."""
    g = np.asarray(good, dtype=float)
    t = np.asarray(total, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(t > 0, np.nan_to_num(g, nan=0.0) / t, np.nan)
    return timeslice_sli(index, ratio, "gte", slice_target, period_s, missing)


def exclude(sli: Sli, intervals: Iterable[tuple]) -> Sli:
    """A copy of ``sli`` with every period overlapping an interval ``(start, end)`` removed from good and total."""
    mask = np.zeros(sli.good.size, dtype=bool)
    p = pd.Timedelta(seconds=sli.period_s)
    for s, e in intervals:
        s, e = pd.Timestamp(s), pd.Timestamp(e)
        mask |= (sli.index < e) & (sli.index + p > s)
    return Sli(sli.index, np.where(mask, 0.0, sli.good), np.where(mask, 0.0, sli.total), sli.period_s, sli.kind,
               sli.has_data & ~mask, sli.excluded | mask)


_EXACT_MAX = 2.0 ** 53  # whole numbers up to here are exact in float64, and so is every sum that stays below
_INT_MIN_SIZE = 2048  # below this the checks cost more than the float loop


def _cumsum0(x: np.ndarray, out: np.ndarray) -> bool:
    """``out[0] = 0`` and ``out[1:] = cumsum(x)``; True when ``x`` holds whole numbers >= 0 whose sum stays
    below 2**53 (nearly always: requests, errors, slices), which are then summed as int64 — about 3x faster than
    numpy's float accumulate (a serial add, 3.3 ns per value here) and bitwise the same, since every partial sum
    is exact either way."""
    out[0] = 0.0
    # whole numbers from 0 to 2**53 / size: every partial sum is below 2**53 (and int64 cannot overflow)
    if x.size >= _INT_MIN_SIZE and x.min() >= 0 and x.max() * x.size < _EXACT_MAX:  # False for NaN too
        xi = x.astype(np.int64)
        if np.array_equal(xi, x):
            np.cumsum(xi, out=xi)  # in place: no second array of counts
            out[1:] = xi
            return True
    np.cumsum(x, out=out[1:])
    return False


def _window_from_cumsum(c: np.ndarray, n: int, out: np.ndarray | None = None) -> np.ndarray:
    size = c.size - 1
    out = np.empty(size) if out is None else out
    k = min(n, size)
    out[:k] = c[1:k + 1]
    np.subtract(c[k + 1:], c[1:size - k + 1], out=out[k:])
    return out


def rolling_sum(x: np.ndarray, n: int) -> np.ndarray:
    """Sum over the trailing ``n`` periods (fewer at the start), through one cumulative sum and two slices."""
    return _window_from_cumsum(np.concatenate(([0.0], np.cumsum(x))), n)


_TINY = 1e-300


@lru_cache(maxsize=1024)
def periods_in(window, period_s: int) -> int:
    return max(int(round(parse_duration(window).total_seconds() / period_s)), 1)


def attainment(sli: Sli, window) -> pd.Series:
    """Rolling attainment good/total over the trailing ``window`` at every period (NaN with no data)."""
    n = periods_in(window, sli.period_s)
    out = sli.output(sli.good.size)
    g = _window_from_cumsum(sli.cumulative("good"), n, out)  # the result: divided in place
    t = sli.window_sum("total", n, sli.scratch())  # a temporary: into the SLI's scratch buffer
    # a window without data sums to exactly 0 in both (equal cumulative sums; good <= total always), and
    # 0/0 is the NaN it must be: one pass, no mask
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(g, t, out=g)
    return pd.Series(g, index=sli.index, name="attainment", copy=False)


def burn_rate(sli: Sli, window, target: float) -> np.ndarray:
    """Burn rate over the trailing ``window`` at every period: (bad/total)/(1 - target); 0 without traffic."""
    n = periods_in(window, sli.period_s)
    cache = sli.__dict__.setdefault("_burn", {})
    key = (n, float(target))
    if key not in cache:
        r = sli.output(sli.good.size)
        _window_from_cumsum(sli.cumulative("bad"), n, r)  # the result (cached, returned): divided in place
        t = sli.window_sum("total", n, sli.scratch())  # a temporary: the SLI's scratch buffer
        # no traffic: total and bad both sum to exactly 0 (bad <= total), and the burn rate is 0 there: set
        # where the runs of periods without total say (a few positions), or else by dividing by at least tiny
        empty = sli.no_total_windows(n)
        if empty is None:
            np.maximum(t, _TINY, out=t)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(r, t, out=r)
        r *= 1.0 / (1.0 - target)  # (bad/total) x 1/(1 - target): the order every burn rate is compared in
        if empty is not None:
            r[empty] = 0.0
        cache[key] = r
    return cache[key]


@dataclass
class Budget:
    """Error budget of one window, with its working."""

    start: pd.Timestamp
    end: pd.Timestamp
    target: float
    kind: str
    good: float
    total: float
    bad: float
    allowed: float
    consumed: float
    remaining: float
    attainment: float
    period_s: int
    window_minutes: float
    allowed_minutes: float
    remaining_minutes: float
    excluded_periods: int = 0

    @property
    def formula(self) -> str:
        unit = "requests" if self.kind == "requests" else f"{self.period_s // 60}-minute slices"
        return (f"attainment = good/total = {self.good:,.0f}/{self.total:,.0f}; budget = (1 - {self.target:g}) x "
                f"{self.total:,.0f} = {self.allowed:,.2f} bad {unit}; consumed = {self.bad:,.0f}/{self.allowed:,.2f}"
                f" = {self.consumed:.2%}; remaining = {self.remaining:.2%}")

    def row(self) -> dict:
        return {"window": f"{self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M}", "good": self.good,
                "total": self.total, "bad": self.bad, "attainment": self.attainment, "target": self.target,
                "budget (bad allowed)": self.allowed, "consumed": self.consumed, "remaining": self.remaining,
                "budget minutes": self.allowed_minutes, "minutes left": self.remaining_minutes,
                "excluded periods": self.excluded_periods, "formula": self.formula}


def _clean(x: float) -> float:
    return 0.0 if abs(x) < 1e-12 else float(x)


def budget(sli: Sli, target: float, start, end) -> Budget:
    """Error budget over ``[start, end)`` (see module docstring). Remaining is exactly 1 when nothing is bad
    and never NaN; budget minutes are (1 - target) x the window's minutes."""
    s = sli.slice(start, end)
    good, total = float(s.good.sum()), float(s.total.sum())
    bad = total - good
    allowed = (1.0 - target) * total
    consumed = bad / allowed if allowed > 0 else (0.0 if bad == 0 else float("inf"))
    remaining = _clean(1.0 - consumed) if bad else 1.0
    minutes = (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds() / 60
    allowed_min = (1.0 - target) * minutes
    if sli.kind == "slices":
        bad_min = bad * sli.period_s / 60
        remaining_min = _clean(allowed_min - bad_min)
    else:
        remaining_min = _clean(allowed_min * remaining)
    return Budget(pd.Timestamp(start), pd.Timestamp(end), target, sli.kind, good, total, bad, allowed,
                  _clean(consumed), remaining, good / total if total else float("nan"), sli.period_s, minutes,
                  allowed_min, remaining_min, int(s.excluded.sum()))


def burndown(sli: Sli, target: float, start, end) -> pd.Series:
    """Remaining budget through ``[start, end)``: 1 - bad so far / the window's budget, where the budget is
    (1 - target) x all events of the window up to ``end`` (request-based) or x all slices of the whole window
    (period-based). Starts at exactly 1, only falls, and ends at :func:`budget`'s ``remaining``."""
    s = sli.slice(start, end)
    a = sli.index.searchsorted(pd.Timestamp(start), side="left")
    c = sli.cumulative("bad")  # shared with the burn rates: bad so far is a difference, not another cumsum
    cb = np.subtract(c[a + 1:a + 1 + s.good.size], c[a], out=sli.output(s.good.size))
    if sli.kind == "slices":
        n_full = (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds() / sli.period_s
        allowed = (1.0 - target) * s.total.sum() if s.total.sum() else (1.0 - target) * n_full
    else:
        allowed = (1.0 - target) * s.total.sum()
    if allowed > 0:
        rem = cb  # a fresh array: 1 - cb / allowed in place (exactly 1 while nothing is bad)
        rem *= -1.0 / allowed
        rem += 1.0
        rem[np.abs(rem) < 1e-12] = 0.0
    else:
        rem = np.ones(cb.size)
    return pd.Series(rem, index=s.index, name="remaining")


def exhaustion(b: Budget, current_burn: float, window_length) -> pd.Timestamp | None:
    """When the remaining budget runs out at ``current_burn`` (burn 1 spends a whole window's budget in one
    window length): ``end + remaining x window / burn``; None when not burning."""
    if current_burn <= 0 or b.remaining <= 0:
        return b.end if b.remaining <= 0 else None
    return b.end + pd.Timedelta(parse_duration(window_length) * (b.remaining / current_burn))


def budget_share(burn: float, duration, window) -> float:
    """Share of a ``window``'s budget spent burning at ``burn`` for ``duration``."""
    return burn * parse_duration(duration) / parse_duration(window)


def detection_time(target: float, error_ratio: float, long_window, burn: float) -> pd.Timedelta:
    """How long a burn-rate rule on ``long_window`` at ``burn`` takes to fire for a constant ``error_ratio``."""
    return parse_duration(long_window) * ((1.0 - target) / error_ratio * burn)


@dataclass(frozen=True)
class BurnRule:
    name: str
    severity: str
    long: str
    short: str
    burn: float
    alert_after: str = "0m"


WORKBOOK_RULES = (BurnRule("page-fast-burn", "page", "1h", "5m", 14.4), BurnRule("page-slow-burn", "page", "6h",
                  "30m", 6.0), BurnRule("ticket-burn", "ticket", "3d", "6h", 1.0))


def short_window(long) -> str:
    """The Workbook's short window: 1/12 of the long one (1h → 5m, 6h → 30m, 3d → 6h)."""
    secs = parse_duration(long).total_seconds() / 12
    return f"{int(secs)}s"


def burn_alerts(sli: Sli, target: float, rules: Sequence[BurnRule] = WORKBOOK_RULES) -> pd.DataFrame:
    """Multiwindow, multi-burn-rate alerts: a rule fires while both its long- and short-window burn rates are at
    or above its burn rate (held ``alert_after``); ``rule, severity, start, end`` per alert episode (end = the
    first period the rule no longer holds; NaT if it still holds)."""
    names, sevs, starts, ends = [], [], [], []
    n = sli.index.size
    on = short_ok = None
    for r in rules:
        hold = periods_in(r.alert_after, sli.period_s) if r.alert_after not in ("0m", "0s", "0") else 0
        # the periods where it changes; alternately a start and an end once a start at 0 (holding from the
        # first period) and an end at n (still holding) are added
        if on is None:
            on, short_ok = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
        np.greater_equal(burn_rate(sli, r.long, target), r.burn, out=on)
        np.greater_equal(burn_rate(sli, r.short, target), r.burn, out=short_ok)
        on &= short_ok
        held = on
        if hold > 1:
            held = rolling_sum(on.astype(float), hold) >= hold
        ch = np.flatnonzero(held[1:] != held[:-1]) + 1
        if n and held[0]:
            ch = np.concatenate(([0], ch))
        if ch.size % 2:
            ch = np.concatenate((ch, [n]))
        s_, e_ = ch[0::2], ch[1::2]
        names += [r.name] * s_.size
        sevs += [r.severity] * s_.size
        starts.append(s_)
        ends.append(e_)
    # the episodes' instants as whole int64 arrays (the period after the rule starts or stops holding): no
    # Timestamp per episode, and the frame built from plain arrays
    s_all = np.concatenate(starts) if starts else np.zeros(0, np.int64)
    e_all = np.concatenate(ends) if ends else np.zeros(0, np.int64)
    unit = sli.index.unit
    stamps = sli.index.asi8
    step = int(pd.Timedelta(seconds=sli.period_s) / pd.Timedelta(1, unit=unit))
    start_i8 = stamps[s_all] + step if n else s_all
    end_i8 = np.where(e_all < n, stamps[np.minimum(e_all, max(n - 1, 0))] + step,
                      np.iinfo(np.int64).min) if n else e_all  # int64 min is NaT
    start, end = (pd.DatetimeIndex(x.view(f"M8[{unit}]")) for x in (start_i8, end_i8))
    if sli.index.tz is not None:
        start, end = start.tz_localize(sli.index.tz), end.tz_localize(sli.index.tz)
    return pd.DataFrame({"rule": np.array(names, dtype=object), "severity": np.array(sevs, dtype=object),
                         "start": start.array, "end": end.array})  # the dict's order: no columns= (2x slower)


def stale(sli: Sli, now, stale_after="30m") -> bool:
    """True when the newest period with data is older than ``stale_after`` before ``now`` (or there is none)."""
    has = np.flatnonzero(sli.has_data)
    if not has.size:
        return True
    last = sli.index[has[-1]] + pd.Timedelta(seconds=sli.period_s)
    return pd.Timestamp(now) - last > parse_duration(stale_after)


T = TypeVar("T")
R = TypeVar("R")


def threads() -> int:
    """Threads for per-SLO work: ``RTANALYTICS_THREADS`` when set (1 turns threading off), else the cores this
    process may use."""
    env = os.environ.get("RTANALYTICS_THREADS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"RTANALYTICS_THREADS={env!r}: use a whole number of threads (1 = no threads)")
    return usable_cores()


def usable_cores() -> int:
    """The cores this process may run on (its affinity, as OpenBLAS also counts them)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def map_slos(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> list[R]:
    """``[fn(x) for x in items]`` on a pool of :func:`threads` threads, in order; the first exception is raised.

    Every analytic here spends its time in numpy's whole-array passes, which release the GIL, so SLOs analysed
    side by side use every core
    (100 SLOs x 90 days: 0.47-0.58 s on one thread, 0.33-0.46 s on two; bench/slo.py). Each item must own its
    SLI: an :class:`Sli` caches its sums and burn rates and is not to be shared between threads."""
    items = list(items)
    n = min(workers or (threads() if len(items) > 1 else 1), len(items))
    if n <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(n, thread_name_prefix="slo") as ex:
        return list(ex.map(fn, items))

