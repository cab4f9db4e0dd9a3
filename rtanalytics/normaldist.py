"""The standard normal CDF and its inverse over whole arrays, in numpy alone.

The demo's per-minute latency distributions need normal CDFs over every minute of a window (percentiles of a
mixture of lognormals: sources/stats.py). ``scipy.special`` has them, but importing it costs 0.15-0.2 s (it
pulls in scipy's array-API layer) in every report kernel that reads the demo — a tenth of a small report's
run (bench/README.md). These give the same values (checked against scipy and the standard library in
tests/test_normaldist.py):

* :func:`ndtr` — Phi(x) = erfc(-x/sqrt 2)/2, from erfc(z) = t * g(t) * exp(-z^2) with t = 2/(2+z) for z >= 0,
  where g is smooth on [0, 1] and represented by a Chebyshev series. The series is fitted when the module is
  imported, at Chebyshev nodes whose values come from :func:`math.erfc` (and the asymptotic series of the scaled
  erfc for z >= 10, where erfc underflows). Relative error of erfc at most 3e-15 over [0, 27] against
  :func:`math.erfc` (scipy's: 6e-14); exp(-z^2) is taken in two parts so z^2's rounding does not add to it.
* :func:`ndtri` — the inverse: a rational first guess (Abramowitz & Stegun 26.2.23, |error| < 4.5e-4) in the
  smaller tail, then three Halley steps on :func:`ndtr` (cubic convergence: below 1e-13 absolute).

NaN stays NaN; ndtri(0) = -inf, ndtri(1) = inf, outside [0, 1] NaN.
"""

from __future__ import annotations

import math

import numpy as np

_FIT_NODES = 48
_TERMS = 24  # the fitted coefficients beyond this are below 1.3e-15 and rounding noise of the fit: 24 terms give
             # the smallest error (3e-15 against math.erfc over [0, 27]; 26 gave 5e-15, 22 gave 1.6e-14)
_CHUNK = 8192  # elements at a time: ~25 passes over a chunk stay in cache (1.35x on 86,400 elements)


def _erfcx(z: float) -> float:
    """exp(z^2) erfc(z) for one z >= 0 (the fit's nodes only)."""
    if z < 10.0:
        return math.exp(z * z) * math.erfc(z)
    s, term, k = 1.0, 1.0, 1  # asymptotic series: sum_k (-1)^k (2k-1)!! / (2z^2)^k, terms < 1e-18 by k = 11
    while abs(term) > 1e-18 and k < 60:
        term *= -(2 * k - 1) / (2 * z * z)
        s += term
        k += 1
    return s / (z * math.sqrt(math.pi))


def _chebyshev_fit(nodes: int = _FIT_NODES, terms: int = _TERMS) -> np.ndarray:
    """Chebyshev coefficients of g(t) = erfcx(2/t - 2) / t on t in [0, 1] (variable y = 2t - 1)."""
    k = np.arange(nodes) + 0.5
    t = (np.cos(np.pi * k / nodes) + 1.0) / 2.0
    vals = np.array([_erfcx(2.0 / ti - 2.0) / ti for ti in t])
    c = (2.0 / nodes) * (np.cos(np.pi * np.outer(np.arange(nodes), k) / nodes) @ vals)
    c[0] /= 2.0
    c = c[:terms]
    c[0] += 1.0 - c.sum()  # g(1) = erfcx(0) = 1 exactly, so Phi(0) = 0.5 (the series is 1 at y = 1)
    return c


_C = _chebyshev_fit()
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _erfc_nonneg(z: np.ndarray) -> np.ndarray:
    """erfc(z) for z >= 0 (NaN stays NaN, inf gives 0)."""
    z = np.asarray(z, dtype="float64")
    if z.ndim != 1 or z.size <= 2 * _CHUNK:
        return _erfc_block(z)
    out = np.empty_like(z)
    for i in range(0, z.size, _CHUNK):
        out[i:i + _CHUNK] = _erfc_block(z[i:i + _CHUNK])
    return out


def _erfc_block(z: np.ndarray) -> np.ndarray:
    t = 2.0 / (2.0 + z)
    y2 = 4.0 * t - 2.0  # 2y, y = 2t - 1
    b1 = np.full_like(t, _C[-1])
    b2 = np.zeros_like(t)
    tmp = np.empty_like(t)
    for c in _C[-2:0:-1]:  # Clenshaw's recurrence, in place
        np.multiply(y2, b1, out=tmp)
        tmp -= b2
        tmp += c
        b1, b2, tmp = tmp, b1, b2
    g = 0.5 * y2 * b1 - b2 + _C[0]
    with np.errstate(invalid="ignore"):  # inf - inf at z = inf: the product below is 0 there anyway
        zh = np.floor(z * 16.0) / 16.0  # exact square; the rest multiplies separately
        e = np.exp(-zh * zh) * np.exp(-(z - zh) * (z + zh))
    e = np.where(np.isinf(z), 0.0, e)
    return t * g * e


def ndtr(x) -> np.ndarray:
    """The standard normal CDF, elementwise."""
    x = np.asarray(x, dtype="float64")
    half = 0.5 * _erfc_nonneg(np.abs(x) * _SQRT1_2)
    return np.where(x < 0, half, 1.0 - half)


def ndtri(p) -> np.ndarray:
    """The inverse of :func:`ndtr`, elementwise."""
    p = np.asarray(p, dtype="float64")
    q = np.minimum(p, 1.0 - p)  # the smaller tail: solve Phi(u) = q for u <= 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = np.sqrt(-2.0 * np.log(q))
        u = -(t - (2.515517 + t * (0.802853 + t * 0.010328))
              / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
        for _ in range(3):  # Halley: f = Phi(u) - q, f' = phi(u), f'' = -u phi(u)
            r = (0.5 * _erfc_nonneg(-u * _SQRT1_2) - q) / (np.exp(-0.5 * u * u) * _INV_SQRT_2PI)
            u = u - r / (1.0 + 0.5 * u * r)
    u = np.where(q == 0.5, 0.0, np.where(q == 0, -np.inf, u))
    u = np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, u)
    return np.where(p < 0.5, u, -u)
