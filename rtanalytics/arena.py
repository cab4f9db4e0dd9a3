"""Large results that are kept, on memory whose pages are put in place in one call.

A result the caller keeps (a burn rate, a rolling attainment: 1 MB for 90 days of minutes) is fresh memory,
and numpy's first write to it faults every 4 KB page into the process one by one: 254 faults per MB, about
0.3-0.4 ms per MB on this machine, a third of the SLO analysis (bench/slo.py). An :class:`Arena` hands out
arrays from anonymous maps and asks Linux to populate each array's pages before it is written
(``madvise(MADV_POPULATE_WRITE)``, Linux 5.14+): the same zeroed pages without a fault each, 10-20 % less time
in the kernel (bench/README.md, round eight).

The call goes through ctypes, which lets other threads run meanwhile (CPython's ``mmap.madvise`` and a
``MAP_POPULATE`` map hold the GIL through the whole population: measured, two threads then ran no faster than
one). Elsewhere than Linux, on an older kernel, or for small arrays, arrays are ordinary ``np.empty`` ones.

An array keeps its map alive: a map is unmapped once the arena and every array handed out from it are gone, so
an arena belongs with the object whose results it holds (one per :class:`~rtanalytics.slo.Sli`).
"""

from __future__ import annotations

import ctypes
import mmap
import sys

import numpy as np

MADV_POPULATE_WRITE = 23  # <linux/mman.h>
MIN_BYTES = 1 << 18  # below this malloc's free lists serve an array without new pages
PAGE = mmap.PAGESIZE


def _libc_madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_madvise = _libc_madvise()


def populating() -> bool:
    """True while arrays' pages are populated in one call (False off Linux or once the kernel refused it)."""
    return _madvise is not None


def _populate(address: int, nbytes: int) -> None:
    global _madvise
    fn = _madvise
    if fn is not None and fn(address, nbytes, MADV_POPULATE_WRITE) != 0:
        _madvise = None  # EINVAL before Linux 5.14: the pages are then faulted in as they are written


class Arena:
    """Bump allocation of uninitialised float64 arrays for results that are kept and written in full, from
    anonymous maps of at least ``chunk_bytes`` each; arrays under :data:`MIN_BYTES` are plain ``np.empty``."""

    __slots__ = ("chunk", "_raw", "_base", "_used")

    def __init__(self, chunk_bytes: int):
        self.chunk = -(-max(int(chunk_bytes), PAGE) // PAGE) * PAGE
        self._raw: np.ndarray | None = None
        self._base = 0
        self._used = 0

    def empty(self, size: int) -> np.ndarray:
        nbytes = int(size) * 8
        if nbytes < MIN_BYTES:
            return np.empty(size)
        step = -(-nbytes // PAGE) * PAGE  # each array starts on a page of its own
        if self._raw is None or self._used + step > self._raw.size:
            m = mmap.mmap(-1, max(self.chunk, step), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            self._raw = np.frombuffer(m, dtype=np.uint8)  # the map lives while this or a view of it does
            self._base = self._raw.ctypes.data
            self._used = 0
        off = self._used
        self._used += step
        _populate(self._base + off, step)
        return self._raw[off:off + nbytes].view(np.float64)
