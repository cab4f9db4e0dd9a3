"""GetMetricData planning against a real local endpoint: 200 series x 14 days at 1-minute.

Starts moto server on 127.0.0.1 (a free port), seeds it, then fetches through the cloudwatch source:
API calls made vs the lower bound max(ceil(datapoints / 100,800), ceil(queries / 500)); then the seed
scripts' way (one GetMetricStatistics per metric per 1,440 datapoints); then the same fetch again through the
Parquet cache. moto's GetMetricData scans every stored datapoint of the time range for every period of every
query (quadratic), so the bench seeds a single datapoint per series, each on a different day and minute:
density changes the bytes moved, not the number of requests, which depend only on queries and time range.

Then the same 200 x 14 d x 1-minute fetch at full density (4,032,000 datapoints, every period filled) from a
loopback stub shaped like the GetMetricData API reference (awsJson1_0, as botocore speaks to CloudWatch; paging
at 100,800 datapoints with NextToken), through the cloudwatch source and again through the Parquet cache. Every
value is compared with the stub's own generator. Our parsing cost is timed separately from botocore's
(``_series`` + ``assemble``: from the responses' arrays to the frame), and the per-datapoint figure is printed
with the reference implementation (a ``pd.Timestamp`` per point, the code before) measured in the same run.

Last line: api_calls=N lower_bound=N ratio=X naive_calls=N rerun_calls=N dense_points=N parse_us_per_point=X
reference_us_per_point=X parse_speedup=X botocore_us_per_point=X dense_fetch_s=X cache_write_s=X cache_read_s=X
identical=true|false
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtanalytics.queries import MetricQuery  # noqa: E402
from rtanalytics.sources.aws import AwsContext  # noqa: E402
from rtanalytics.sources.cache import CachedSource  # noqa: E402
from rtanalytics.sources.cloudwatch import CloudWatchSource  # noqa: E402
from rtanalytics.timewindow import TimeWindow  # noqa: E402
from tests.aws_helpers import MotoServer, session  # noqa: E402

SERIES, DAYS, PERIOD = 200, 14, 60


class _Backlogged(ThreadingHTTPServer):
    """A threading server whose listen backlog holds a burst of overlapping requests (socketserver's default of
    5 drops the rest, and each dropped client waits a second to connect again)."""

    request_queue_size = 128
    daemon_threads = True



def main() -> None:
    srv = MotoServer()
    try:
        # 14 days of 1-minute data end within the cache's 26 h settle horizon (CloudWatch keeps 1-minute data 15
        # days): a rerun refetches that unsettled tail by design, and the figures count those calls
        end = pd.Timestamp.now(tz="UTC").floor("D")
        window = TimeWindow(end - pd.Timedelta(days=DAYS), end)
        ctx = AwsContext(endpoint_url=srv.url, session=session())
        cw = ctx.client("cloudwatch")
        t0 = time.perf_counter()
        items = [{"MetricName": "Requests", "Dimensions": [{"Name": "Series", "Value": f"s{i:03d}"}],
                  "Timestamp": (window.start + pd.Timedelta(minutes=m)).to_pydatetime(), "Value": float(i + m)}
                 for i in range(SERIES) for m in [(i * 97) % (DAYS * 1440)]]
        for j in range(0, len(items), 1000):
            cw.put_metric_data(Namespace="Bench/Fetch", MetricData=items[j:j + 1000])
        print(f"seeded {len(items)} datapoints in {time.perf_counter() - t0:.1f} s")
        queries = [MetricQuery("Bench/Fetch", "Requests", {"Series": f"s{i:03d}"}, "Sum", PERIOD, id=f"q{i}")
                   for i in range(SERIES)]
        datapoints = SERIES * DAYS * 86400 // PERIOD
        lower = max(math.ceil(datapoints / 100_800), math.ceil(SERIES / 500))

        with tempfile.TemporaryDirectory() as cache_dir:
            src = CloudWatchSource("demo", context=AwsContext(endpoint_url=srv.url, session=session()))
            cached = CachedSource(src, cache_dir=cache_dir)
            t0 = time.perf_counter()
            df = cached.metrics(queries, window)
            wall = time.perf_counter() - t0
            calls = sum(r["api"] == "get_metric_data" for r in src.aws.requests)
            print(f"rtanalytics: {calls} GetMetricData calls for {datapoints:,} datapoints of {SERIES} queries "
                  f"(lower bound {lower}, ratio {calls / lower:.2f}) in {wall:.2f} s; "
                  f"{int(df.notna().sum().sum()):,} values present")

            naive = AwsContext(endpoint_url=srv.url, session=session())
            t0 = time.perf_counter()
            for q in queries:
                for d in range(DAYS):
                    s = window.start + pd.Timedelta(days=d)
                    naive.call("cloudwatch", "get_metric_statistics", Namespace=q.namespace, MetricName=q.metric,
                               Dimensions=[{"Name": k, "Value": v} for k, v in q.dimensions],
                               StartTime=s.to_pydatetime(), EndTime=(s + pd.Timedelta(days=1)).to_pydatetime(),
                               Period=PERIOD, Statistics=["Sum"])
            naive_wall = time.perf_counter() - t0
            print(f"seed scripts' way: {naive.api_calls} GetMetricStatistics calls in {naive_wall:.2f} s "
                  f"({naive.api_calls / calls:.0f}x the calls)")

            src2 = CloudWatchSource("demo", context=AwsContext(endpoint_url=srv.url, session=session()))
            again = CachedSource(src2, cache_dir=cache_dir)
            t0 = time.perf_counter()
            df2 = again.metrics(queries, window)
            rerun_wall = time.perf_counter() - t0
            rerun_calls = sum(r["api"] == "get_metric_data" for r in src2.aws.requests)
            same = df2.equals(df)
            print(f"rerun through the cache: {rerun_calls} GetMetricData calls in {rerun_wall:.2f} s "
                  f"({again.stats.hits} chunk hits), identical frame: {same}")
        dense = dense_fetch(queries, window)
        print(f"api_calls={calls} lower_bound={lower} ratio={calls / lower:.2f} naive_calls={naive.api_calls} "
              f"rerun_calls={rerun_calls} " + " ".join(f"{k}={v}" for k, v in dense.items()))
    finally:
        srv.stop()


# ----------------------------------------------------------------------------- full density, loopback API stub

def _value(qnum: int, minute: np.ndarray) -> np.ndarray:
    """The stub's datapoint for query ``qnum`` at epoch minute ``minute``: exact in float64, never constant."""
    return ((qnum * 7919 + minute * 31) % 100_003) / 8.0


class _Stub(BaseHTTPRequestHandler):
    """GetMetricData (awsJson1_0): every period of [StartTime, EndTime) filled, pages of 100,800 datapoints."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    calls = 0  # GetMetricData requests answered (class-wide)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if b"Action=GetCallerIdentity" in raw:  # STS (query protocol): the cache keys data by account
            xml = (b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                   b"<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/bench</Arn><UserId>AIDBENCH</UserId>"
                   b"<Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>b"
                   b"</RequestId></ResponseMetadata></GetCallerIdentityResponse>")
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(xml)))
            self.end_headers()
            self.wfile.write(xml)
            return
        body = json.loads(raw)
        type(self).calls += 1
        target = self.headers.get("X-Amz-Target", "")
        if not target.endswith("GetMetricData"):
            return self._send(400, {"__type": "UnknownOperationException", "message": target})
        start, end = int(body["StartTime"]), int(body["EndTime"])
        qs = body["MetricDataQueries"]
        per = int(qs[0]["MetricStat"]["Period"])
        stamps = np.arange(start - start % per, end, per, dtype=np.int64)
        offset = int(body.get("NextToken") or 0)  # datapoints already sent, over the queries in order
        budget, results = 100_800, []
        pos = offset
        for q in qs:
            n = len(stamps)
            qoff = max(0, min(n, offset - qs.index(q) * n))
            if qoff >= n or budget <= 0:
                results.append({"Id": q["Id"], "Label": q["Id"], "Timestamps": [], "Values": [],
                                "StatusCode": "Complete" if qoff >= n else "PartialData"})
                continue
            take = stamps[qoff:qoff + budget]
            qnum = int(q["Id"][1:])
            results.append({"Id": q["Id"], "Label": q["Id"], "Timestamps": take.tolist(),
                            "Values": _value(qnum, take // 60).tolist(),
                            "StatusCode": "Complete" if qoff + len(take) >= n else "PartialData"})
            budget -= len(take)
            pos = qs.index(q) * n + qoff + len(take)
        total = len(qs) * len(stamps)
        resp = {"MetricDataResults": results, "Messages": []}
        if pos < total:
            resp["NextToken"] = str(pos)
        self._send(200, resp)

    def _send(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "bench")
        self.end_headers()
        self.wfile.write(data)


def _series_reference(parts):
    """The parsing before (for the ratio): a dict keyed by ``pd.Timestamp`` built per datapoint."""
    d = {}
    for ts, vs in parts:
        for t, v in zip(ts, vs):
            d[pd.Timestamp(t, unit="s", tz="UTC") if isinstance(t, (int, float)) else pd.Timestamp(t)] = float(v)
    return pd.Series(d, dtype="float64").sort_index()


def dense_fetch(queries, window) -> dict:
    import rtanalytics.sources.base as base
    import rtanalytics.sources.cloudwatch as cwmod

    srv = _Backlogged(("127.0.0.1", 0), _Stub)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    timers = {"series": 0.0, "assemble": 0.0}
    captured = []
    orig_series, orig_assemble = cwmod._series, cwmod.assemble

    def timed_series(parts):
        captured.append(parts)
        t = time.perf_counter()
        try:
            return orig_series(parts)
        finally:
            timers["series"] += time.perf_counter() - t

    def timed_assemble(*a, **k):
        t = time.perf_counter()
        try:
            return orig_assemble(*a, **k)
        finally:
            timers["assemble"] += time.perf_counter() - t

    cwmod._series, cwmod.assemble = timed_series, timed_assemble
    try:
        src = CloudWatchSource("demo", context=AwsContext(endpoint_url=url, session=session()))
        t0 = time.perf_counter()
        df = src.metrics(queries, window)
        fetch_s = time.perf_counter() - t0
    finally:
        cwmod._series, cwmod.assemble = orig_series, orig_assemble
        srv.shutdown()
    points = int(df.notna().sum().sum())
    ours = timers["series"] + timers["assemble"]
    # the reference on a sample of the same responses (it is slow), scaled per datapoint
    sample = captured[: max(1, len(captured) // 20)]
    n_ref = sum(len(ts) for parts in sample for ts, _ in parts)
    t0 = time.perf_counter()
    for parts in sample:
        _series_reference(parts)
    ref_us = (time.perf_counter() - t0) / max(n_ref, 1) * 1e6
    # every value against the stub's generator
    minutes = df.index.as_unit("s").asi8 // 60
    expected = np.stack([_value(int(q.id[1:]), minutes) for q in queries], axis=1)
    identical = bool(np.array_equal(df.to_numpy(), expected))
    with tempfile.TemporaryDirectory() as cache_dir:
        stub2 = _Backlogged(("127.0.0.1", 0), _Stub)
        threading.Thread(target=stub2.serve_forever, daemon=True).start()
        try:
            cached = CachedSource(CloudWatchSource("demo", context=AwsContext(
                endpoint_url=f"http://127.0.0.1:{stub2.server_address[1]}", session=session())), cache_dir=cache_dir)
            t0 = time.perf_counter()
            cached.metrics(queries, window)
            write_s = time.perf_counter() - t0
            before = _Stub.calls
            again = CachedSource(CloudWatchSource("demo", context=AwsContext(
                endpoint_url=f"http://127.0.0.1:{stub2.server_address[1]}", session=session())), cache_dir=cache_dir)
            t0 = time.perf_counter()
            back = again.metrics(queries, window)
            read_s = time.perf_counter() - t0
            identical = identical and bool(np.array_equal(back.to_numpy(), expected))
            read_calls = _Stub.calls - before
        finally:
            stub2.shutdown()
    botocore_us = (fetch_s - ours) / points * 1e6  # requests, JSON and botocore's parsing: not ours
    print(f"full density: {points:,} datapoints of {len(queries)} queries fetched in {fetch_s:.2f} s from a loopback "
          f"GetMetricData stub; our parsing (arrays to frame) {ours:.2f} s = {ours / points * 1e6:.3f} us per "
          f"datapoint (reference, a Timestamp per point: {ref_us:.2f} us); everything else (HTTP, JSON, botocore) "
          f"{botocore_us:.2f} us per datapoint")
    print(f"through the cache: written in {write_s:.2f} s (fetch included), read back in {read_s:.2f} s with {read_calls} "
          f"GetMetricData calls; every value equal to the stub's: {identical}")
    return {"dense_points": points, "parse_us_per_point": round(ours / points * 1e6, 3),
            "reference_us_per_point": round(ref_us, 2), "parse_speedup": round(ref_us / (ours / points * 1e6), 1),
            "botocore_us_per_point": round(botocore_us, 2), "dense_fetch_s": round(fetch_s, 2),
            "cache_write_s": round(write_s, 2), "cache_read_s": round(read_s, 2), "cache_read_calls": read_calls,
            "identical": str(identical).lower()}


if __name__ == "__main__":
    main()
