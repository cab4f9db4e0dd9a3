"""GetMetricData planning against a real local endpoint: 200 series x 14 days at 1-minute.

Starts moto server on 127.0.0.1 (a free port), seeds it, then fetches through the cloudwatch source:
API calls made vs the lower bound max(ceil(datapoints / 100,800), ceil(queries / 500)); then the seed
scripts' way (one GetMetricStatistics per metric per 1,440 datapoints); then the same fetch again through the
Parquet cache. moto's GetMetricData scans every stored datapoint of the time range for every period of every
query (quadratic), so the bench seeds a single datapoint per series, each on a different day and minute:
density changes the bytes moved, not the number of requests, which depend only on queries and time range.

Last line: api_calls=N lower_bound=N ratio=X naive_calls=N rerun_calls=N
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtanalytics.queries import MetricQuery  # noqa: E402
from rtanalytics.sources.aws import AwsContext  # noqa: E402
from rtanalytics.sources.cache import CachedSource  # noqa: E402
from rtanalytics.sources.cloudwatch import CloudWatchSource  # noqa: E402
from rtanalytics.timewindow import TimeWindow  # noqa: E402
from tests.aws_helpers import MotoServer, session  # noqa: E402

SERIES, DAYS, PERIOD = 200, 14, 60


def main() -> None:
    srv = MotoServer()
    try:
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
            calls = src.aws.api_calls
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
            same = df2.equals(df)
            print(f"rerun through the cache: {src2.aws.api_calls} calls in {rerun_wall:.2f} s "
                  f"({again.stats.hits} chunk hits), identical frame: {same}")
        print(f"api_calls={calls} lower_bound={lower} ratio={calls / lower:.2f} naive_calls={naive.api_calls} "
              f"rerun_calls={src2.aws.api_calls}")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
