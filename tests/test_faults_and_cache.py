"""Faults on loopback (a proxy in front of moto answering 500/503 or slowly) and the Parquet cache."""

import threading

import numpy as np
import pandas as pd
import pytest

from rtanalytics.sources.aws import AwsContext
from rtanalytics.sources.cache import CachedSource
from rtanalytics.sources.cloudwatch import CloudWatchSource
from rtanalytics.sources.evidence import RecordingSource, provenance
from rtanalytics.timewindow import TimeWindow

from .aws_helpers import FaultProxy, session
from .test_cloudwatch import expected, queries, seed_metrics


@pytest.fixture
def window():
    start = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=3)
    return TimeWindow(start, start + pd.Timedelta(minutes=90))


def gmd_calls(src) -> int:
    """GetMetricData requests a source made (the cache key's one STS GetCallerIdentity is not data)."""
    return sum(r["api"] == "get_metric_data" for r in src.aws.requests)


def ctx(url, **kw):
    return AwsContext(region="us-west-1", endpoint_url=url, session=session(), **kw)


def test_transient_faults_are_retried_to_identical_data(aws, moto_server, window, monkeypatch):
    from rtanalytics.sources import cloudwatch as cwmod

    seed_metrics(aws, 8, 90, window.start)
    monkeypatch.setattr(cwmod, "MAX_DATAPOINTS", 120)
    direct = CloudWatchSource("demo", context=ctx(moto_server.url)).metrics(queries(8), window)
    faults = {0: "http500", 1: "http503", 3: "http500", 6: "slow", 9: "http503"}
    proxy = FaultProxy(moto_server.port, lambda n, body, h: faults.get(n), slow_s=2.5)
    try:
        src = CloudWatchSource("demo", context=ctx(proxy.url, max_attempts=5, read_timeout=1.0))
        got = src.metrics(queries(8), window)
    finally:
        proxy.stop()
    assert proxy.faults == len(faults)
    pd.testing.assert_frame_equal(got, direct)
    assert src.problems == []
    assert sum(r.get("retries", 0) for r in src.aws.requests) >= 4


def test_throttled_log_pulls_are_retried(aws, moto_server, window):
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t0 = int(window.start.timestamp() * 1000)
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t0 + i * 1000, "message": f"line {i}"} for i in range(50)])
    proxy = FaultProxy(moto_server.port, lambda n, body, h: "throttle" if n < 2 else None)
    try:
        src = CloudWatchSource("demo", context=ctx(proxy.url, max_attempts=4))
        df = src.logs("g", window)
    finally:
        proxy.stop()
    assert len(df) == 50 and proxy.faults == 2
    assert src.aws.requests[0]["retries"] == 2  # botocore's standard mode retried the throttling


def test_persistent_faults_give_partial_data_not_zeros(aws, moto_server, window, monkeypatch):
    seed_metrics(aws, 4, 90, window.start)
    # every GetMetricData for the second half of the queries fails; everything else passes
    def plan(n, body, headers):
        return "http500" if b"s002" in body or b"s003" in body else None

    from rtanalytics.sources import cloudwatch as cwmod

    monkeypatch.setattr(cwmod, "MAX_DATAPOINTS", 180)  # two queries per request
    proxy = FaultProxy(moto_server.port, plan)
    try:
        src = RecordingSource(CloudWatchSource("demo", context=ctx(proxy.url, max_attempts=2)))
        df = src.metrics(queries(4), window)
    finally:
        proxy.stop()
    np.testing.assert_array_equal(df.iloc[:, 0].to_numpy(), expected(0, 90))
    assert df.iloc[:, 2].isna().all() and df.iloc[:, 3].isna().all()  # missing, never zero
    prov = provenance(src)
    assert prov["complete"] is False
    assert {p["query"] for p in prov["problems"]} == {"Requests Sum s002", "Requests Sum s003"}
    assert "500" in prov["problems"][0]["reason"] or "Internal" in prov["problems"][0]["reason"]


def test_cache_settled_data_is_never_fetched_twice(aws, moto_server, window, tmp_path):
    seed_metrics(aws, 6, 90, window.start)
    now = window.end + pd.Timedelta(hours=27)  # past the default settle horizon (26 h: late data can still arrive)
    inner = CloudWatchSource("demo", context=ctx(moto_server.url))
    cached = CachedSource(inner, cache_dir=tmp_path, now=now)
    first = cached.metrics(queries(6), window)
    calls = inner.aws.api_calls
    assert calls >= 1 and cached.stats.misses > 0
    again = CachedSource(CloudWatchSource("demo", context=ctx(moto_server.url)), cache_dir=tmp_path, now=now)
    second = again.metrics(queries(6), window)
    assert gmd_calls(again.inner) == 0 and again.stats.hits > 0
    pd.testing.assert_frame_equal(first, second)
    # a sub-window is served from the same files
    sub = TimeWindow(window.start + pd.Timedelta(minutes=10), window.start + pd.Timedelta(minutes=40))
    part = again.metrics(queries(6), sub)
    assert gmd_calls(again.inner) == 0
    pd.testing.assert_frame_equal(part, first.loc[part.index])


def test_cache_refetches_recent_data_and_survives_corruption(aws, moto_server, window, tmp_path):
    seed_metrics(aws, 2, 90, window.start)
    recent_now = window.end + pd.Timedelta(minutes=5)  # the window's data is not settled yet
    c1 = CachedSource(CloudWatchSource("demo", context=ctx(moto_server.url)), cache_dir=tmp_path, now=recent_now)
    c1.metrics(queries(2), window)
    c2 = CachedSource(CloudWatchSource("demo", context=ctx(moto_server.url)), cache_dir=tmp_path, now=recent_now)
    c2.metrics(queries(2), window)
    assert c2.inner.aws.api_calls > 0 and c2.stats.refetched_recent > 0
    later = window.end + pd.Timedelta(days=2)
    c3 = CachedSource(CloudWatchSource("demo", context=ctx(moto_server.url)), cache_dir=tmp_path, now=later)
    good = c3.metrics(queries(2), window)
    for f in tmp_path.rglob("*.parquet"):
        f.write_bytes(b"not parquet")  # a corrupted cache is a miss, never a crash
    c4 = CachedSource(CloudWatchSource("demo", context=ctx(moto_server.url)), cache_dir=tmp_path, now=later)
    pd.testing.assert_frame_equal(c4.metrics(queries(2), window), good)
    assert c4.stats.corrupt > 0 and c4.inner.aws.api_calls > 0


def test_two_writers_share_the_cache(tmp_path):
    from rtanalytics.sources.demo import DemoSource

    w = TimeWindow.parse("2026-11-10", "2026-11-12")
    qs = [m.query("Sum", 60) for m in list(DemoSource(now="2026-11-20").by_id)[:20]]
    results = []

    def worker():
        results.append(CachedSource(DemoSource(now="2026-11-20"), cache_dir=tmp_path,
                                    now="2026-11-20").metrics(qs, w))

    ts = [threading.Thread(target=worker) for _ in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    for r in results[1:]:
        pd.testing.assert_frame_equal(r, results[0])
    assert not list(tmp_path.rglob(".tmp-*"))
    final = CachedSource(DemoSource(now="2026-11-20"), cache_dir=tmp_path, now="2026-11-20")
    pd.testing.assert_frame_equal(final.metrics(qs, w), results[0])
    assert final.stats.misses == 0


@pytest.mark.parametrize("start", ["2026-11-10T10:10Z", "2026-11-10T10:12Z", "2026-11-10T10:13Z"])
def test_cache_keeps_each_grid_phase_apart(tmp_path, monkeypatch, start):
    """Windows whose 5-minute periods start at different minutes, across chunk boundaries, come back exactly as
    the source gives them — cold and warm, and after another phase filled the cache."""
    from rtanalytics.sources import cache as cmod
    from rtanalytics.sources.demo import DemoSource

    monkeypatch.setattr(cmod, "POINTS_PER_CHUNK", 12)  # one-hour chunks of 5-minute periods
    demo = DemoSource(now="2026-11-20")
    qs = [m.query("Sum", 300) for m in list(demo.by_id)[:3]]
    w = TimeWindow(pd.Timestamp(start), pd.Timestamp(start) + pd.Timedelta(hours=5))
    other = TimeWindow(pd.Timestamp("2026-11-10T10:11Z"), pd.Timestamp("2026-11-10T16:00Z"))
    truth = demo.metrics(qs, w)
    c1 = CachedSource(DemoSource(now="2026-11-20"), cache_dir=tmp_path, now="2026-11-20")
    c1.metrics(qs, other)  # a different phase fills the cache first
    pd.testing.assert_frame_equal(c1.metrics(qs, w), truth)
    c2 = CachedSource(DemoSource(now="2026-11-20"), cache_dir=tmp_path, now="2026-11-20")
    pd.testing.assert_frame_equal(c2.metrics(qs, w), truth)
    assert c2.stats.misses == 0 and c2.stats.hits > 0


def _counting_demo(now="2026-11-20"):
    from rtanalytics.sources.demo import DemoSource

    class Counting(DemoSource):
        asked: list = []

        def metrics(self, queries, window):
            type(self).asked.append((window.start, window.end))
            return super().metrics(queries, window)

    Counting.asked = []
    return Counting(now=now)


@pytest.mark.parametrize("start", ["2026-11-10T10:10Z", "2026-11-10T10:12Z"])
def test_compacted_cache_reads_back_exactly_and_drops_only_what_is_asked(tmp_path, monkeypatch, start):
    """A long history filled piece by piece is merged into one file per query (and grid phase); read back it
    equals the source exactly with no source call; a later store into a compacted chunk, and dropping a range,
    leave the rest of the history in place."""
    from rtanalytics.sources import cache as cmod
    from rtanalytics.sources.demo import DemoSource

    monkeypatch.setattr(cmod, "POINTS_PER_CHUNK", 12)  # one-hour chunks of 5-minute periods
    monkeypatch.setattr(cmod, "COMPACT_AT", 3)
    demo = DemoSource(now="2026-11-20")
    qs = [m.query("Sum", 300) for m in list(demo.by_id)[:3]]
    t0 = pd.Timestamp(start)
    whole = TimeWindow(t0, t0 + pd.Timedelta(hours=20))
    truth = demo.metrics(qs, whole)
    src = CachedSource(_counting_demo(), cache_dir=tmp_path, now="2026-11-20")
    for k in range(0, 20, 4):  # filled four hours at a time, as runs would
        src.metrics(qs, TimeWindow(t0 + pd.Timedelta(hours=k), t0 + pd.Timedelta(hours=k + 4)))
    folders = {p.parent for p in tmp_path.rglob("compact-p*.parquet")}
    assert len(folders) == 3  # every query compacted
    for f in folders:
        assert sum(1 for p in f.glob("*.parquet") if not p.name.startswith("compact-")) < 3
    inner = _counting_demo()
    warm = CachedSource(inner, cache_dir=tmp_path, now="2026-11-20")
    pd.testing.assert_frame_equal(warm.metrics(qs, whole), truth)
    assert type(inner).asked == [] and warm.stats.misses == 0
    # drop two hours in the middle: only they are fetched again, and come back the same
    assert warm.drop(start=t0 + pd.Timedelta(hours=8), end=t0 + pd.Timedelta(hours=10)) > 0
    again = CachedSource(_counting_demo(), cache_dir=tmp_path, now="2026-11-20")
    pd.testing.assert_frame_equal(again.metrics(qs, whole), truth)
    asked = type(again.inner).asked
    assert asked and all(a >= t0 + pd.Timedelta(hours=7) and b <= t0 + pd.Timedelta(hours=11) for a, b in asked)
    last = CachedSource(_counting_demo(), cache_dir=tmp_path, now="2026-11-20")
    pd.testing.assert_frame_equal(last.metrics(qs, whole), truth)
    assert type(last.inner).asked == []


def test_a_compacted_file_that_cannot_be_read_is_a_miss(tmp_path, monkeypatch):
    from rtanalytics.sources import cache as cmod
    from rtanalytics.sources.demo import DemoSource

    monkeypatch.setattr(cmod, "POINTS_PER_CHUNK", 12)
    monkeypatch.setattr(cmod, "COMPACT_AT", 2)
    demo = DemoSource(now="2026-11-20")
    qs = [m.query("Sum", 300) for m in list(demo.by_id)[:2]]
    w = TimeWindow(pd.Timestamp("2026-11-10T00:00Z"), pd.Timestamp("2026-11-10T06:00Z"))
    truth = demo.metrics(qs, w)
    CachedSource(DemoSource(now="2026-11-20"), cache_dir=tmp_path, now="2026-11-20").metrics(qs, w)
    for f in tmp_path.rglob("compact-p*.parquet"):
        f.write_bytes(b"not parquet")
    c = CachedSource(DemoSource(now="2026-11-20"), cache_dir=tmp_path, now="2026-11-20")
    pd.testing.assert_frame_equal(c.metrics(qs, w), truth)
    assert c.stats.corrupt > 0


def test_a_short_window_reads_only_its_weeks_of_a_compacted_history(tmp_path, monkeypatch):
    """A day's report on a long compacted history reads the row groups (a chunk each) that can hold its window,
    not the whole file — and still gets exactly the source's values."""
    import pyarrow.parquet as pq

    from rtanalytics.sources import cache as cmod
    from rtanalytics.sources.demo import DemoSource

    monkeypatch.setattr(cmod, "POINTS_PER_CHUNK", 12)  # one-hour chunks of 5-minute periods
    monkeypatch.setattr(cmod, "COMPACT_AT", 3)
    demo = DemoSource(now="2026-11-20")
    qs = [m.query("Sum", 300) for m in list(demo.by_id)[:2]]
    t0 = pd.Timestamp("2026-11-10T00:00Z")
    CachedSource(DemoSource(now="2026-11-20"), cache_dir=tmp_path, now="2026-11-20").metrics(
        qs, TimeWindow(t0, t0 + pd.Timedelta(hours=24)))
    (f, *_) = list(tmp_path.rglob("compact-p*.parquet"))
    assert pq.ParquetFile(f).metadata.num_row_groups >= 20
    read = []
    real = pq.ParquetFile.read_row_groups
    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", lambda self, groups, *a, **k: (
        read.append(list(groups)), real(self, groups, *a, **k))[1])
    w = TimeWindow(t0 + pd.Timedelta(hours=10), t0 + pd.Timedelta(hours=12))
    c = CachedSource(DemoSource(now="2026-11-20"), cache_dir=tmp_path, now="2026-11-20")
    pd.testing.assert_frame_equal(c.metrics(qs, w), demo.metrics(qs, w))
    assert c.stats.misses == 0 and read and all(len(g) <= 3 for g in read)


def test_a_chunk_cached_while_it_settled_is_extended_not_fetched_again(tmp_path):
    """The week-chunk holding the settle horizon is stored up to where it had settled; a run an hour later reads
    that part from the cache and fetches only the hour that has settled since, plus the unsettled tail — not
    the whole chunk again (the rerun of bench/fetch.py fetched four settled days of 200 series again)."""
    from rtanalytics.sources.demo import DemoSource

    class Spy(DemoSource):
        asked: list = []

        def metrics(self, queries, window):
            type(self).asked.append((window.start, window.end, len(queries)))
            return super().metrics(queries, window)

    qs = [m.query("Sum", 60) for m in list(DemoSource(now="2026-11-20").by_id)[:5]]
    w = TimeWindow.parse("2026-11-12T00:00Z", "2026-11-19T12:00Z")
    first = CachedSource(Spy(now="2026-11-19T12:00Z"), cache_dir=tmp_path, now="2026-11-19T12:00Z", settle="26h")
    a = first.metrics(qs, w)
    Spy.asked = []
    later = CachedSource(Spy(now="2026-11-19T13:00Z"), cache_dir=tmp_path, now="2026-11-19T13:00Z", settle="26h")
    b = later.metrics(qs, w)
    # only from where it had settled (10:00 the day before) on: one hour settled since, and the unsettled tail
    assert Spy.asked == [(pd.Timestamp("2026-11-18T10:00Z"), pd.Timestamp("2026-11-19T12:00Z"), 5)]
    pd.testing.assert_frame_equal(a, b)
    fresh = DemoSource(now="2026-11-19T13:00Z").metrics(qs, w)
    pd.testing.assert_frame_equal(b, fresh)
    assert later.stats.misses == 0
