"""The SLO analysis' fast paths against the plain computations they replace: the integer cumulative sum, burn
rates without a pass over every window's total, and kept results on populated pages (rtanalytics.arena)."""

import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from rtanalytics import arena as A
from rtanalytics import kernels as K
from rtanalytics import slo as S


@pytest.fixture(params=["compiled", "numpy"])
def code(request, monkeypatch):
    """Each test below runs on the compiled kernels and on the numpy code they stand in for."""
    if request.param == "numpy":
        monkeypatch.setattr(K, "_lib", None)
    elif not K.available():
        pytest.skip(f"compiled kernels: {K.status()}")
    return request.param


def test_kernels_are_built_where_there_is_a_compiler():
    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler here: the numpy code is in use")
    assert K.available(), K.status()  # `pip install -e .` (make) builds rtanalytics/_kernels.c


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
def test_integer_cumsum_is_bitwise_numpys(size, code):
    rng = np.random.default_rng(size)
    x = rng.poisson(40, size).astype(float)
    out = np.empty(size + 1)
    assert S._cumsum0(x, out) is True
    assert np.array_equal(out, plain_cumsum0(x))
    assert out.dtype == np.float64


@pytest.mark.parametrize("case", ["fraction", "nan", "negative", "too_large", "sum_too_large", "small"])
def test_cumsum_falls_back_to_floats_where_integers_would_not_be_the_same(case, code):
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
def test_burn_rate_is_bitwise_the_plain_computation(kind, window, code):
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


def test_attainment_and_burndown_unchanged_by_the_arena(monkeypatch, code):
    rng = np.random.default_rng(5)
    size = 50_000
    total = rng.poisson(20, size).astype(float)
    total[100:200] = np.nan
    bad = rng.poisson(0.2, size).astype(float)
    idx = pd.date_range("2026-01-01", periods=size, freq="min", tz="UTC")
    end = idx[-1] + pd.Timedelta(minutes=1)

    def run():
        sli = S.occurrences_sli(idx, bad=bad, total=total)
        return (S.attainment(sli, "28d").to_numpy(), S.burndown(sli, 0.999, end - pd.Timedelta(days=30), end),
                S.burn_rate(sli, "6h", 0.999))

    a = run()
    monkeypatch.setattr(A, "_madvise", None)
    b = run()
    np.testing.assert_array_equal(a[0], b[0])
    pd.testing.assert_series_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])


def test_arena_arrays_are_separate_writable_and_outlive_the_arena():
    arena = A.Arena(3 * 8 * 100_000)
    arrays = [arena.empty(100_000) for _ in range(5)]  # past one map: a second one is made
    for i, a in enumerate(arrays):
        assert a.dtype == np.float64 and a.shape == (100_000,) and a.flags.writeable
        a[:] = i
    del arena
    for i, a in enumerate(arrays):
        assert (a == i).all()  # none overlaps another, and the maps are still there
    spans = sorted((a.ctypes.data, a.ctypes.data + a.nbytes) for a in arrays)
    assert all(s1[1] <= s2[0] for s1, s2 in zip(spans, spans[1:]))
    small = A.Arena(1 << 20).empty(1000)
    assert small.flags.owndata  # small arrays are plain np.empty ones


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MADV_POPULATE_WRITE is Linux's")
def test_arena_populates_and_stops_asking_a_kernel_that_refuses(monkeypatch):
    import resource

    arena = A.Arena(1 << 24)
    if A.populating():  # Linux 5.14+: the pages are in place before the first write
        a = arena.empty(1 << 20)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        a[:] = 1.0
        assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 64  # 2,048 pages written
    calls = []
    monkeypatch.setattr(A, "_madvise", lambda addr, n, advice: calls.append(advice) or -1)
    b = arena.empty(1 << 16)
    b[:] = 2.0  # faulted in as written instead
    assert calls == [A.MADV_POPULATE_WRITE] and not A.populating() and (b == 2.0).all()
    arena.empty(1 << 16)
    assert len(calls) == 1


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
def test_attainment_is_bitwise_the_plain_computation(window, kind, code):
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


def test_kernels_refuse_what_they_do_not_take():
    x = np.arange(5000, dtype=float)
    out = np.empty(5001)
    assert not K.cumsum0_whole(x[::2], np.empty(2501))  # not contiguous
    assert not K.cumsum0_whole(x.astype(np.float32), out)  # not float64
    assert not K.cumsum0_whole(x, np.empty(5000))  # wrong length
    assert not K.window_ratio(out, out, 0, np.empty(5000), None)  # no window
    assert not K.window_ratio(out, out[:-1], 5, np.empty(5000), None)  # sums of another length


def test_occurrences_counts_are_the_same_compiled_or_not(monkeypatch):
    rng = np.random.default_rng(9)
    n = 10_000
    total = rng.poisson(30, n).astype(float)
    bad = rng.poisson(1, n).astype(float)
    total[rng.random(n) < 0.05] = np.nan  # no data
    bad[rng.random(n) < 0.05] = np.nan  # no errors published
    total[:4] = [-5.0, -0.0, np.inf, 0.0]  # what no counter produces, handled all the same
    bad[:8] = [1.0, 0.0, 3.0, -0.0, 250.0, -2.0, np.inf, 1e300]  # bad above total: all bad, never negative good
    idx = pd.date_range("2026-01-01", periods=n, freq="min", tz="UTC")
    compiled = S.occurrences_sli(idx, bad=bad, total=total)
    monkeypatch.setattr(K, "_lib", None)
    plain = S.occurrences_sli(idx, bad=bad, total=total)
    for name in ("total", "good", "has_data"):
        a, b = getattr(compiled, name), getattr(plain, name)
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), name
    assert (compiled.good >= 0).all() and (compiled.good <= compiled.total).all()
    if K.available():
        assert np.array_equal(np.signbit(compiled.total), np.signbit(plain.total))  # even a zero's sign


@pytest.mark.parametrize("n", [2048, 2049, 4095, 4096, 10_000])
def test_rule_changes_are_the_numpy_change_points(n):
    if not K.available():
        pytest.skip(f"compiled kernels: {K.status()}")
    rng = np.random.default_rng(n)
    for case in range(6):
        a, b = rng.random(n) * 3, rng.random(n) * 3
        if case == 1:
            a[:100] = b[:100] = 5  # holds from the first period
        if case == 2:
            a[-70:] = b[-70:] = 5  # still holds at the end (across a 64-period word)
        if case == 3:
            a[rng.random(n) < 0.2] = np.nan  # NaN never holds
        if case == 4:
            a[:] = b[:] = 5  # holds throughout
        if case == 5:
            a[:] = 0  # never holds
        on = (a >= 1.5) & (b >= 1.5)
        want = np.flatnonzero(on[1:] != on[:-1]) + 1
        if on[0]:
            want = np.concatenate(([0], want))
        got = K.rule_changes(a, b, 1.5)
        assert got is not None and got.dtype == np.int64 and np.array_equal(got, want), case
    assert K.rule_changes(a * 0 + np.tile([0.0, 5.0], n // 2 + 1)[:n], b * 0 + 5, 1.5, cap=10) is None  # too many


@pytest.mark.parametrize("alert_after", ["0m", "3m"])
def test_burn_alerts_are_the_same_compiled_or_not(monkeypatch, alert_after):
    rng = np.random.default_rng(4)
    n = 30_000
    total = rng.poisson(50, n).astype(float)
    p = np.full(n, 0.0005)
    for s in rng.integers(0, n - 200, 12):
        p[s:s + rng.integers(5, 150)] = rng.uniform(0.01, 0.6)
    p[:40] = 0.5  # an episode from the first minute
    p[-30:] = 0.5  # and one still going
    bad = rng.binomial(total.astype(np.int64), p).astype(float)
    idx = pd.date_range("2026-01-01", periods=n, freq="min", tz="UTC")
    rules = [S.BurnRule(r.name, r.severity, r.long, r.short, r.burn, alert_after) for r in S.WORKBOOK_RULES]
    compiled = S.burn_alerts(S.occurrences_sli(idx, bad=bad, total=total), 0.999, rules)
    monkeypatch.setattr(K, "_lib", None)
    plain = S.burn_alerts(S.occurrences_sli(idx, bad=bad, total=total), 0.999, rules)
    pd.testing.assert_frame_equal(compiled, plain)
    held_from = pd.Timedelta("1min") if alert_after == "0m" else pd.Timedelta(alert_after)
    assert len(plain) > 5 and plain["end"].isna().any() and (plain["start"] == idx[0] + held_from).any()
