"""Fault injection as a property: for random schedules of throttling, 5xx, timeouts, PartialData and response
Messages, a fetch through the cache is either identical to the fault-free fetch, or marked incomplete for
exactly the queries whose requests were hit (every other column identical); and the next healthy run is
identical to the fault-free one (nothing poisoned in the cache).

Below :class:`CloudWatchSource` sits a fake of the GetMetricData API (deterministic data, paging with
NextToken, the documented response fields) in place of the HTTP client: the property is about our handling of
what CloudWatch answers. HTTP-level faults (500/503, slow responses, throttling) through botocore's retries
on moto server are tested in ``test_faults_and_cache.py`` and ``test_truth.py``.
"""

import threading

import numpy as np
import pandas as pd
import pytest

from rtanalytics.errors import SourceError
from rtanalytics.queries import MetricQuery
from rtanalytics.sources import cloudwatch as cwmod
from rtanalytics.sources.cache import CachedSource
from rtanalytics.sources.cloudwatch import CloudWatchSource
from rtanalytics.timewindow import TimeWindow

FAULTS = ["throttle", "http500", "timeout", "partial", "messages"]
PAGE = 150  # datapoints per page and result, so answers page with NextToken


class FakeCloudWatch:
    """GetMetricData over series ``value = 1000 * i + minute-of-epoch % 997`` (every 11th period absent)."""

    region = "us-west-1"
    endpoint_url = "fake://cloudwatch"

    def __init__(self, schedule=None, by_request=None):
        self.schedule = dict(schedule or {})  # call number -> fault
        self.by_request = dict(by_request or {})  # (first query id, page offset) -> fault: the same whatever order
        self.requests = []
        self._lock = threading.Lock()  # the source sends requests from several threads
        self.hit_ids: set[str] = set()  # query ids of requests a fault touched

    @property
    def api_calls(self):
        return len(self.requests)

    def call(self, service, api, **kw):
        with self._lock:
            n = len(self.requests)
            self.requests.append({"service": service, "api": api})
        if api == "get_caller_identity":
            return {"Account": "123456789012"}
        assert api == "get_metric_data"
        ids = [q["Id"] for q in kw["MetricDataQueries"]]
        fault = self.schedule.get(n) or self.by_request.get((ids[0], int(kw.get("NextToken") or 0)))
        if fault in ("throttle", "http500", "timeout"):
            with self._lock:
                self.hit_ids.update(ids)
            raise SourceError(f"cloudwatch.get_metric_data failed: {fault} (after retries)")
        start, end = pd.Timestamp(kw["StartTime"]), pd.Timestamp(kw["EndTime"])
        offset = int(kw.get("NextToken") or 0)
        results, more = [], False
        for q in kw["MetricDataQueries"]:
            st = q["MetricStat"]
            i = int(st["Metric"]["Dimensions"][0]["Value"])
            period = st["Period"]
            ts = pd.date_range(start, end, freq=f"{period}s", inclusive="left")
            keep = [t for t in ts if (int(t.timestamp()) // period + i) % 11]
            page = keep[offset:offset + PAGE]
            more = more or offset + PAGE < len(keep)
            results.append({"Id": q["Id"], "Label": q["Id"], "Timestamps": [t.to_pydatetime() for t in page],
                            "Values": [float(1000 * i + (int(t.timestamp()) // 60) % 997) for t in page],
                            "StatusCode": "Complete"})
        resp = {"MetricDataResults": results}
        if more:
            resp["NextToken"] = str(offset + PAGE)
            for r in results:
                r["StatusCode"] = "PartialData"  # more pages to come: PartialData with a NextToken
        if fault == "partial":  # CloudWatch stops early without a token (math expressions do this)
            victim = results[0]
            victim["Timestamps"], victim["Values"] = victim["Timestamps"][:3], victim["Values"][:3]
            victim["StatusCode"] = "PartialData"
            resp.pop("NextToken", None)
            for r in results[1:]:
                if more:  # the others lose their remaining pages too: the whole request is cut
                    r["StatusCode"] = "PartialData"
            self.hit_ids.update(r["Id"] for r in results if r["StatusCode"] == "PartialData")
        if fault == "messages":
            resp["Messages"] = [{"Code": "MaxMetricsExceeded", "Value": "Maximum number of allowed metrics exceeded"}]
            self.hit_ids.update(ids)
        return resp


def source(fake, now, concurrency=16):
    src = CloudWatchSource("demo", now=now, concurrency=concurrency)
    src.aws = fake
    return src


QS = [MetricQuery("Test/Fake", "M", {"Series": str(i)}, "Sum", 300, id=f"q{i}") for i in range(7)]
NOW = pd.Timestamp("2026-11-20T00:00Z")
WINDOW = TimeWindow(NOW - pd.Timedelta(days=4), NOW - pd.Timedelta(days=2))


@pytest.fixture(scope="module")
def truth():
    return source(FakeCloudWatch(), NOW).metrics(QS, WINDOW)


@pytest.mark.parametrize("seed", range(40))
def test_faulty_runs_are_identical_or_list_exactly_what_is_missing(seed, truth, tmp_path, monkeypatch):
    monkeypatch.setattr(cwmod, "MAX_DATAPOINTS", 600)  # 576 points per query: one query per request, paged
    rng = np.random.default_rng(seed)
    n_faults = int(rng.integers(0, 5))
    schedule = {int(c): str(rng.choice(FAULTS)) for c in rng.choice(30, size=n_faults, replace=False)}
    fake = FakeCloudWatch(schedule)
    cached = CachedSource(source(fake, NOW), cache_dir=tmp_path, now=NOW, key="k")
    got = cached.metrics(QS, WINDOW)
    hit = {q.label for q in QS if q.id in fake.hit_ids}
    assert set(got.attrs["incomplete"]) == hit  # exactly the queries a fault touched, no more, no fewer
    for q in QS:
        if q.label not in hit:
            pd.testing.assert_series_equal(got[q.label], truth[q.label])
    problems = cached.inner.problems
    assert {p["query"] for p in problems} == hit and all(p["reason"] for p in problems)
    # the next run, with CloudWatch healthy, is the fault-free run: nothing bad was cached
    healthy = CachedSource(source(FakeCloudWatch(), NOW), cache_dir=tmp_path, now=NOW, key="k")
    again = healthy.metrics(QS, WINDOW)
    pd.testing.assert_frame_equal(again, truth, check_freq=False)
    assert again.attrs["incomplete"] == {} and not healthy.inner.problems
    refetched = sum(r["api"] == "get_metric_data" for r in healthy.inner.aws.requests)
    assert (refetched > 0) == bool(hit)  # only what failed is fetched again


def test_the_fake_pages_like_cloudwatch(truth):
    """Sanity of the fake itself: every query pages (PAGE < points) and the data is what the formula says."""
    fake = FakeCloudWatch()
    df = source(fake, NOW).metrics(QS[:1], WINDOW)
    assert fake.api_calls > 1
    t = df.index[1]
    assert df.iloc[1, 0] == (1000 * 0 + (int(t.timestamp()) // 60) % 997 if (int(t.timestamp()) // 300) % 11
                             else np.nan) or np.isnan(df.iloc[1, 0])
    pd.testing.assert_frame_equal(df, truth[[QS[0].label]], check_freq=False)


@pytest.mark.parametrize("seed", range(20))
def test_concurrent_requests_give_exactly_what_one_after_another_gives(seed, tmp_path, monkeypatch):
    """The same faults on the same requests (keyed by what is asked, not by arrival order): the concurrent
    fetch's frame, incomplete queries, problems and cache are those of the serial fetch."""
    monkeypatch.setattr(cwmod, "MAX_DATAPOINTS", 600)
    rng = np.random.default_rng(1000 + seed)
    keys = [(q.id, off) for q in QS for off in (0, PAGE, 2 * PAGE)]
    picked = rng.choice(len(keys), size=int(rng.integers(0, 6)), replace=False)
    faults = {keys[int(k)]: str(rng.choice(FAULTS)) for k in picked}
    runs = {}
    for workers in (1, 8):
        fake = FakeCloudWatch(by_request=faults)
        cached = CachedSource(source(fake, NOW, workers), cache_dir=tmp_path / str(workers), now=NOW, key="k")
        df = cached.metrics(QS, WINDOW)
        probs = sorted((p["query"], p["reason"], str(p.get("start")), str(p.get("end"))) for p in cached.inner.problems)
        rerun = CachedSource(source(FakeCloudWatch(), NOW, workers), cache_dir=tmp_path / str(workers), now=NOW,
                             key="k")
        again = rerun.metrics(QS, WINDOW)
        runs[workers] = (df, probs, sum(r["api"] == "get_metric_data" for r in rerun.inner.aws.requests), again)
    (a, pa, ca, ra), (b, pb, cb, rb) = runs[1], runs[8]
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["incomplete"] == b.attrs["incomplete"] and pa == pb
    assert ca == cb  # the cache holds the same: the healthy rerun fetches the same requests again
    pd.testing.assert_frame_equal(ra, rb)
