"""Requests that overlap: Logs Insights queries started together and polled together under a cap, every running
query stopped on failure or Ctrl-C, capped results' halves queried concurrently; the local quota limiter; alarm
histories per alarm in the serial order. A fake of the Logs API sits in place of the AWS context (the
property is our handling of what it answers); GetMetricData's concurrent path is tested against the serial one
in test_fault_property.py, and the timings at real latency are bench/latency.py's."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from rtanalytics.errors import SourceError
from rtanalytics.quota import LocalLimiter, max_per_second
from rtanalytics.sources.cloudwatch import CloudWatchSource
from rtanalytics.timewindow import TimeWindow

W = TimeWindow(pd.Timestamp("2026-11-20T00:00Z"), pd.Timestamp("2026-11-20T06:00Z"))


class FakeLogs:
    """StartQuery / GetQueryResults / StopQuery. A query is Running for ``polls`` polls, then Complete with
    ``rows(query, start, end)`` rows; ``fail`` names queries that end Failed, ``interrupt`` ones whose poll
    raises KeyboardInterrupt."""

    region = "us-west-1"
    account = None

    def __init__(self, polls=3, rows=None, fail=(), interrupt=()):
        self.polls, self.rows = polls, rows or (lambda q, s, e: 5)
        self.fail, self.interrupt = set(fail), set(interrupt)
        self.lock = threading.Lock()
        self.queries: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.running, self.max_running = 0, 0
        self.log: list[tuple] = []

    def call(self, service, api, **kw):
        with self.lock:
            self.requests.append({"service": service, "api": api})
            if api == "start_query":
                qid = f"q{len(self.queries)}"
                self.queries[qid] = {"query": kw["queryString"], "start": kw["startTime"], "end": kw["endTime"],
                                     "polls": 0, "state": "Running"}
                self.running += 1
                self.max_running = max(self.max_running, self.running)
                self.log.append(("start", qid, time.monotonic()))
                return {"queryId": qid}
            q = self.queries[kw["queryId"]]
            if api == "stop_query":
                if q["state"] == "Running":
                    q["state"] = "Stopped"
                    self.running -= 1
                self.log.append(("stop", kw["queryId"], time.monotonic()))
                return {"success": True}
            assert api == "get_query_results"
            q["polls"] += 1
            if q["query"] in self.interrupt and q["polls"] >= 2:
                raise KeyboardInterrupt
            if q["polls"] < self.polls:
                return {"status": "Running", "results": []}
            if q["query"] in self.fail:
                q["state"] = "Failed"
                self.running -= 1
                return {"status": "Failed", "results": []}
            q["state"] = "Complete"
            self.running -= 1
            self.log.append(("done", kw["queryId"], time.monotonic()))
            n = self.rows(q["query"], q["start"], q["end"])
            return {"status": "Complete", "statistics": {"recordsMatched": n},
                    "results": [[{"field": "@timestamp", "value": pd.Timestamp(q["start"], unit="s").strftime(
                        "%Y-%m-%d %H:%M:%S.000")}, {"field": "@message", "value": f"{q['query']} {i}"}]
                                for i in range(n)]}


def source(fake, cap=3):
    src = CloudWatchSource("demo", insights_concurrency=cap)
    src.aws = fake
    return src


def specs(n):
    return [{"log_groups": "/app", "query": f"q{i}", "window": W} for i in range(n)]


def test_queries_start_together_under_the_cap_and_come_back_in_order():
    fake = FakeLogs(polls=3)
    frames = source(fake, cap=3).insights_many(specs(7), poll_s=0.01)
    assert [f["@message"].iloc[0].split()[0] for f in frames] == [f"q{i}" for i in range(7)]
    assert fake.max_running == 3  # overlapped, never past the cap
    first_done = min(t for kind, _, t in fake.log if kind == "done")
    assert sum(1 for kind, _, t in fake.log if kind == "start" and t < first_done) == 3


def test_a_failed_query_stops_every_query_still_running():
    fake = FakeLogs(polls=2, fail={"q0"})
    slow = {f"q{i}" for i in range(1, 5)}
    orig = fake.call

    def call(service, api, **kw):  # the others stay Running until stopped
        if api == "get_query_results" and fake.queries[kw["queryId"]]["query"] in slow:
            with fake.lock:
                fake.queries[kw["queryId"]]["polls"] = 0
        return orig(service, api, **kw)

    fake.call = call
    with pytest.raises(SourceError, match="failed"):
        source(fake, cap=5).insights_many(specs(5), poll_s=0.01)
    started = {qid for kind, qid, _ in fake.log if kind == "start"}
    stopped = {qid for kind, qid, _ in fake.log if kind == "stop"}
    assert started - {"q0"} <= stopped  # every other query that had started was stopped
    assert fake.running == 0


def test_ctrl_c_stops_every_running_query():
    fake = FakeLogs(polls=50, interrupt={"q2"})
    with pytest.raises(KeyboardInterrupt):
        source(fake, cap=4).insights_many(specs(4), poll_s=0.01)
    assert fake.running == 0
    assert {qid for kind, qid, _ in fake.log if kind == "stop"} >= {"q0", "q1", "q3"}


def test_capped_results_are_split_into_halves_queried_concurrently():
    window_s = int(W.duration.total_seconds())

    def rows(q, s, e):  # over the cap until a slice is a quarter of the window
        return 12 if (e + 1 - s) > window_s / 4 + 1 else 2

    fake = FakeLogs(polls=3, rows=rows)
    df = source(fake, cap=8).insights("/app", "fields @message", W, poll_s=0.01, limit=10)
    assert df.attrs["slices"] == 4 and len(df) == 8
    # the two halves ran at once: both started before either finished
    starts = [t for kind, q, t in fake.log if kind == "start"][1:3]
    dones = sorted(t for kind, q, t in fake.log if kind == "done")[1:]
    assert max(starts) < min(dones)


def test_local_limiter_keeps_threads_within_the_quota():
    lim = LocalLimiter({"GetMetricData": 20})
    times = []
    lock = threading.Lock()

    def go():
        for _ in range(10):
            lim.acquire("cloudwatch", "GetMetricData")
            with lock:
                times.append(time.time())

    ts = [threading.Thread(target=go) for _ in range(6)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert max_per_second(times) <= 20
    assert time.monotonic() - t0 >= 2.0  # 60 requests at 20 per second take 2 windows after the first
    assert lim.acquire("cloudwatch", "ListMetrics") == 0.0  # an API without a quota is not held


def test_alarm_histories_overlap_and_keep_the_serial_order():
    class Fake:
        region, account = "us-west-1", None

        def __init__(self):
            self.requests, self.lock, self.active, self.peak = [], threading.Lock(), 0, 0

        def call(self, service, api, **kw):
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            time.sleep(0.02)
            with self.lock:
                self.active -= 1
                self.requests.append(api)
            name = kw["AlarmName"]
            return {"AlarmHistoryItems": [{"AlarmName": name, "AlarmType": "MetricAlarm",
                                           "Timestamp": pd.Timestamp("2026-11-20T01:00Z") + pd.Timedelta(minutes=i),
                                           "HistoryItemType": "StateUpdate", "HistorySummary": "x",
                                           "HistoryData": '{"oldState": {"stateValue": "OK"}, "newState": '
                                                          '{"stateValue": "ALARM", "stateReason": "r"}}'}
                                          for i in range(2)]}

    names = [f"a{i}" for i in range(6)]
    fakes = {}
    frames = {}
    for conc in (1, 6):
        fakes[conc] = Fake()
        src = CloudWatchSource("demo", concurrency=conc)
        src.aws = fakes[conc]
        frames[conc] = src.alarm_history(W, names)
    pd.testing.assert_frame_equal(frames[1], frames[6])
    assert fakes[1].peak == 1 and fakes[6].peak > 1
