"""Grouped CloudWatch statistics over per-minute raw data, fully vectorised.

Raw data comes in three shapes, matching how AWS services publish:

* **samples of a distribution** (``dist``): in minute *i* there are ``n_i`` samples drawn from a lognormal with
  log-mean ``mu_i`` and log-sd ``sigma_i`` (request latencies, page-load times). A period's percentile is the
  quantile of the *mixture* of its minutes' distributions weighted by ``n_i`` — the p95 of a 5-minute period
  is not the mean of five 1-minute p95s.
* **unit events** (``event``): ``k_i`` samples of value 1 (ALB ``RequestCount``, custom ``Value: 1`` metrics).
  CloudWatch then reports Sum = SampleCount = k and Minimum = Maximum = Average = 1; a minute with no event
  has no datapoint at all.
* **binary samples** (``binary``): ``n_i`` samples of which ``k_i`` are 1 and the rest 0 (Lambda ``Errors``).
* **gauges** (``gauge``): one value per minute (``ConcurrentExecutions``, ``ActiveSessions``).

Every function takes ``group`` (the period index of each minute, non-decreasing) and returns one value per
group present in ``starts`` (the first position of each group); a group without samples is NaN.
"""

from __future__ import annotations

import numpy as np
from ..normaldist import ndtr, ndtri


def group_starts(group: np.ndarray) -> np.ndarray:
    """Positions where a new group begins in a sorted group-id array."""
    if group.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, group[1:] != group[:-1]])


def _sum(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.add.reduceat(x, starts) if x.size else np.zeros(0)


def _nan_where_empty(vals: np.ndarray, count: np.ndarray) -> np.ndarray:
    vals = np.asarray(vals, dtype="float64")
    vals[count <= 0] = np.nan
    return vals


def dist_stat(stat: str, n: np.ndarray, mu: np.ndarray, sigma: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """A CloudWatch statistic of lognormal per-minute samples (see module docstring)."""
    n = n.astype("float64")
    count = _sum(n, starts)
    if stat == "SampleCount":
        return _nan_where_empty(count, count)
    mean_i = np.exp(mu + 0.5 * sigma**2)
    if stat == "Sum":
        return _nan_where_empty(_sum(n * mean_i, starts), count)
    if stat == "Average":
        with np.errstate(invalid="ignore", divide="ignore"):
            return _nan_where_empty(_sum(n * mean_i, starts) / count, count)
    if stat in ("Minimum", "Maximum"):
        # expected extreme order statistic of n_i samples: quantile 1/(n+1) or n/(n+1) of minute i
        has = n > 0
        q = np.where(stat == "Minimum", 1.0, n) / (n + 1.0)
        z = ndtri(np.clip(q, 1e-12, 1 - 1e-12))
        v = np.where(has, np.exp(mu + sigma * z), np.inf if stat == "Minimum" else -np.inf)
        red = np.minimum.reduceat(v, starts) if stat == "Minimum" else np.maximum.reduceat(v, starts)
        return _nan_where_empty(red, count)
    if stat.startswith("p"):
        return _nan_where_empty(_mixture_quantile(float(stat[1:]) / 100.0, n, mu, sigma, starts, count), count)
    if stat.startswith("tm"):
        return _nan_where_empty(_mixture_trimmed_mean(float(stat[2:]) / 100.0, n, mu, sigma, starts, count), count)
    raise ValueError(f"statistic {stat} not supported")


def _mixture_quantile(p, n, mu, sigma, starts, count, tol: float = 1e-12, max_iter: int = 60):
    """Solve ``sum_i n_i Phi((ln x - mu_i)/sigma_i) = p * sum_i n_i`` for each group, in ``ln x``.

    The root lies between the smallest and largest per-minute quantile (each component CDF is <= p at the
    first and >= p at the second), a tight bracket; safeguarded Newton steps (falling back to bisection when a
    step leaves the bracket) converge in a handful of iterations. Groups of one minute are closed-form.
    """
    ngroups = starts.size
    if ngroups == 0:
        return np.zeros(0)
    lengths = np.diff(np.r_[starts, n.size])
    w = np.where(n > 0, n, 0.0)
    z = ndtri(p)
    qi = mu + sigma * z
    big = 1e300
    lo = np.minimum.reduceat(np.where(w > 0, qi, big), starts)
    hi = np.maximum.reduceat(np.where(w > 0, qi, -big), starts)
    ok = count > 0
    lo = np.where(ok, lo, 0.0)
    hi = np.where(ok, hi, 0.0)
    x = 0.5 * (lo + hi)
    target = p * count
    # the groups still solving; each iteration works on their minutes only (on the demo's latencies the 4th
    # iteration still has 80-95 % of the periods, the 5th 1-7 %; on groups of mixed sizes 2.9x in all, with
    # bitwise the same results: each group's arithmetic is unchanged)
    act = np.flatnonzero(ok & (hi - lo > tol))
    for _ in range(max_iter):
        if not act.size:
            break
        la = lengths[act]
        sub = np.zeros(act.size, dtype=np.int64)  # where each active group starts among the gathered minutes
        np.cumsum(la[:-1], out=sub[1:])
        if act.size == ngroups:
            mu_a, sg_a, w_a = mu, sigma, w
        else:
            idx = np.repeat(starts[act] - sub, la) + np.arange(int(la.sum()))
            mu_a, sg_a, w_a = mu[idx], sigma[idx], w[idx]
        xa, lo_a, hi_a = x[act], lo[act], hi[act]
        t = (np.repeat(xa, la) - mu_a) / sg_a
        f = _sum(w_a * ndtr(t), sub) - target[act]
        d = _sum(w_a * np.exp(-0.5 * t * t) / (sg_a * np.sqrt(2 * np.pi)), sub)
        lo_a = np.where(f < 0, xa, lo_a)
        hi_a = np.where(f < 0, hi_a, xa)
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = f / d
        step = xa - delta
        bad = ~np.isfinite(step) | (step < lo_a) | (step > hi_a)
        new = np.where(bad, 0.5 * (lo_a + hi_a), step)
        conv = ~bad & (np.abs(delta) <= tol * np.maximum(1.0, np.abs(xa)))
        x[act], lo[act], hi[act] = new, lo_a, hi_a
        act = act[~conv & (hi_a - lo_a > tol)]
    return np.exp(x)


def _mixture_trimmed_mean(p, n, mu, sigma, starts, count):
    """Mean of the mixture restricted to [0, q_p] (CloudWatch ``tmNN`` = trimmed mean of the lowest NN%)."""
    lengths = np.diff(np.r_[starts, n.size])
    q = np.log(_mixture_quantile(p, n, mu, sigma, starts, count))
    qq = np.repeat(q, lengths)
    # E[X; X <= q] for lognormal = exp(mu + s^2/2) * Phi((ln q - mu - s^2)/s)
    part = n * np.exp(mu + 0.5 * sigma**2) * ndtr((qq - mu - sigma**2) / sigma)
    mass = n * ndtr((qq - mu) / sigma)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _sum(part, starts) / _sum(mass, starts)


def event_stat(stat: str, k: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Statistics of ``k_i`` unit-valued samples per minute."""
    count = _sum(k.astype("float64"), starts)
    if stat in ("Sum", "SampleCount"):
        return _nan_where_empty(count, count)
    return _nan_where_empty(np.ones_like(count), count)  # Average, Minimum, Maximum, pNN, tmNN of 1s


def binary_stat(stat: str, n: np.ndarray, k: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Statistics of ``n_i`` samples of which ``k_i`` equal 1 and the rest 0."""
    count = _sum(n.astype("float64"), starts)
    ones = _sum(k.astype("float64"), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = ones / count
    if stat == "SampleCount":
        return _nan_where_empty(count, count)
    if stat == "Sum":
        return _nan_where_empty(ones, count)
    if stat == "Average":
        return _nan_where_empty(frac, count)
    if stat == "Minimum":
        return _nan_where_empty((ones >= count).astype(float), count)
    if stat == "Maximum":
        return _nan_where_empty((ones > 0).astype(float), count)
    if stat.startswith("p"):
        p = float(stat[1:]) / 100.0
        return _nan_where_empty((frac > 1.0 - p).astype(float), count)
    if stat.startswith("tm"):
        p = float(stat[2:]) / 100.0
        zeros = count - ones
        kept = np.maximum(p * count, 1e-12)
        ones_kept = np.clip(kept - zeros, 0, None)
        return _nan_where_empty(ones_kept / kept, count)
    raise ValueError(f"statistic {stat} not supported")


def gauge_stat(stat: str, v: np.ndarray, group: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Statistics of one value per minute (NaN = no datapoint that minute)."""
    has = ~np.isnan(v)
    count = _sum(has.astype("float64"), starts)
    vz = np.where(has, v, 0.0)
    if stat == "SampleCount":
        return _nan_where_empty(count, count)
    if stat == "Sum":
        return _nan_where_empty(_sum(vz, starts), count)
    if stat == "Average":
        with np.errstate(invalid="ignore", divide="ignore"):
            return _nan_where_empty(_sum(vz, starts) / count, count)
    if stat == "Minimum":
        return _nan_where_empty(np.minimum.reduceat(np.where(has, v, np.inf), starts), count)
    if stat == "Maximum":
        return _nan_where_empty(np.maximum.reduceat(np.where(has, v, -np.inf), starts), count)
    if stat.startswith("p") or stat.startswith("tm"):
        return _nan_where_empty(grouped_quantile_values(stat, v, group, starts), count)
    raise ValueError(f"statistic {stat} not supported")


def grouped_quantile_values(stat: str, v: np.ndarray, group: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """pNN (linear interpolation between order statistics) or tmNN over raw values, per group, vectorised."""
    has = ~np.isnan(v)
    ngroups = starts.size
    gid = np.repeat(np.arange(ngroups), np.diff(np.r_[starts, v.size]))
    g, vals = gid[has], v[has]
    order = np.lexsort((vals, g))
    g, vals = g[order], vals[order]
    cnt = np.bincount(g, minlength=ngroups)
    first = np.r_[0, np.cumsum(cnt)[:-1]]
    out = np.full(ngroups, np.nan)
    nz = cnt > 0
    if stat.startswith("p"):
        p = float(stat[1:]) / 100.0
        pos = first + p * (cnt - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, first + cnt - 1)
        frac = pos - lo
        lo_c, hi_c = np.clip(lo, 0, max(vals.size - 1, 0)), np.clip(hi, 0, max(vals.size - 1, 0))
        if vals.size:
            out[nz] = (vals[lo_c] * (1 - frac) + vals[hi_c] * frac)[nz]
        return out
    p = float(stat[2:]) / 100.0
    keep_n = np.maximum(np.floor(p * cnt).astype(np.int64), 1)
    rank = np.arange(vals.size) - np.repeat(first, cnt)
    kept = rank < np.repeat(keep_n, cnt)
    s = np.bincount(g, weights=np.where(kept, vals, 0.0), minlength=ngroups)
    out[nz] = (s / keep_n)[nz]
    return out
