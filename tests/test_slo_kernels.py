"""The SLO analysis' fast paths against the plain computations they replace: the integer cumulative sum and burn
rates without a pass over every window's total. (The compiled kernels and the page arena also tested here once
are gone: they bought 0.12 s of a 100-SLO x 90-day analysis, bench/README.md.)"""

import numpy as np
import pandas as pd
import pytest

from rtanalytics import slo as S


def plain_cumsum0(x):
    return np.concatenate(([0.0], np.cumsum(x)))


def plain_burn(total, good, n, target):
    """The burn rate as it was computed before the fast path: window sums from float cumulative sums (bad's as
    total's less good's), divided by at least a tiny total."""
    ct = plain_cumsum0(total)
    cb = ct - plain_cumsum0(good)
    size = total.size
    k = min(n, size)
    tw, bw = np.empty(size), np.empty(size)
    tw[:k], bw[:k] = ct[1:k + 1], cb[1:k + 1]
    tw[k:], bw[k:] = ct[k + 1:] - ct[1:size - k + 1], cb[k + 1:] - cb[1:size - k + 1]
    return bw / np.maximum(tw, 1e-300) * (1.0 / (1.0 - target))


@pytest.mark.parametrize("size", [5000, 129_600])
def test_integer_cumsum_is_bitwise_numpys(size):
    rng = np.random.default_rng(size)
    x = rng.poisson(40, size).astype(float)
    out = np.empty(size + 1)
    assert S._cumsum0(x, out) is True
    assert np.array_equal(out, plain_cumsum0(x))
    assert out.dtype == np.float64


@pytest.mark.parametrize("case", ["fraction", "nan", "negative", "too_large", "sum_too_large", "small"])
def test_cumsum_falls_back_to_floats_where_integers_would_not_be_the_same(case):
    rng = np.random.default_rng(7)
    x = rng.poisson(40, 6000).astype(float)
    if case == "fraction":
        x[100] = 0.5
    elif case == "nan":
        x[3] = np.nan
    elif case == "negative":
        x[9] = -1.0
    elif case == "too_large":  # a sum past 2**53 would round in floats (and could overflow int64)
        x[:2] = 2.0 ** 62
    elif case == "sum_too_large":  # each value exact, their sum not
        x[:5] = 2.0 ** 51 + 1
    else:
        x = x[:100]
    out = np.empty(x.size + 1)
    assert S._cumsum0(x, out) is False
    np.testing.assert_array_equal(out, plain_cumsum0(x))  # NaN where numpy has NaN


def brute_empty_windows(total, n):
    ct = plain_cumsum0(total)
    size = total.size
    k = min(n, size)
    tw = np.concatenate((ct[1:k + 1], ct[k + 1:] - ct[1:size - k + 1]))
    return np.flatnonzero(tw == 0)


@pytest.mark.parametrize("n", [1, 2, 5, 60, 360, 4320, 10_000])
def test_windows_without_total_match_a_brute_force_search(n):
    rng = np.random.default_rng(n)
    size = 9000
    total = rng.poisson(8, size).astype(float)
    total[rng.random(size) < 0.03] = 0  # scattered empty minutes
    total[:70] = 0  # a run from the very start: every short window at the start is empty
    total[2000:2400] = 0  # a long outage of traffic
    total[-7:] = 0  # and one at the end
    sli = S.Sli(pd.date_range("2026-01-01", periods=size, freq="min", tz="UTC"), total * 0, total, 60)
    got = sli.no_total_windows(n)
    assert got is not None
    np.testing.assert_array_equal(got, brute_empty_windows(total, n))


def test_windows_without_total_are_not_guessed_when_not_certain_or_cheap():
    idx = pd.date_range("2026-01-01", periods=5000, freq="min", tz="UTC")
    fractional = np.full(5000, 0.5)
    assert S.Sli(idx, fractional * 0, fractional, 60).no_total_windows(5) is None
    sparse = np.zeros(5000)
    sparse[::10] = 1.0  # most minutes without traffic: the runs would cost more than one pass
    assert S.Sli(idx, sparse * 0, sparse, 60).no_total_windows(5) is None
    full = np.ones(5000)
    assert S.Sli(idx, full, full, 60).no_total_windows(5).size == 0


@pytest.mark.parametrize("kind", ["integers", "fractions", "mostly_idle"])
@pytest.mark.parametrize("window", ["1m", "5m", "1h", "3d", "400d"])
def test_burn_rate_is_bitwise_the_plain_computation(kind, window):
    rng = np.random.default_rng(11)
    size = 20_000
    total = rng.poisson(30, size).astype(float)
    total[:40] = 0
    total[5000:5300] = 0
    total[rng.random(size) < 0.02] = 0
    if kind == "fractions":
        total = total * 0.37
    elif kind == "mostly_idle":
        total[rng.random(size) < 0.9] = 0
    bad = np.minimum(rng.poisson(0.5, size).astype(float), total)
    idx = pd.date_range("2026-01-01", periods=size, freq="min", tz="UTC")
    sli = S.occurrences_sli(idx, bad=bad, total=total)
    got = S.burn_rate(sli, window, 0.999)
    want = plain_burn(sli.total, sli.good, S.periods_in(window, 60), 0.999)
    assert np.array_equal(got, want)  # bitwise, and never NaN: 0 where a window has no traffic
    assert not np.isnan(got).any()


def plain_attainment(good, total, n):
    cg, ct = plain_cumsum0(good), plain_cumsum0(total)
    size = good.size
    k = min(n, size)
    g = np.concatenate((cg[1:k + 1], cg[k + 1:] - cg[1:size - k + 1]))
    t = np.concatenate((ct[1:k + 1], ct[k + 1:] - ct[1:size - k + 1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return g / t


@pytest.mark.parametrize("window", ["1m", "5m", "1h", "28d", "400d"])
@pytest.mark.parametrize("kind", ["integers", "fractions", "with_gaps"])
def test_attainment_is_bitwise_the_plain_computation(window, kind):
    rng = np.random.default_rng(3)
    size = 12_000
    total = rng.poisson(25, size).astype(float)
    total[:30] = 0  # windows without data at the start: NaN
    if kind == "fractions":
        total = total * 0.3
    elif kind == "with_gaps":
        total[rng.random(size) < 0.3] = np.nan
        total[6000:6500] = np.nan
    bad = rng.poisson(0.4, size).astype(float)
    idx = pd.date_range("2026-01-01", periods=size, freq="min", tz="UTC")
    sli = S.occurrences_sli(idx, bad=bad, total=total)
    got = S.attainment(sli, window).to_numpy()
    want = plain_attainment(sli.good, sli.total, S.periods_in(window, 60))
    assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(got[:30]).all()


