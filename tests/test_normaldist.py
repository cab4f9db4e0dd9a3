"""rtanalytics.normaldist against scipy.special and the standard library (the demo's percentiles rest on it)."""

import math
import statistics
import subprocess
import sys

import numpy as np
import pytest
from scipy import special

from rtanalytics.normaldist import _erfc_nonneg, ndtr, ndtri


def test_erfc_tail_to_underflow_relative_error():
    z = np.concatenate([np.linspace(0, 27, 20001), np.geomspace(1e-9, 27, 2000)])
    ref = np.array([math.erfc(v) for v in z])
    ours = _erfc_nonneg(z)
    keep = ref > 1e-300
    assert (np.abs(ours[keep] - ref[keep]) / ref[keep]).max() < 2e-14
    assert np.all(ours >= 0) and _erfc_nonneg(np.array([27.5, 40.0, np.inf])).tolist() == [0.0, 0.0, 0.0]


def test_ndtr_matches_scipy_and_edges():
    x = np.linspace(-37, 37, 100001)
    ref = special.ndtr(x)
    ours = ndtr(x)
    assert np.abs(ours - ref).max() < 1e-15
    tail = ref > 1e-300
    assert (np.abs(ours - ref)[tail] / ref[tail]).max() < 1e-12
    assert np.all(np.diff(ours) >= 0)  # monotone
    out = ndtr([np.nan, np.inf, -np.inf, 0.0, -40.0])
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == 0.0 and out[3] == 0.5 and out[4] == 0.0
    assert ndtr(np.float64(1.0)).shape == () and ndtr([[0.0, 1.0]]).shape == (1, 2)


@pytest.mark.parametrize("p", [1e-300, 1e-100, 1e-12, 1e-6, 0.001, 0.025, 0.1, 0.3, 0.5 - 1e-9, 0.7, 0.95, 0.99,
                               1 - 1e-9])
def test_ndtri_matches_stdlib_inverse(p):
    ours = float(ndtri(p))
    if p > 1e-200:  # statistics.NormalDist handles (0, 1) exclusive; its far tail is coarser than ours
        assert ours == pytest.approx(statistics.NormalDist().inv_cdf(p), rel=1e-12, abs=1e-13)
    assert ours == pytest.approx(float(special.ndtri(p)), rel=1e-12, abs=1e-13)


def test_ndtri_over_arrays_and_domain():
    n = np.arange(1, 200001, dtype=float)  # the demo's Minimum/Maximum: quantiles 1/(n+1) and n/(n+1)
    for q in (1 / (n + 1), n / (n + 1)):
        assert np.abs(ndtri(q) - special.ndtri(q)).max() < 1e-12
    p = np.geomspace(1e-15, 0.5, 5000)
    assert np.abs(ndtr(ndtri(p)) / p - 1).max() < 1e-12  # round trip, relative, down to the far tail
    out = ndtri([0.0, 1.0, 0.5, -0.1, 1.1, np.nan])
    assert out[0] == -np.inf and out[1] == np.inf and out[2] == 0.0
    assert np.isnan(out[3:]).all()


def test_importing_the_demo_does_not_import_scipy():
    code = "import rtanalytics.sources.demo, rtanalytics.sources.stats, sys; print(any(m == 'scipy' or " \
           "m.startswith('scipy.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
