"""API quotas shared by every worker of a cluster: at most a configured number of requests per second per
account × Region × API, as CloudWatch and CloudWatch Logs count them.

Built on Dask's own primitive, :class:`distributed.Semaphore` (held on the scheduler, so every worker and every
report kernel connected to it shares it): a request takes a lease and the lease is given back ``hold`` seconds
after it was granted (``hold`` ≥ 1 s and ≥ leases / TPS, plus 50 ms of slack). Any two requests in the same
lease are then at least ``hold`` apart, so no one-second window ever holds more than ``leases`` ≤ TPS requests,
on however many machines. botocore's retries stay as the backstop for throttling caused by anything else in the
account.

A report kernel finds the cluster through ``RTANALYTICS_DASK_SCHEDULER`` and the quotas through
``RTANALYTICS_QUOTAS`` (JSON ``{"GetMetricData": 50, ...}``), both set by the fleet runner; outside a fleet there
is no limiter and nothing is imported.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import threading
import time

import numpy as np

from .errors import ParameterError

ENV_SCHEDULER = "RTANALYTICS_DASK_SCHEDULER"
ENV_QUOTAS = "RTANALYTICS_QUOTAS"
SLACK_S = 0.05


class QuotaLimiter:
    """Requests per second per (account, Region, API), shared through the Dask scheduler at ``address`` (or the
    given ``client``). ``quotas`` maps API names (``GetMetricData``) to transactions per second; APIs not named
    are not limited."""

    def __init__(self, quotas: dict[str, float], address: str | None = None, client=None):
        self.quotas = {k: float(v) for k, v in quotas.items() if v}
        self._address = address
        self._client = client
        self._sems: dict[str, object] = {}
        self._lock = threading.Lock()
        self.acquired = 0
        self.waited_s = 0.0
        self._timers: list[threading.Timer] = []

    def drain(self) -> None:
        """Give back every lease still held, each when its hold ends (at most ~``hold`` seconds from now). A
        process that ends without this leaves its leases to the scheduler's lease timeout (30 s by default),
        stalling every other worker of the account meanwhile: report kernels call it when they publish."""
        with self._lock:
            timers, self._timers = self._timers, []
        for t in timers:
            t.join()

    @staticmethod
    def shape(tps: float) -> tuple[int, float]:
        """``(leases, hold seconds)`` for ``tps``: whole leases, each held at least a second plus ``SLACK_S``
        (the time between the lease's grant and the request leaving, so a request is never counted in the
        same second as the one its lease follows)."""
        leases = max(1, math.floor(tps))
        return leases, max(1.0, leases / tps) + SLACK_S

    def _client_(self):
        if self._client is None:
            from distributed import Client  # lazy: Dask only for fleets and shared quotas

            self._client = Client(self._address, set_as_default=False, timeout="20s")
        return self._client

    def _semaphore(self, key: str, leases: int):
        with self._lock:
            sem = self._sems.get(key)
            if sem is None:
                from distributed import Semaphore  # lazy: Dask only for fleets and shared quotas

                c = self._client_()
                sem = Semaphore(max_leases=leases, name=key, scheduler_rpc=c.scheduler, loop=c.loop)
                self._sems[key] = sem
            return sem

    def acquire(self, service: str, api: str, ctx=None, account: str | None = None,
                region: str | None = None) -> float:
        """Wait for a slot of ``api``'s quota in the context's account and Region; returns the seconds waited."""
        tps = self.quotas.get(api)
        if not tps:
            return 0.0
        account = account or (ctx.account_id if ctx is not None else "default")
        region = region or (ctx.region if ctx is not None else "default")
        leases, hold = self.shape(tps)
        # the lease count is part of the name: a scheduler keeps a semaphore's size for its lifetime, and a fleet
        # configured with another quota must not fail on the first one's (it gets its own, at its own rate)
        sem = self._semaphore(f"rtanalytics-quota:{account}:{region}:{api}:{leases}x{hold:g}s", leases)
        t0 = time.monotonic()
        sem.acquire()
        waited = time.monotonic() - t0
        timer = threading.Timer(hold, sem.release)
        timer.daemon = True
        timer.start()
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        self.acquired += 1
        self.waited_s += waited
        return waited

    def close(self):
        self.drain()
        if self._client is not None and self._address is not None:
            self._client.close()
            self._client = None


class LocalLimiter:
    """The same quotas within one process (a single report's concurrent requests, ``run --all``'s threads): at
    most ``floor(TPS)`` request attempts leave in any window of ``1 + SLACK_S`` seconds per account × Region ×
    API. Thread-safe; a waiting request sleeps outside the lock. No cluster needed: outside a fleet this is the
    limiter every AWS context gets (:meth:`rtanalytics.sources.aws.AwsContext.for_environment`)."""

    def __init__(self, quotas: dict[str, float]):
        self.quotas = {k: float(v) for k, v in quotas.items() if v}
        self._lock = threading.Lock()
        self._sent: dict[str, list[float]] = {}
        self.acquired = 0
        self.waited_s = 0.0

    def acquire(self, service: str, api: str, ctx=None, account: str | None = None,
                region: str | None = None) -> float:
        tps = self.quotas.get(api)
        if not tps:
            return 0.0
        leases, hold = QuotaLimiter.shape(tps)
        key = f"{account or getattr(getattr(ctx, 'account', None), 'id', None) or 'default'}:" \
              f"{region or getattr(ctx, 'region', 'default')}:{api}"
        t0 = time.monotonic()
        while True:
            with self._lock:
                now = time.monotonic()
                sent = [t for t in self._sent.get(key, []) if t > now - hold]
                if len(sent) < leases:
                    sent.append(now)
                    self._sent[key] = sent
                    self.acquired += 1
                    waited = now - t0
                    self.waited_s += waited
                    return waited
                self._sent[key] = sent
                wait = sent[0] + hold - now
            time.sleep(max(wait, 0.001))

    def drain(self) -> None:  # nothing is leased from anywhere
        pass


_LOCAL: dict[str, LocalLimiter] = {}


def local_limiter(quotas: dict[str, float]) -> LocalLimiter:
    """One :class:`LocalLimiter` per set of quotas in this process, shared by every context that uses them."""
    key = json.dumps(quotas, sort_keys=True)
    if key not in _LOCAL:
        _LOCAL[key] = LocalLimiter(quotas)
    return _LOCAL[key]


_PROCESS: dict[str, QuotaLimiter | None] = {}


def process_limiter() -> QuotaLimiter | None:
    """This process's limiter when the fleet runner configured one (``RTANALYTICS_DASK_SCHEDULER`` and
    ``RTANALYTICS_QUOTAS``), else ``None``. One per process; it connects to the scheduler on first use."""
    address, quotas = os.environ.get(ENV_SCHEDULER), os.environ.get(ENV_QUOTAS)
    if not address or not quotas:
        return None
    key = f"{address}|{quotas}"
    if key not in _PROCESS:
        try:
            q = json.loads(quotas)
        except ValueError:
            raise ParameterError(ENV_QUOTAS, f"not JSON: {quotas[:80]!r}", '{"GetMetricData": 50, ...}') from None
        _PROCESS[key] = QuotaLimiter(q, address=address)

        atexit.register(_PROCESS[key].drain)
    return _PROCESS[key]


def drain_process_limiter() -> None:
    """Give back this process's held leases (see :meth:`QuotaLimiter.drain`); nothing when there is none."""
    for lim in _PROCESS.values():
        if lim is not None:
            lim.drain()


def max_per_second(times, window_s: float = 1.0) -> int:
    """The most request times (epoch seconds) in any ``window_s`` window: what a quota counts."""
    t = np.sort(np.asarray(list(times), dtype=float))
    if not len(t):
        return 0
    return int((np.searchsorted(t, t + window_s, side="left") - np.arange(len(t))).max())


def hammer(n: int, tps: float, address: str, account: str = "000000000000", region: str = "us-west-1",
           api: str = "GetMetricData", limited: bool = True) -> list[float]:
    """``n`` request slots taken as fast as possible from this process (a Dask task on a worker, in the tests and
    ``bench/fleet.py``): the instants each was granted, to count per second with :func:`max_per_second`."""
    lim = QuotaLimiter({api: tps}, address=address) if limited else None
    times = []
    try:
        for _ in range(n):
            if lim is not None:
                lim.acquire("cloudwatch", api, account=account, region=region)
            times.append(time.time())
    finally:
        if lim is not None:
            lim.close()
    return times
