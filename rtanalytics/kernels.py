"""The compiled kernels (``_kernels.c``), loaded with ctypes; None of them when the library was not built.

Each function here returns False (or None) when the library is not there or cannot take the input, and the
caller then runs its numpy code: the two give bitwise the same results (tests/test_slo_kernels.py), so the
library only changes the time. ``RTANALYTICS_KERNELS=numpy`` turns it off (to compare, or to rule it out).

ctypes releases the GIL for each call, so SLOs analysed on several threads (``slo.map_slos``) run their kernels
side by side. Measured in bench/README.md (``slo.py``, round eight).
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
from pathlib import Path

import numpy as np

ABI_VERSION = 2
_HERE = Path(__file__).resolve().parent


def _load():
    if os.environ.get("RTANALYTICS_KERNELS", "").strip().lower() == "numpy":
        return None, "turned off by RTANALYTICS_KERNELS=numpy"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = _HERE / f"_kernels{suffix}"
        if path.exists():
            break
    else:
        return None, "not built (no C compiler when rtanalytics was installed): numpy code in use"
    try:
        lib = ctypes.CDLL(str(path))
        if lib.rt_abi_version() != ABI_VERSION:
            return None, f"{path.name} is from another version of rtanalytics: reinstall it (pip install -e .)"
    except (OSError, AttributeError) as e:
        return None, f"{path.name} could not be loaded ({e}): numpy code in use"
    p, i64, f64, c_int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double, ctypes.c_int
    lib.rt_cumsum0_whole.argtypes = [p, i64, p]
    lib.rt_cumsum0_whole.restype = c_int
    lib.rt_window_ratio.argtypes = [p, p, i64, i64, f64, c_int, p]
    lib.rt_window_ratio.restype = None
    lib.rt_counts_from_bad.argtypes = [p, p, i64, p, p, p]
    lib.rt_counts_from_bad.restype = None
    lib.rt_rule_changes.argtypes = [p, p, i64, f64, p, i64]
    lib.rt_rule_changes.restype = i64
    return lib, f"compiled ({path.name})"


_lib, _status = _load()
MIN_SIZE = 2048  # below this a call costs more than numpy's passes save


def available() -> bool:
    return _lib is not None


def status() -> str:
    """Which code the SLO analysis runs, and why."""
    return _status


def _f64(x: np.ndarray) -> bool:
    return x.dtype == np.float64 and x.flags.c_contiguous


def cumsum0_whole(x: np.ndarray, out: np.ndarray) -> bool:
    """``out[0] = 0``, ``out[1:] = cumsum(x)`` when ``x`` is whole numbers in [0, 2**52) summing below 2**53
    (then exact, and numpy's cumsum bitwise); False (``out`` to be computed otherwise) when not, or without the
    library."""
    if _lib is None or x.size < MIN_SIZE or not (_f64(x) and _f64(out)) or out.size != x.size + 1:
        return False
    return bool(_lib.rt_cumsum0_whole(x.ctypes.data, x.size, out.ctypes.data))


def window_ratio(cum_num: np.ndarray, cum_den: np.ndarray, n: int, out: np.ndarray, scale: float | None) -> bool:
    """Into ``out``: the trailing ``n``-period window sums of two cumulative sums (leading 0 included) divided,
    ``num / den`` (``scale`` None: attainment, NaN without data) or ``num / max(den, 1e-300) * scale`` (a burn
    rate, 0 without traffic). False without the library (or for what it does not take)."""
    size = out.size
    if (_lib is None or size < MIN_SIZE or not (_f64(cum_num) and _f64(cum_den) and _f64(out))
            or cum_num.size != size + 1 or cum_den.size != size + 1 or n < 1):
        return False
    _lib.rt_window_ratio(cum_num.ctypes.data, cum_den.ctypes.data, size, int(n),
                         1.0 if scale is None else float(scale), 0 if scale is None else 1, out.ctypes.data)
    return True


def counts_from_bad(total: np.ndarray, bad: np.ndarray):
    """``(t, good, has)`` as :func:`rtanalytics.slo.occurrences_sli` makes them from total and bad counts, in one
    pass; None without the library or for what it does not take."""
    n = total.size
    if (_lib is None or n < MIN_SIZE or not (_f64(total) and _f64(bad)) or bad.size != n or total.ndim != 1
            or bad.ndim != 1):
        return None
    t, good, has = np.empty(n), np.empty(n), np.empty(n, dtype=bool)
    _lib.rt_counts_from_bad(total.ctypes.data, bad.ctypes.data, n, t.ctypes.data, good.ctypes.data, has.ctypes.data)
    return t, good, has


def rule_changes(long_burn: np.ndarray, short_burn: np.ndarray, rate: float, cap: int = 1 << 14):
    """The periods where "both burn rates >= rate" starts and stops holding, alternately (int64; a start at 0
    when it holds there), as :func:`rtanalytics.slo.burn_alerts` finds them; None without the library, for
    what it does not take, or past ``cap`` changes."""
    n = long_burn.size
    if _lib is None or n < MIN_SIZE or not (_f64(long_burn) and _f64(short_burn)) or short_burn.size != n:
        return None
    out = np.empty(cap, dtype=np.int64)
    c = _lib.rt_rule_changes(long_burn.ctypes.data, short_burn.ctypes.data, n, float(rate), out.ctypes.data, cap)
    return None if c < 0 else out[:c].copy()
