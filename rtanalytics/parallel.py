"""Waiting on several remote calls at once: :func:`overlap` (one function over many items, with a bounded pool
and the first item alone as a credentials probe), :func:`together` (a report's independent fetches), and the
terminal-only :class:`Progress` line. Threads, not processes: the work is waiting on the network, and boto3
clients are thread-safe. Every API still waits for its own quota (:mod:`rtanalytics.quota`)."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Callable, Sequence


def overlap(fn, items: Sequence, workers: int, what: str = "requests", probe_first: bool = True,
            cancel=None) -> list:
    """``[fn(item) for item in items]`` with up to ``workers`` running at once, in the items' order: the first
    alone (a credential or permission error then stops everything before more is sent), then the rest together.
    The first exception (an :class:`AuthError`, Ctrl-C) cancels what has not started, waits for what is running, and
    propagates. On a terminal, progress (done / total) is shown on stderr when there are many; never on CI or in
    a report's kernel. ``probe_first=False`` starts them all together; ``cancel`` (a ``threading.Event``) is set on
    the first exception, so work that polls it (Logs Insights queries) stops and cleans up."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    # the first goes alone: credentials that do not work fail it, and nothing else is sent (one round trip)
    head = [fn(items[0])] if probe_first else []
    rest = items[len(head):]
    progress = Progress(len(items), what)
    ex = ThreadPoolExecutor(max_workers=min(workers, len(rest)), thread_name_prefix="rtanalytics-aws")
    futs = [ex.submit(fn, x) for x in rest]
    try:
        pending = set(futs)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when="FIRST_EXCEPTION")
            progress.update(len(head) + len(futs) - len(pending))
            for f in done:
                if f.exception() is not None:
                    raise f.exception()
        return head + [f.result() for f in futs]
    except BaseException:
        if cancel is not None:
            cancel.set()
        for f in futs:
            f.cancel()
        raise
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
        progress.close()


class Progress:
    """``what: done/total`` on one line of stderr, on a terminal only (not on CI, not in a notebook kernel)."""

    def __init__(self, total: int, what: str, min_total: int = 8):
        self.total, self.what = total, what
        self.on = (total >= min_total and sys.stderr.isatty() and not os.environ.get("CI")
                   and "ipykernel" not in sys.modules)
        self.shown = -1

    def update(self, done: int, extra: str = "") -> None:
        if self.on and done != self.shown:
            sys.stderr.write(f"\r{self.what}: {done}/{self.total}{extra}")
            sys.stderr.flush()
            self.shown = done

    def close(self) -> None:
        if self.on and self.shown >= 0:
            sys.stderr.write("\n")


def together(*thunks: Callable[[], object], workers: int = 1) -> list:
    """``[t() for t in thunks]``, all started at once when ``workers`` > 1 (a report's fetches that do not depend
    on each other: a source that waits on the network says how many it allows, see :func:`source_workers`). The
    first exception propagates once the others have finished; results in the thunks' order."""
    return overlap(lambda t: t(), thunks, workers, "fetches", probe_first=False)


def source_workers(src) -> int:
    """How many of a report's fetches may wait at once on ``src``: its innermost source's ``concurrency`` (the
    AWS source's requests in flight), else 1 — a local source (demo, files) is computed, not waited on, and
    stays serial (its recorded calls then keep their order)."""
    while hasattr(src, "inner"):
        src = src.inner
    return max(1, int(getattr(src, "concurrency", 1) or 1))
