"""The AWS path at AWS's speed: the same fetches against loopback stubs that answer after a real-world delay.

Real CloudWatch answers GetMetricData in tens to hundreds of milliseconds and a Logs Insights query in seconds;
loopback answers in microseconds, so every other benchmark hides the waiting. Here:

* **GetMetricData**: ``bench/fetch.py``'s stub (awsJson1_0, pages of 100,800 datapoints with NextToken) made to
  answer each request after ``--delay`` ms (default 100 and 300) and to count the most requests it saw in any
  second (the account's TPS quota is 50: the source's limiter must keep under it). 200 series x 14 days x
  1-minute: 40 requests, 4.03 M datapoints, through :meth:`CloudWatchSource.metrics`, once one request after
  another (``concurrency=1``: the path before, the baseline) and once as shipped (overlapping).
* **Logs Insights**: a StartQuery/GetQueryResults/StopQuery stub whose queries complete 2-5 s after they start;
  six queries through :meth:`CloudWatchSource.insights_many` (together) and one after another (the baseline).

For each: ``delay_ms= calls= wall_s= ideal_s= efficiency=`` with ``ideal_s = max(CPU floor measured at 0 ms,
calls / TPS, the longest chain of dependent waits)`` — for GetMetricData the chain is the first request alone
(it goes first, so bad credentials stop everything) then the longest request's pages, in order; for Insights
the longest query. ``us_per_point_total`` is the whole cost from bytes to frame at 0 ms (botocore's parsing
included). Goals: efficiency >= 0.8 at 100 and 300 ms; ``us_per_point_total`` <= 1.0.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fetch import _Stub  # noqa: E402

from rtanalytics.queries import MetricQuery  # noqa: E402
from rtanalytics.quota import LocalLimiter, max_per_second  # noqa: E402
from rtanalytics.sources.aws import AwsContext  # noqa: E402
from rtanalytics.sources.cloudwatch import CloudWatchSource  # noqa: E402
from rtanalytics.timewindow import TimeWindow  # noqa: E402
from tests.aws_helpers import END, NOW_AT, START, FaultProxy, MotoServer, seed_incident, session  # noqa: E402

SERIES, DAYS, PERIOD, TPS = 200, 14, 60, 50


class _Backlogged(ThreadingHTTPServer):
    """A threading server whose listen backlog holds a burst of overlapping requests (socketserver's default of
    5 drops the rest, and each dropped client waits a second to connect again)."""

    request_queue_size = 128
    daemon_threads = True



class _SlowStub(_Stub):
    delay = 0.0
    times: list = []

    def do_POST(self):
        type(self).times.append(time.time())
        time.sleep(self.delay)
        super().do_POST()


def serve(handler):
    srv = _Backlogged(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def metrics_run(url: str, queries, window, concurrency: int) -> tuple[float, int, pd.DataFrame, AwsContext]:
    ctx = AwsContext(endpoint_url=url, session=session(), limiter=LocalLimiter({"GetMetricData": TPS}))
    src = CloudWatchSource("demo", context=ctx, concurrency=concurrency)
    t0 = time.perf_counter()
    df = src.metrics(queries, window)
    return time.perf_counter() - t0, sum(r["api"] == "get_metric_data" for r in ctx.requests), df, ctx


class _Insights(BaseHTTPRequestHandler):
    """CloudWatch Logs (awsJson1_1): StartQuery, GetQueryResults (Running until the query's time is up, then
    Complete with 10 rows), StopQuery. Each query takes ``durations[n % len]`` seconds."""

    protocol_version = "HTTP/1.1"
    durations = [2.0, 3.0, 4.0, 5.0, 2.5, 3.5]
    started: dict = {}
    stopped: list = []
    delay = 0.1

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        time.sleep(self.delay)
        target = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        cls = type(self)
        if target == "StartQuery":
            qid = f"q{len(cls.started):04d}"
            cls.started[qid] = (time.monotonic(), cls.durations[len(cls.started) % len(cls.durations)])
            return self._send({"queryId": qid})
        if target == "GetQueryResults":
            t0, d = cls.started[body["queryId"]]
            if time.monotonic() - t0 < d:
                return self._send({"status": "Running", "results": [], "statistics": {"recordsScanned": 1e6 * (
                    time.monotonic() - t0)}})
            rows = [[{"field": "@timestamp", "value": f"2026-11-20 10:00:{i:02d}.000"},
                     {"field": "@message", "value": f"line {i}"}] for i in range(10)]
            return self._send({"status": "Complete", "results": rows,
                               "statistics": {"recordsMatched": 10.0, "recordsScanned": 1e7, "bytesScanned": 1e8}})
        if target == "StopQuery":
            cls.stopped.append(body.get("queryId"))
            return self._send({"success": True})
        return self._send({"__type": "UnknownOperationException"}, 400)

    def _send(self, obj, code=200):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "bench")
        self.end_headers()
        self.wfile.write(data)


def insights_run(url: str, specs, together: bool) -> float:
    ctx = AwsContext(endpoint_url=url, session=session(),
                     limiter=LocalLimiter({"StartQuery": 5, "GetQueryResults": 5}))
    src = CloudWatchSource("demo", context=ctx, insights_concurrency=8)
    t0 = time.perf_counter()
    if together:
        frames = src.insights_many(specs, poll_s=0.5)
    else:
        frames = [src.insights(s["log_groups"], s["query"], s["window"], poll_s=0.5) for s in specs]
    assert all(len(f) == 10 for f in frames)
    return time.perf_counter() - t0


#: the incident report's chain of dependent waits: ListMetrics (which signals exist), then GetMetricData for them
#: (the first request alone, the credentials probe, then the rest), then the impact's month of requests and the
#: access logs (they need the times found from the first answers)
INCIDENT_CHAIN = 4
#: documented default quotas (TPS) of the APIs the incident report calls
INCIDENT_TPS = {"list_metrics": 25, "get_metric_data": 50, "filter_log_events": 5, "describe_alarm_history": 9,
                "list_jobs": 20}


def incident_runs(delays) -> list[str]:
    """The incident report (``reports.incident.run``, as its notebook calls it) on CloudWatch: moto on loopback
    seeded with the demo's deploy incident, behind a proxy answering each request ``delay`` late; serial
    (``RTANALYTICS_AWS_CONCURRENCY=1``, the path before) and as shipped, each with an empty cache."""
    import os
    import shutil
    import tempfile

    import boto3
    import yaml

    from rtanalytics.catalog import _CACHE
    from rtanalytics.reports import incident
    from rtanalytics.settings import current
    from rtanalytics.sources.demo import DemoSource

    moto = MotoServer()
    tmp = Path(tempfile.mkdtemp(prefix="rt-latency-"))
    lines = []
    try:
        aws = AwsContext(region="us-west-1", endpoint_url=moto.url, session=session())
        seed_incident(aws, DemoSource(now="2026-11-20T00:00:00Z"))
        proxy = FaultProxy(moto.port, lambda n, body, h: None)
        params = tmp / "parameters"
        shutil.copytree(current().parameters, params)
        envs = yaml.safe_load((params / "environments.yaml").read_text())
        envs["environments"]["moto"] = dict(envs["environments"]["production"], endpoint_url=proxy.url)
        (params / "environments.yaml").write_text(yaml.safe_dump(envs))
        os.environ.update(RTANALYTICS_PARAMETERS=str(params), AWS_ACCESS_KEY_ID="testing",
                          AWS_SECRET_ACCESS_KEY="testing")
        _CACHE.clear()
        del boto3

        def once(conc: int, delay_ms: float, tag: str) -> tuple[float, list[dict]]:
            proxy.delay_s = delay_ms / 1000
            os.environ["RTANALYTICS_AWS_CONCURRENCY"] = str(conc)
            os.environ["RTANALYTICS_CACHE"] = str(tmp / f"cache-{tag}")
            t0 = time.perf_counter()
            rep = incident.run(source="cloudwatch", environment="moto", incident_start=START.isoformat(),
                               incident_end=END.isoformat(), now=NOW_AT)
            return time.perf_counter() - t0, rep.src.inner.inner.aws.requests

        once(16, 0, "warm")  # imports and first clients
        floor, reqs = once(16, 0, "floor")
        apis = pd.Series([r["api"] for r in reqs]).value_counts()
        by_tps = max(n / INCIDENT_TPS.get(api, 5) for api, n in apis.items())
        for d in delays:
            serial, _ = once(1, d, f"serial-{d}")
            wall, reqs = once(16, d, f"fast-{d}")
            ideal = max(floor, by_tps, floor + INCIDENT_CHAIN * d / 1000)
            lines.append(f"incident delay_ms={d:g} calls={len(reqs)} wall_s={wall:.2f} ideal_s={ideal:.2f} "
                         f"efficiency={ideal / wall:.2f} cpu_floor_s={floor:.2f} chain={INCIDENT_CHAIN} "
                         f"baseline_serial_wall_s={serial:.2f} speedup={serial / wall:.2f} "
                         f"within={wall / (floor + INCIDENT_CHAIN * d / 1000):.2f}x_of_floor_plus_chain")
        proxy.stop()
    finally:
        moto.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        for k in ("RTANALYTICS_PARAMETERS", "RTANALYTICS_AWS_CONCURRENCY", "RTANALYTICS_CACHE"):
            os.environ.pop(k, None)
    return lines


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay", type=float, action="append", help="ms per request (default: 100 and 300)")
    args = ap.parse_args()
    delays = args.delay or [100.0, 300.0]
    end = pd.Timestamp.now(tz="UTC").floor("D")
    window = TimeWindow(end - pd.Timedelta(days=DAYS), end)
    queries = [MetricQuery("Bench/Fetch", "Requests", {"Series": f"s{i:03d}"}, "Sum", PERIOD, id=f"q{i}")
               for i in range(SERIES)]
    srv, url = serve(_SlowStub)
    try:
        _SlowStub.delay = 0.0
        floor_s, calls, df, ctx = metrics_run(url, queries, window, 16)
        points = int(df.notna().sum().sum())
        pages = {}
        for r in ctx.requests:
            if r["api"] == "get_metric_data":
                key = tuple(r["params"]["MetricDataQueries"]["ids"]) + (r["params"].get("StartTime"),)
                pages[key] = pages.get(key, 0) + 1
        max_pages = max(pages.values())
        first_pages = next(iter(pages.values()))
        print(f"GetMetricData at 0 ms: {calls} calls, {points:,} datapoints in {floor_s:.2f} s: "
              f"us_per_point_total={floor_s / points * 1e6:.2f} (bytes to frame, botocore's parsing included)")
        worst = {}
        for d in delays:
            _SlowStub.delay = d / 1000
            figures = {}
            for name, conc in (("serial", 1), ("concurrent", 16)):
                _SlowStub.times = []
                wall, calls, got, _ = metrics_run(url, queries, window, conc)
                assert got.equals(df), "a concurrent fetch must give the serial fetch's frame"
                figures[name] = (wall, max_per_second(_SlowStub.times))
            chain = (first_pages + max_pages) * d / 1000
            ideal = max(floor_s, calls / TPS, chain)
            wall, peak = figures["concurrent"]
            worst[d] = ideal / wall
            print(f"metrics delay_ms={d:g} calls={calls} wall_s={wall:.2f} ideal_s={ideal:.2f} "
                  f"efficiency={ideal / wall:.2f} baseline_serial_wall_s={figures['serial'][0]:.2f} "
                  f"baseline_efficiency={ideal / figures['serial'][0]:.2f} speedup={figures['serial'][0] / wall:.2f} "
                  f"max_requests_per_s={peak} tps_quota={TPS}")
    finally:
        srv.shutdown()
    isrv, iurl = serve(_Insights)
    try:
        w = TimeWindow(end - pd.Timedelta(hours=6), end)
        specs = [{"log_groups": "/app", "query": f"fields @timestamp, @message | filter n = {i}", "window": w}
                 for i in range(6)]
        _Insights.started = {}
        serial = insights_run(iurl, specs, together=False)
        _Insights.started = {}
        together = insights_run(iurl, specs, together=True)
        longest = max(_Insights.durations)
        print(f"insights queries={len(specs)} each_s={min(_Insights.durations):g}-{longest:g} delay_ms=100 "
              f"wall_s={together:.2f} ideal_s={longest:.2f} efficiency={longest / together:.2f} "
              f"baseline_serial_wall_s={serial:.2f} speedup={serial / together:.2f} stopped={len(_Insights.stopped)}")
    finally:
        isrv.shutdown()
    for line in incident_runs(delays):
        print(line)
    print(f"us_per_point_total={floor_s / points * 1e6:.2f} " + " ".join(
        f"efficiency_{d:g}ms={e:.2f}" for d, e in worst.items()) + f" insights_efficiency={longest / together:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
