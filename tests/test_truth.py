"""Never a false "ok": one regression test per defect of issue 12 (completeness from AWS to the report status).

Each test would have failed before the fix it guards; the fault-injection property test is in
``test_fault_property.py`` and the reports x windows x sources grid in ``test_grid.py``.
"""

import json

import numpy as np
import pandas as pd
import pytest
from botocore.stub import Stubber

from rtanalytics.errors import AuthError, ParameterError
from rtanalytics.queries import MetricQuery
from rtanalytics.retention import check_period, cloudwatch_start, finest_period, serve_period
from rtanalytics.sources.aws import AwsContext
from rtanalytics.sources.cache import CachedSource, source_key
from rtanalytics.sources.cloudwatch import CloudWatchSource
from rtanalytics.sources.demo import DemoSource
from rtanalytics.sources.evidence import RecordingSource, provenance
from rtanalytics.timewindow import TimeWindow, period_seconds

from .aws_helpers import FaultProxy, session
from .conftest import NOW
from .test_cloudwatch import NS, expected, queries, seed_metrics


def ctx(url=None, **kw):
    return AwsContext(region="us-west-1", endpoint_url=url, session=session(), **kw)


def gmd(src) -> int:
    return sum(r["api"] == "get_metric_data" for r in src.aws.requests)


@pytest.fixture
def window():
    start = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=30)
    return TimeWindow(start, start + pd.Timedelta(minutes=90))


# ------------------------------------------------------------------------------------------ 1. cache poisoning
def test_a_failed_fetch_is_not_cached_and_the_next_healthy_run_refetches(aws, moto_server, window, tmp_path):
    seed_metrics(aws, 3, 90, window.start)
    now = window.end + pd.Timedelta(days=2)  # everything settled: the cache would keep it forever
    proxy = FaultProxy(moto_server.port, lambda n, body, h: "http500" if b"GetMetricData" in body or "GetMetricData" in str(h) else None)
    try:
        bad = CachedSource(CloudWatchSource("demo", context=ctx(proxy.url, max_attempts=2)), cache_dir=tmp_path,
                           now=now, key="k")
        got = bad.metrics(queries(3), window)
    finally:
        proxy.stop()
    assert got.isna().all().all() and set(got.attrs["incomplete"]) == {q.label for q in queries(3)}
    assert not list(tmp_path.rglob("*.parquet"))  # nothing stored as settled "no data"
    healthy = CachedSource(CloudWatchSource("demo", context=ctx(moto_server.url)), cache_dir=tmp_path, now=now,
                           key="k")
    df = healthy.metrics(queries(3), window)
    assert gmd(healthy.inner) >= 1 and healthy.stats.hits == 0 and df.attrs["incomplete"] == {}
    for i, q in enumerate(queries(3)):
        np.testing.assert_array_equal(df[q.label].to_numpy(), expected(i, 90))


def _stubbed(responses, now=None):
    c = ctx()
    src = CloudWatchSource("demo", context=c, now=now)
    st = Stubber(c.client("cloudwatch"))
    for r in responses:
        st.add_response("get_metric_data", r)
    st.activate()
    return src, st


def _result(qid, ts, vals, status="Complete", **kw):
    return {"Id": qid, "Label": qid, "Timestamps": [t.to_pydatetime() for t in ts], "Values": vals,
            "StatusCode": status, **kw}


# ------------------------------------------------------------------------------------- 3. GetMetricData statuses
def test_partial_data_without_a_next_token_is_partial_and_never_cached(tmp_path):
    now = pd.Timestamp.now(tz="UTC").floor("min")
    w = TimeWindow(now - pd.Timedelta(days=3), now - pd.Timedelta(days=3) + pd.Timedelta(minutes=10))
    q = MetricQuery(NS, "Requests", {"Series": "s000"}, "Sum", 60, id="q0")
    ts = [w.start + pd.Timedelta(minutes=i) for i in range(4)]
    src, st = _stubbed([{"MetricDataResults": [_result("q0", ts, [1.0, 2.0, 3.0, 4.0], "PartialData")]}], now=now)
    cached = CachedSource(src, cache_dir=tmp_path, now=now, key="k")
    df = cached.metrics([q], w)
    st.deactivate()
    assert df[q.label].iloc[:4].tolist() == [1.0, 2.0, 3.0, 4.0] and df[q.label].iloc[4:].isna().all()
    assert q.label in df.attrs["incomplete"] and src.problems[0]["kind"] == "partial"
    assert not list(tmp_path.rglob("*.parquet"))
    assert provenance(RecordingSource(cached))["complete"] is False


def test_response_messages_make_the_queries_of_that_request_partial():
    now = pd.Timestamp.now(tz="UTC").floor("min")
    w = TimeWindow(now - pd.Timedelta(hours=2), now - pd.Timedelta(hours=1))
    qs = [MetricQuery(NS, "Requests", {"Series": f"s{i}"}, "Sum", 60, id=f"q{i}") for i in range(2)]
    resp = {"MetricDataResults": [_result("q0", [w.start], [1.0]), _result("q1", [w.start], [2.0])],
            "Messages": [{"Code": "MaxMetricsExceeded", "Value": "Maximum number of allowed metrics exceeded"}]}
    src, st = _stubbed([resp], now=now)
    df = src.metrics(qs, w)
    st.deactivate()
    assert set(df.attrs["incomplete"]) == {q.label for q in qs}
    assert all("Maximum number of allowed metrics exceeded" in p["reason"] for p in src.problems)


def test_partial_data_followed_by_pages_is_complete():
    """PartialData with a NextToken only means "more pages": complete once the last page says Complete."""
    now = pd.Timestamp.now(tz="UTC").floor("min")
    w = TimeWindow(now - pd.Timedelta(hours=2), now - pd.Timedelta(hours=2) + pd.Timedelta(minutes=4))
    q = MetricQuery(NS, "Requests", {"Series": "s0"}, "Sum", 60, id="q0")
    ts = [w.start + pd.Timedelta(minutes=i) for i in range(4)]
    src, st = _stubbed([{"MetricDataResults": [_result("q0", ts[:2], [1.0, 2.0], "PartialData")], "NextToken": "t"},
                        {"MetricDataResults": [_result("q0", ts[2:], [3.0, 4.0])]}], now=now)
    df = src.metrics([q], w)
    st.deactivate()
    assert df[q.label].tolist() == [1.0, 2.0, 3.0, 4.0] and df.attrs["incomplete"] == {} and not src.problems


# ------------------------------------------------------------------------------- 4. metric math with a warm cache
class MathSource:
    """A source that evaluates ``m1 + m2``-style expressions and refuses one whose inputs are not in the same
    request, as GetMetricData does."""

    name = "fake"

    def __init__(self):
        self.demo = DemoSource(now=NOW)
        self.requests = []

    def metrics(self, queries, window):
        self.requests.append([q.id for q in queries])
        ids = {q.id for q in queries}
        plain = [q for q in queries if q.expression is None]
        df = self.demo.metrics(plain, window)
        for q in queries:
            if q.expression is not None:
                a, b = [x.strip() for x in q.expression.split("+")]
                assert {a, b} <= ids, f"expression {q.expression} sent without its inputs {ids}"
                by = {x.id: x.label for x in queries}
                df[q.label] = df[by[a]] + df[by[b]]
        return df


def test_an_expression_and_its_inputs_always_travel_together(tmp_path):
    base = list(DemoSource(now=NOW).by_id)[:2]
    m1, m2 = (m.query("Sum", 300, id=f"m{i + 1}") for i, m in enumerate(base))
    e = MetricQuery(expression="m1 + m2", period=300, id="e1", label="total")
    w = TimeWindow.parse("2026-11-10", "2026-11-12")
    inner = MathSource()
    warm = CachedSource(inner, cache_dir=tmp_path, now=NOW, key="k")
    warm.metrics([m1, m2], TimeWindow.parse("2026-11-10", "2026-11-11"))  # half the window cached
    got = CachedSource(inner, cache_dir=tmp_path, now=NOW, key="k").metrics([m1, m2, e], w)
    assert sorted(inner.requests[-1]) == ["e1", "m1", "m2"]
    np.testing.assert_allclose(got["total"].to_numpy(), (got[m1.label] + got[m2.label]).to_numpy())
    both = got[m1.label].notna() & got[m2.label].notna()
    assert got["total"].notna().sum() == both.sum() > 0


# ---------------------------------------------------------------------------------------------- 5. late data
def test_data_younger_than_the_settle_horizon_is_refetched_and_a_range_can_be_dropped(tmp_path):
    now = pd.Timestamp(NOW)
    qs = [m.query("Sum", 300) for m in list(DemoSource(now=NOW).by_id)[:2]]
    w = TimeWindow(now - pd.Timedelta(hours=40), now)
    c1 = CachedSource(DemoSource(now=NOW), cache_dir=tmp_path, now=NOW)
    first = c1.metrics(qs, w)
    c2 = CachedSource(DemoSource(now=NOW), cache_dir=tmp_path, now=NOW)
    pd.testing.assert_frame_equal(c2.metrics(qs, w), first)
    assert c2.stats.hits > 0 and c2.stats.refetched_recent > 0  # the last 26 h are always asked again
    files = list(tmp_path.rglob("*.parquet"))
    assert files and all(int(json.loads(json.dumps(1))) for _ in files)
    cov_hi = max(int(__import__("pyarrow.parquet", fromlist=["x"]).read_schema(f).metadata[b"cov_hi"])
                 for f in files)
    assert cov_hi <= (now - pd.Timedelta(hours=26)).timestamp()
    assert c2.drop(start=w.start, end=w.end) == len(files)
    c3 = CachedSource(DemoSource(now=NOW), cache_dir=tmp_path, now=NOW)
    pd.testing.assert_frame_equal(c3.metrics(qs, w), first)
    assert c3.stats.hits == 0 and c3.stats.misses > 0


def test_settle_horizon_is_configurable(monkeypatch, tmp_path):
    monkeypatch.setenv("RTANALYTICS_SETTLE", "2h")
    assert CachedSource(DemoSource(now=NOW), cache_dir=tmp_path).settle == pd.Timedelta(hours=2)
    assert CachedSource(DemoSource(now=NOW), cache_dir=tmp_path, settle="48h").settle == pd.Timedelta(hours=48)


# ----------------------------------------------------------------------------------------------- 6. cache key
def test_cache_key_follows_the_account_and_region(moto_server):
    a = CloudWatchSource("demo", context=ctx(moto_server.url))
    assert a.account_id() == a.account_id() == "123456789012"
    assert sum(r["api"] == "get_caller_identity" for r in a.aws.requests) == 1  # asked once
    b = CloudWatchSource("demo", context=ctx(moto_server.url))
    b._account = "210987654321"
    c = CloudWatchSource("demo", context=AwsContext(region="eu-west-1", endpoint_url=moto_server.url,
                                                    session=session()))
    assert len({source_key(a), source_key(b), source_key(c)}) == 3


# -------------------------------------------------------------------------------- 7. composite alarm history
def test_alarm_history_asks_for_composite_alarms_too():
    c = ctx()
    st = Stubber(c.client("cloudwatch"))
    w = TimeWindow.parse("2026-11-11T18:00Z", "2026-11-11T19:00Z")
    st.add_response("describe_alarm_history", {"AlarmHistoryItems": [{
        "AlarmName": "RealTechee-P0", "AlarmType": "CompositeAlarm", "HistoryItemType": "StateUpdate",
        "Timestamp": pd.Timestamp("2026-11-11T18:10Z").to_pydatetime(),
        "HistorySummary": "Alarm updated from OK to ALARM"}]},
        expected_params={"HistoryItemType": "StateUpdate", "StartDate": w.start.to_pydatetime(),
                         "EndDate": w.end.to_pydatetime(), "ScanBy": "TimestampAscending", "MaxRecords": 100,
                         "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
    with st:
        h = CloudWatchSource("demo", context=c).alarm_history(w)
    assert h.iloc[0]["alarm"] == "RealTechee-P0" and h.iloc[0]["to_state"] == "ALARM"


# ------------------------------------------------------------------------------------------------ 8. log side
def test_a_failed_log_call_makes_the_run_partial_not_failed(aws):
    src = RecordingSource(CloudWatchSource("demo", context=aws))
    w = TimeWindow.parse("-1h", "now")
    df = src.logs("/aws/amplify/no-such-group", w)
    assert df.empty and list(df.columns)[:5] == ["timestamp", "log_group", "stream", "level", "message"]
    prov = provenance(src)
    assert prov["complete"] is False
    assert prov["problems"][0]["kind"] == "logs" and "no-such-group" in prov["problems"][0]["query"]


def test_insights_stops_the_query_on_any_error_and_records_its_cost():
    c = ctx()
    logs = c.client("logs")
    w = TimeWindow.parse("2026-11-11T18:00Z", "2026-11-11T19:00Z")
    st = Stubber(logs)
    st.add_response("start_query", {"queryId": "q1"})
    st.add_client_error("get_query_results", "ServiceUnavailableException", http_status_code=400)
    st.add_response("stop_query", {"success": True}, {"queryId": "q1"})
    st.add_response("start_query", {"queryId": "q2"})
    st.add_response("get_query_results", {"status": "Complete", "results": [[{"field": "n", "value": "3"}]],
                                          "statistics": {"recordsMatched": 3.0, "recordsScanned": 900.0,
                                                         "bytesScanned": 123456.0}})
    src = CloudWatchSource("demo", context=c)
    with st:
        with pytest.raises(Exception):
            src.insights("g", "stats count(*) as n", w, poll_s=0)
        df = src.insights("g", "stats count(*) as n", w, poll_s=0)
        st.assert_no_pending_responses()  # StopQuery was called for the failed one
    assert df["n"].iloc[0] == 3
    prov = provenance(RecordingSource(src))
    assert prov["logs_insights"] == {"queries": 1, "bytes_scanned": 123456.0, "records_matched": 3.0,
                                     "records_scanned": 900.0}


# ------------------------------------------------------------------------------------------- 9. no data is not ok
def test_an_empty_export_folder_is_no_data_and_never_latest_good(tmp_path):
    from rtanalytics.reports.runner import run_report

    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_report("kpis", {"source": "files", "files_path": str(empty)}, tmp_path / "out", progress=False)
    assert res.status == "no-data"
    assert res.summary["provenance"]["complete"] is False
    assert any("holds no series" in n for n in res.summary["notes"])
    assert not (tmp_path / "out" / "kpis" / "latest.json").exists()


def test_capacity_without_enough_history_is_partial():
    from rtanalytics.reports import capacity

    rep = capacity.run(start="-14d", now=NOW)
    assert rep.status == "partial"  # forecasts, but a 14-day backtest holdout leaves nothing to fit
    assert rep.forecasts and all("accuracy unknown" in g for g in rep.gaps())
    rep = capacity.run(start="-5d", now=NOW)
    assert rep.status == "no-data" and all("not enough history" in g for g in rep.gaps())


def test_kpis_with_a_kpi_without_data_are_partial(tmp_path):
    from rtanalytics.reports import kpi

    rep = kpi.run(start="-2h", now=NOW)
    assert rep.status == "ok", rep.all_notes()
    folder = tmp_path / "bundle"
    kpi.run(start="-2h", now=NOW, kpis=["availability"], evidence_dir=str(folder))
    again = kpi.run(source="files", files_path=str(folder), start="2026-11-19T22:00Z", end="2026-11-20T00:00Z",
                    now=NOW)
    assert again.status == "partial"  # the bundle holds availability only: the other KPIs have no data
    assert any(g.startswith("KPI response_time: no data") for g in again.gaps())
    # error_rate's 5XX counts are not in the bundle: unknown, never read as "absent = 0" (a 0 % error rate)
    row = again.table.set_index("kpi").loc["error_rate"]
    assert not row["complete"] and any(g.startswith("KPI error_rate: computed from incomplete") for g in
                                       again.gaps())


# ----------------------------------------------------------------------- 10. the environment decides the source
def test_production_without_a_source_reads_cloudwatch_never_the_demo():
    from rtanalytics.reports.registry import get_report, resolve_params

    p = resolve_params(get_report("kpis"), {"environment": "production"}, now=NOW)
    assert p["source"] == "cloudwatch"
    assert resolve_params(get_report("kpis"), {}, now=NOW)["source"] == "demo"


def test_a_demo_run_says_it_is_simulated():
    from rtanalytics.reports import kpi

    line = kpi.run(start="-2h", now=NOW).status_line()
    assert line.startswith("Status: OK — demo source, environment demo") and "SIMULATED" in line


# ---------------------------------------------------------------------------------------- 2. retention tiers
def test_retention_tiers_follow_the_api_reference():
    now = pd.Timestamp("2026-11-20T12:00Z")
    assert [period_seconds(p) for p in ("1s", "5s", "10s", "20s", "30s", "1m", "2m")] == [1, 5, 10, 20, 30, 60, 120]
    assert check_period(1, now - pd.Timedelta(hours=2), now) is None
    assert "finer" in check_period(10, now - pd.Timedelta(hours=4), now)
    assert check_period(60, now - pd.Timedelta(days=14), now) is None
    assert "300" in check_period(60, now - pd.Timedelta(days=16), now)
    assert check_period(600, now - pd.Timedelta(days=16), now) is None
    assert "3600" in check_period(300, now - pd.Timedelta(days=90), now)
    assert "455" in check_period(3600, now - pd.Timedelta(days=500), now)
    assert [finest_period(now - pd.Timedelta(days=d), now) for d in (1, 20, 90)] == [60, 300, 3600]
    assert serve_period(60, now - pd.Timedelta(days=20), now) == 300
    assert serve_period(1234 * 60, now - pd.Timedelta(days=90), now) == 21 * 3600
    at = pd.Timestamp("2026-10-01T10:07:31Z")
    assert cloudwatch_start(at, now) == pd.Timestamp("2026-10-01T10:05Z")  # 15-63 days: 5-minute interval
    assert cloudwatch_start(at - pd.Timedelta(days=40), now) == pd.Timestamp("2026-08-22T10:00Z")
    assert cloudwatch_start(now - pd.Timedelta(hours=5, seconds=31), now) == pd.Timestamp("2026-11-20T06:59Z")


def test_an_explicit_period_cloudwatch_cannot_serve_is_refused_before_any_kernel():
    from rtanalytics.reports.registry import get_report, resolve_params

    with pytest.raises(ParameterError) as e:
        resolve_params(get_report("kpis"), {"start": "-90d", "period": "1m"}, now=NOW)
    assert e.value.name == "period" and "3600" in str(e.value)
    p = resolve_params(get_report("kpis"), {"start": "-90d"}, now=NOW)  # the default moves to the finest kept
    assert p["period"] == "3600s"


def test_the_demo_answers_as_cloudwatch_would_for_old_windows():
    demo = DemoSource(now=NOW)
    m = list(demo.by_id)[0]
    w = TimeWindow.parse("-20d", "-19d", now=NOW)
    df = demo.metrics([m.query("Sum", 60, label="fine"), m.query("Sum", 300, label="five")], w)
    assert df["fine"].isna().all() and df["five"].notna().any()
    assert set(df.attrs["incomplete"]) == {"fine"} and demo.problems[-1]["kind"] == "retention"
    assert df.index[0] == w.start.floor("5min")  # the start rounded as CloudWatch rounds it at that age


def test_cloudwatch_never_sends_a_query_its_tier_cannot_serve(aws):
    src = CloudWatchSource("demo", context=aws)
    w = TimeWindow.parse("-20d", "-19d")
    df = src.metrics([MetricQuery(NS, "Requests", {"Series": "s0"}, "Sum", 60, id="q0")], w)
    assert gmd(src) == 0 and df.isna().all().all() and src.problems[0]["kind"] == "retention"


# ------------------------------------------------------------------------------------------------ 15. retries
def test_retries_are_bounded_in_attempts_and_auth_errors_stop_the_fetch(monkeypatch):
    from rtanalytics.sources import cloudwatch as cwmod

    c = ctx()
    assert c.client("cloudwatch").meta.config.retries["total_max_attempts"] == 3
    monkeypatch.setattr(cwmod, "MAX_DATAPOINTS", 60)  # several requests would be planned
    st = Stubber(c.client("cloudwatch"))
    st.add_client_error("get_metric_data", "AccessDenied", "User is not authorized to perform GetMetricData")
    st.activate()
    src = CloudWatchSource("demo", context=c)
    with pytest.raises(AuthError, match="docs/iam-policy.json"):
        src.metrics(queries(4), TimeWindow.parse("-3h", "-2h"))
    st.deactivate()
    assert gmd(src) == 1  # stopped at the first: no retry, no further batch


# ------------------------------------------------------------------------------------------- 12. health, no creds
def test_health_without_credentials_is_unknown_not_unhealthy(monkeypatch):
    from botocore.exceptions import NoCredentialsError

    from rtanalytics import health as H

    class NoCreds:
        def client(self, service):
            class C:
                def __getattr__(self, name):
                    def call(**kw):
                        raise NoCredentialsError()
                    return call
            return C()

    class NoMetrics:
        def metrics(self, qs, w):
            raise AuthError("cloudwatch.get_metric_data failed: NoCredentialsError") from NoCredentialsError()

    from rtanalytics.catalog import catalog

    env = catalog().environment("production")
    env = env.model_copy(update={"resources": env.resources.model_copy(update={
        "app_url": None, "graphql_url": None, "s3_bucket": "b", "user_pool_id": "p"})})
    rep = H.run_checks(env, NoCreds(), NoMetrics(), now=NOW)
    assert {c["status"] for c in rep["checks"].values()} == {"unknown"}
    assert rep["overallStatus"] == "unknown" and H.EXIT["unknown"] == 5
    assert "not configured" in rep["checks"]["database"]["error"]
    assert H.overall_status(["healthy", "unknown"]) == "unknown"
    assert H.overall_status(["degraded", "unknown"]) == "degraded"


# ------------------------------------------------------------------------------ 13. alarm history is a fact
def test_demo_alarm_history_is_the_same_whatever_window_asks():
    demo = DemoSource(now=NOW)
    long = demo.alarm_history(TimeWindow.parse("-20d", "now", now=NOW))
    for start in ("-7d", "-3d", "-36h"):
        w = TimeWindow.parse(start, "now", now=NOW)
        short = DemoSource(now=NOW).alarm_history(w)
        sl = long[long["timestamp"] >= w.start].reset_index(drop=True)
        pd.testing.assert_frame_equal(short, sl)


# --------------------------------------------------------------------------- 14. premature-alarm rule (docs)
@pytest.mark.parametrize("mode,want", [("missing", "ALARM"), ("ignore", "OK"), ("breaching", "ALARM"),
                                       ("notBreaching", "OK")])
def test_documented_row_x_then_four_missing(mode, want):
    """The CloudWatch User Guide's missing-data table (before its 2023 revision), 3 of 3, evaluation range 5:
    ``X - - - -`` (oldest first) is ALARM for missing, keeps the state for ignore (OK here), ALARM for breaching,
    OK for notBreaching. The breaching point ages past the last N positions with nothing newer."""
    from rtanalytics.alarms import Alarm, evaluate_loop, evaluate_states, STATE_NAMES

    a = Alarm(AlarmName="a", Namespace="N", MetricName="M", Statistic="Sum", Period=60, EvaluationPeriods=3,
              DatapointsToAlarm=3, Threshold=1.0, ComparisonOperator="GreaterThanThreshold", TreatMissingData=mode)
    nan = float("nan")
    values = [0.0] * 5 + [5.0, nan, nan, nan, nan]  # OK first, then X - - - -
    codes = evaluate_states(a, np.asarray(values))
    assert STATE_NAMES[codes[-1]] == want
    assert evaluate_loop(a, values)[-1] == want


# ------------------------------------------------------------------------ 16. tests never touch a user's outputs
def test_the_suite_writes_outside_the_checkout():
    import os

    from rtanalytics.health import default_history_path
    from rtanalytics.settings import default_outputs
    from rtanalytics.sources.cache import default_cache_dir

    from .conftest import ROOT

    sandbox = os.environ["RTANALYTICS_TEST_SANDBOX"]
    for p in (default_outputs(), default_history_path(), default_cache_dir()):
        assert str(p).startswith(sandbox) and not str(p).startswith(str(ROOT)), p


def test_cache_cli_drops_a_range(tmp_path, monkeypatch, capsys):
    from rtanalytics.cli import main

    monkeypatch.setenv("RTANALYTICS_CACHE", str(tmp_path))
    qs = [m.query("Sum", 300) for m in list(DemoSource(now=NOW).by_id)[:2]]
    CachedSource(DemoSource(now=NOW), now=NOW).metrics(qs, TimeWindow.parse("2026-11-10", "2026-11-12"))
    n = len(list(tmp_path.rglob("*.parquet")))
    assert n > 0 and main(["cache", "info"]) == 0 and f"files: {n}" in capsys.readouterr().out
    assert main(["cache", "drop", "--start", "2026-11-01", "--end", "2026-11-02"]) == 0  # nothing there
    assert len(list(tmp_path.rglob("*.parquet"))) == n
    assert main(["cache", "drop", "--start", "2026-11-11T06:00Z"]) == 0
    assert len(list(tmp_path.rglob("*.parquet"))) < n
    assert main(["cache", "drop", "--start", "whenever"]) == 2


# ------------------------------------------------------------- 11. ordinary inputs never end in a traceback
def test_an_unknown_sweep_alarm_is_refused_before_any_kernel():
    from rtanalytics.reports.registry import get_report, resolve_params

    with pytest.raises(ParameterError) as e:
        resolve_params(get_report("alarms"), {"sweep_alarm": "RealTechee-Nope"}, now=NOW)
    assert e.value.name == "sweep_alarm" and "RealTechee-Critical-Error-Rate" in str(e.value)


def test_alarms_on_an_export_without_incidents_say_scores_cannot_be_computed(tmp_path):
    from rtanalytics.reports import alarms

    t = pd.date_range("2026-11-19", periods=288, freq="5min", tz="UTC")
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "RealTechee-Critical-Error-Rate": 1.0}).to_csv(
        tmp_path / "alb.csv", index=False)
    rep = alarms.run(source="files", files_path=str(tmp_path), start="2026-11-19", end="2026-11-20", now=NOW)
    assert rep.status == "partial"
    assert any("no incident ground truth" in g for g in rep.gaps())


@pytest.mark.parametrize("name,params", [("capacity", {"start": "-24h"}), ("slo", {"start": "-2h"})])
def test_short_windows_that_crashed_now_say_what_they_lack(name, params):
    from rtanalytics.reports import capacity, slo

    rep = {"capacity": capacity.run, "slo": slo.run}[name](now=NOW, **params)
    assert rep.status in ("ok", "partial", "no-data")
    if rep.status != "ok":
        assert rep.all_notes()


def test_change_events_are_cached_per_settled_day(tmp_path):
    class Counting:
        name = "fake"
        now = pd.Timestamp(NOW)

        def __init__(self):
            self.calls = 0

        def events(self, window):
            self.calls += 1
            df = pd.DataFrame({"start": pd.to_datetime(["2026-11-10T12:00Z", "2026-11-19T23:00Z"], utc=True),
                               "end": pd.to_datetime([None, None], utc=True), "kind": ["deploy", "change"],
                               "source": ["amplify", "cloudtrail"], "severity": ["info", "info"],
                               "summary": ["job 1", "UpdateTable on Requests"]})
            df = df[(df["start"] >= window.start) & (df["start"] < window.end)].reset_index(drop=True)
            df.attrs["searched"] = ["Amplify jobs of app/main"]
            return df

    inner = Counting()
    c = CachedSource(inner, cache_dir=tmp_path, now=NOW, key="k")
    old = TimeWindow.parse("2026-11-09", "2026-11-12")
    first = c.events(old)
    again = CachedSource(inner, cache_dir=tmp_path, now=NOW, key="k").events(old)
    assert inner.calls == 1 and list(again["summary"]) == list(first["summary"]) == ["job 1"]
    assert again.attrs["searched"] == ["Amplify jobs of app/main"]
    recent = TimeWindow.parse("2026-11-19", "2026-11-20")  # younger than the settle horizon: asked again
    c.events(recent)
    c.events(recent)
    assert inner.calls == 3


def test_math_whose_inputs_cannot_be_fetched_is_listed_not_silently_empty(aws):
    src = CloudWatchSource("demo", context=aws)
    w = TimeWindow.parse("-20d", "-19d")
    m1 = MetricQuery(NS, "Requests", {"Series": "s0"}, "Sum", 60, id="m1", return_data=False)
    e1 = MetricQuery(expression="m1 * 2", period=60, id="e1", label="double")
    df = src.metrics([m1, e1], w)
    assert gmd(src) == 0 and df["double"].isna().all()
    assert {p["query"] for p in src.problems} >= {"double"} and "double" in df.attrs["incomplete"]


def test_recorded_datapoints_are_every_answer_once_its_last(tmp_path):
    """metrics_long (whole arrays) against the plain pandas way on calls that overlap, repeat a metric with
    other values, mix timestamp units and carry NaN: the same rows, dtypes and provenance hash."""
    from rtanalytics.frames import to_long

    class Canned:
        name = "canned"

        def __init__(self):
            self.frames = []

        def metrics(self, queries, window):
            return self.frames.pop(0)

    rng = np.random.default_rng(7)
    qs = [MetricQuery("NS", f"M{i}", {"D": str(i % 3)}, "Sum", 60, label=f"m{i}") for i in range(5)]
    inner, calls, ref = Canned(), [], []
    for k in range(6):
        start = pd.Timestamp("2026-11-01", tz="UTC") + pd.Timedelta(minutes=int(rng.integers(0, 30)))
        idx = pd.date_range(start, periods=40, freq="1min").as_unit(["ns", "us", "s"][k % 3])
        chosen = [qs[j] for j in sorted(rng.choice(5, size=int(rng.integers(1, 5)), replace=False))]
        vals = rng.normal(size=(40, len(chosen)))
        vals[rng.random(vals.shape) < 0.2] = np.nan
        df = pd.DataFrame(vals, index=idx, columns=[q.label for q in chosen])
        inner.frames.append(df)
        calls.append(chosen)
        long = to_long(df)
        long["identity"] = long["label"].map({q.label: q.identity() for q in chosen})
        ref.append(long[["identity", "timestamp", "value"]])
    rec = RecordingSource(inner)
    window = TimeWindow(pd.Timestamp("2026-11-01", tz="UTC"), pd.Timestamp("2026-11-02", tz="UTC"))
    for chosen in calls:
        rec.metrics(chosen, window)
    want = pd.concat(ref, ignore_index=True).drop_duplicates(["identity", "timestamp"], keep="last").sort_values(
        ["identity", "timestamp"], kind="stable").reset_index(drop=True)
    got = rec.metrics_long()
    assert got["identity"].duplicated().any() and len(got) < sum(len(r) for r in ref)  # repeats were there
    pd.testing.assert_frame_equal(got, want)
    import hashlib

    want_hash = hashlib.sha256(pd.util.hash_pandas_object(want, index=False).to_numpy().tobytes()).hexdigest()
    assert rec.data_hash() == want_hash  # hashed from a categorical: the same digest as from the strings
