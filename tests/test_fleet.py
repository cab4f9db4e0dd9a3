"""Fleets on Dask: a real scheduler and two workers on 127.0.0.1, a demo fleet and two fake AWS accounts on moto.

Every run lands, with the same figures as a local run; a worker killed mid-run leaves no partial folder and its
report is retried; the quota limiter never lets a second hold more requests than configured; outputs on S3
(moto) land with their summary last and the board is rebuilt from them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from .conftest import NOW, ROOT

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")


def _wait_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, moto_server):
    """``dask scheduler`` and two ``dask worker`` processes on loopback, with dummy AWS credentials (the workers'
    own chain), S3 pointed at the local moto server and a private metrics cache."""
    from distributed import Client

    from rtanalytics.localaws import free_port

    port = free_port()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-west-1", AWS_ENDPOINT_URL_S3=moto_server.url,
               RTANALYTICS_CACHE=str(tmp_path_factory.mktemp("cache")), PYTHONWARNINGS="ignore")
    dask = str(Path(sys.executable).parent / "dask")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait_port(port)
        address = f"tcp://127.0.0.1:{port}"
        for _ in range(2):
            procs.append(subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                           "--no-dashboard", "--memory-limit", "0"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture
def params_dir(tmp_path, monkeypatch):
    """A private copy of parameters/ (fleet.yaml rewritten by each test that needs to)."""
    from rtanalytics.catalog import _CACHE

    params = tmp_path / "parameters"
    shutil.copytree(ROOT / "parameters", params)
    monkeypatch.setenv("RTANALYTICS_PARAMETERS", str(params))
    _CACHE.clear()
    yield params
    _CACHE.clear()


def _no_partials(root: Path) -> list[str]:
    return [str(p) for p in Path(root).rglob("*") if p.name.endswith(".partial") or
            (p.parent.name == ".attempts" and p.suffix == ".json")]


# ------------------------------------------------------------------------------------------------ catalog
def _write_fleet(params: Path, data: dict) -> None:
    from rtanalytics.catalog import _CACHE

    (params / "fleet.yaml").write_text(yaml.safe_dump(data))
    _CACHE.clear()


@pytest.mark.parametrize("fleet, field, words", [
    ({"reports": ["kpis", "nosuch"], "generate": {"count": 2}}, "fleets.f.environments.svc-001.reports",
     "unknown report"),
    ({"reports": ["kpis"], "environments": {"demo": {"source": "demo"}}}, "fleets.f.environments.demo",
     "already used by environments.yaml"),
    ({"reports": ["kpis"], "environments": {"a": {"account": {"role_arn": "arn:aws:iam::12:role/x"}}}},
     "fleets.f.environments.a", "not an IAM role ARN"),
    ({"reports": ["kpis"], "environments": {"a": {"account": {"session_name": "x1"}}}},
     "fleets.f.environments.a", "give role_arn"),
    ({"reports": ["kpis"], "environments": {"a": {"account": {
        "role_arn": "arn:aws:iam::111111111111:role/r", "account_id": "222222222222"}}}},
     "fleets.f.environments.a", "is not the account of role_arn"),
    ({"reports": [], "generate": {"count": 2}}, "fleets.f.reports", "at least one report"),
    ({"reports": ["kpis"], "environments": {"a": {"aws_secret_access_key": "x"}}}, "fleets.f.environments.a",
     "credentials never go in parameters"),
])
def test_fleet_catalog_errors_name_the_field(params_dir, fleet, field, words):
    from rtanalytics.catalog import catalog
    from rtanalytics.errors import CatalogError

    _write_fleet(params_dir, {"fleets": {"f": fleet}})
    with pytest.raises(CatalogError) as e:
        _ = catalog().environments
    assert field in str(e.value) and words in str(e.value)
    # and the command line says so with exit 2, before anything runs
    out = subprocess.run([sys.executable, "-m", "rtanalytics.cli", "run", "kpis", "--fleet", "f"],
                         capture_output=True, text=True, env=dict(os.environ))
    assert out.returncode == 2 and field in out.stderr, out.stderr


def test_quota_values_must_be_positive(params_dir):
    from rtanalytics.catalog import catalog
    from rtanalytics.errors import CatalogError

    _write_fleet(params_dir, {"quotas": {"GetMetricData": 0}, "fleets": {}})
    with pytest.raises(CatalogError, match="positive transactions per second"):
        _ = catalog().environments


def test_demo_fleet_services_are_distinct_and_own_their_names():
    """Each simulated service has its own resource names, seed, traffic and incident schedule; the causes the
    scenario names are its own resources; the plain demo is unchanged."""
    from rtanalytics.sources.demo import DemoSource
    from rtanalytics.timewindow import TimeWindow

    w = TimeWindow(pd.Timestamp("2026-11-01", tz="UTC"), pd.Timestamp("2026-11-15", tz="UTC"))
    demo = DemoSource("demo", now=NOW)
    starts = {}
    for name in ("svc-001", "svc-002"):
        s = DemoSource(name, now=NOW)
        occ = {o.incident.id: o for o in s.occurrences(w)}
        assert occ["deploy-5xx"].incident.cause.dimensions == {"LoadBalancer": f"{name}-ALB"}
        assert occ["dynamodb-throttle"].incident.cause.dimensions["TableName"] == \
            f"Requests-{name.replace('-', '')}-NONE"
        starts[name] = occ["deploy-5xx"].start
        q = [m for m in s.list_metrics("AWS/ApplicationELB", "RequestCount")]
        assert [dict(m.dimensions)["LoadBalancer"] for m in q] == [f"{name}-ALB"]
    assert starts["svc-001"] != starts["svc-002"]
    d = {o.incident.id: o for o in demo.occurrences(w)}
    assert d["deploy-5xx"].incident.cause.dimensions == {"LoadBalancer": "RealTechee-ALB"}
    # own noise and traffic: the same minute differs between services
    from rtanalytics.queries import MetricQuery

    day = TimeWindow(pd.Timestamp("2026-11-18", tz="UTC"), pd.Timestamp("2026-11-19", tz="UTC"))
    a = DemoSource("svc-001", now=NOW).metrics([MetricQuery("AWS/ApplicationELB", "RequestCount", (
        ("LoadBalancer", "svc-001-ALB"),), stat="Sum", period=3600)], day).iloc[:, 0]
    b = DemoSource("svc-002", now=NOW).metrics([MetricQuery("AWS/ApplicationELB", "RequestCount", (
        ("LoadBalancer", "svc-002-ALB"),), stat="Sum", period=3600)], day).iloc[:, 0]
    assert a.notna().all() and b.notna().all() and not np.allclose(a.to_numpy(), b.to_numpy())


# --------------------------------------------------------------------------------------------- on Dask
def test_demo_fleet_on_a_dask_cluster_lands_every_run_with_local_figures(cluster, tmp_path):
    """The repository's 6-service demo fleet × kpis and health on a real scheduler with two workers: every run
    lands as its own immutable run, the board lists every environment, and the kpis figures equal a run of the
    same report made locally in this process."""
    from rtanalytics.reports.fleet import run_fleet
    from rtanalytics.reports.runner import run_report

    out = tmp_path / "out"
    res = run_fleet("demo-fleet", None, {"start": "-24h"}, out, now=NOW, scheduler=cluster, progress=False)
    assert len(res.runs) == 12 and res.workers == 2
    assert {r["status"] for r in res.runs} == {"ok"}, [r for r in res.runs if r["status"] != "ok"]
    workers = {r["worker"] for r in res.runs}
    assert len(workers) == 2  # both workers ran reports
    for r in res.runs:
        s = json.loads((out / r["path"] / "summary.json").read_text())
        assert s["params"]["environment"] == r["environment"] and s["fleet"] == "demo-fleet"
        assert (out / r["path"] / "report.html").stat().st_size > 10_000
    assert not _no_partials(out)
    board = json.loads((out / "fleets" / "demo-fleet" / "board.json").read_text())
    # all ok: the most figures in the red, then in amber, first
    keys = [(-x["bad"], -x["warn"], x["environment"]) for x in board["rows"]]
    assert keys == sorted(keys)
    for x in board["rows"]:  # the counts are the headline's own tones
        heads = [f for run in x["runs"].values() for f in run["headline"]]
        assert x["bad"] == sum(f.get("tone") == "bad" for f in heads)
        assert x["warn"] == sum(f.get("tone") == "warn" for f in heads)
    assert len(board["rows"]) == 6 and all(set(x["runs"]) == {"kpis", "health"} for x in board["rows"])
    page = (out / "fleets" / "demo-fleet" / "index.html").read_text()
    assert "svc-006/index.html" in page and "fleets/demo-fleet/index.html" in (out / "index.html").read_text()
    for env in ("svc-002", "svc-005"):
        mine = next(r for r in res.runs if r["environment"] == env and r["report"] == "kpis")
        fleet_figs = json.loads((out / mine["path"] / "summary.json").read_text())["figures"]
        local = run_report("kpis", {"environment": env, "start": "-24h"}, tmp_path / "local", now=NOW,
                           progress=False)
        assert local.status == "ok" and local.summary["figures"] == fleet_figs
    a, b = (json.loads((out / r["path"] / "summary.json").read_text())["figures"]["availability"]
            for r in res.runs if r["report"] == "kpis" and r["environment"] in ("svc-001", "svc-002"))
    assert a != b  # distinct services, not one simulation six times


@pytest.mark.parametrize("executor", ["dask", "processes"])
def test_a_worker_killed_mid_run_is_retried_and_leaves_nothing_half_written(tmp_path, params_dir, executor):
    """The first attempt of one run kills its worker process (as a lost machine) after its staging folder
    exists; the run is retried on a live worker, says so, and no partial folder or attempt marker remains."""
    from rtanalytics.reports.fleet import run_fleet

    _write_fleet(params_dir, {"fleets": {"mini": {"reports": ["kpis"], "defaults": {"source": "demo"},
                                                  "generate": {"count": 3, "prefix": "m"}}}})
    out = tmp_path / "out"
    res = run_fleet("mini", None, {"start": "-6h"}, out, now=NOW, workers=2, progress=False, executor=executor,
                    _fail={("m-002", "kpis"): 1.5})
    assert res.executor == executor
    assert {r["status"] for r in res.runs} == {"ok"}, res.runs
    (killed,) = [r for r in res.runs if r["environment"] == "m-002"]
    assert killed["attempt"] == 2 and "stopped before its run landed" in killed["retried"]
    if executor == "dask":  # a process pool that breaks retries every run it had in flight (once)
        assert [r["environment"] for r in res.retried] == ["m-002"]
    s = json.loads((out / killed["path"] / "summary.json").read_text())
    assert s["attempt"] == 2 and s["retried"] and s["status"] == "ok"
    runs = [p for p in (out / "fleets" / "mini" / "m-002" / "kpis").iterdir() if p.is_dir()]
    assert len(runs) == 1 and runs[0].name.endswith("-a2")
    assert not _no_partials(out)
    row = next(x for x in json.loads((out / "fleets" / "mini" / "board.json").read_text())["rows"]
               if x["environment"] == "m-002")
    assert row["runs"]["kpis"]["attempt"] == 2
    # every worker starts each run's kernel as papermill does
    kinds = {r["environment"]: json.loads((out / r["path"] / "summary.json").read_text())["kernel"]
             for r in res.runs}
    assert set(kinds.values()) == {"new"}, kinds


def test_quota_limiter_shared_by_two_workers_never_exceeds_the_tps(cluster):
    """Two workers call the same account × Region × API as fast as they can: together never more than the
    configured 6 per second in any one-second window (and without the limiter they would be far above)."""
    from distributed import Client

    from rtanalytics.quota import hammer, max_per_second

    with Client(cluster, timeout="30s") as c:
        ws = list(c.scheduler_info(n_workers=-1)["workers"])
        assert len(ws) == 2
        t0 = time.time()
        futs = [c.submit(hammer, 12, 6, cluster, "111111111111", workers=[w], pure=False) for w in ws]
        times = sorted(t for f in futs for t in f.result())
        took = time.time() - t0
        free = [c.submit(hammer, 12, 6, cluster, "111111111111", limited=False, workers=[w],
                         pure=False) for w in ws]
        unlimited = sorted(t for f in free for t in f.result())
    assert len(times) == 24
    assert max_per_second(times) <= 6
    assert times[-1] - times[0] >= 3.0 and took < 30  # 24 requests at 6/s need at least 3 s
    assert max_per_second(unlimited) == 24  # the measure itself would catch an excess


def test_quota_shape_is_conservative():
    from rtanalytics.quota import QuotaLimiter, max_per_second

    for tps, leases, hold in ((50, 50, 1.0), (2.5, 2, 1.0), (0.5, 1, 2.0)):
        assert QuotaLimiter.shape(tps) == (leases, pytest.approx(hold + 0.05))
    assert max_per_second([0.0, 0.5, 0.99, 1.0, 1.5]) == 3


# ---------------------------------------------------------------------------------------- two AWS accounts
ACCOUNTS = {"a-web": ("111111111111", "a-web-alb", 0.0), "a-api": ("111111111111", "a-api-alb", 0.02),
            "a-admin": ("111111111111", "a-admin-alb", 0.05), "b-web": ("222222222222", "b-web-alb", 0.10),
            "b-api": ("222222222222", "b-api-alb", 0.01), "b-jobs": ("222222222222", "b-jobs-alb", 0.30)}


def _seed_account(moto_url, account, alb, fail_share, now):
    import boto3

    from rtanalytics.catalog.models import Account
    from rtanalytics.sources.aws import assumed_session

    s = assumed_session(boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                      region_name="us-west-1"),
                        Account(role_arn=f"arn:aws:iam::{account}:role/rt-read", external_id="rt-tests"),
                        "us-west-1", moto_url)
    cw = s.client("cloudwatch", endpoint_url=moto_url)
    items = []
    for i in range(1, 181):  # three hours of per-minute ALB counts
        t = (now - pd.Timedelta(minutes=i)).to_pydatetime()
        req = 100.0
        for metric, v in (("RequestCount", req), ("HTTPCode_Target_5XX_Count", req * fail_share),
                          ("HTTPCode_Target_2XX_Count", req * (1 - fail_share))):
            if v:
                items.append({"MetricName": metric, "Dimensions": [{"Name": "LoadBalancer", "Value": alb}],
                              "Timestamp": t, "Value": v, "Unit": "Count"})
    for j in range(0, len(items), 1000):
        cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=items[j:j + 1000])


def test_fleet_across_two_accounts_through_assume_role_on_moto(cluster, moto_server, params_dir, tmp_path,
                                                               monkeypatch):
    """Six environments in two fake accounts, each reached by AssumeRole (moto's STS) from the workers' own
    credentials: each run reads its own account's data (availability as seeded), equals a local run, and
    neither account ever sees more than its GetMetricData quota per second."""
    from rtanalytics.reports.fleet import run_fleet
    from rtanalytics.quota import max_per_second
    from rtanalytics.reports.runner import run_report

    moto_server.reset()
    now = pd.Timestamp.now(tz="UTC").floor("min")
    members = {}
    for name, (acct, alb, share) in ACCOUNTS.items():
        _seed_account(moto_server.url, acct, alb, share, now)
        members[name] = {"account": {"role_arn": f"arn:aws:iam::{acct}:role/rt-read", "external_id": "rt-tests",
                                     "session_name": "rtanalytics-tests"},
                         "resources": {"alb": alb, "tables": [], "lambda_functions": [], "log_group": f"/x/{name}"}}
    _write_fleet(params_dir, {"quotas": {"GetMetricData": 2},
                              "fleets": {"teams": {"reports": ["kpis"], "environments": members, "defaults": {
                                  "source": "cloudwatch", "region": "us-west-1", "scenario": None,
                                  "endpoint_url": moto_server.url}}}})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("RTANALYTICS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    res = run_fleet("teams", None, {"start": "-2h", "kpis": ["availability", "error_rate"], "period": "5m"},
                    out, now=now, scheduler=cluster, progress=False)
    assert len(res.runs) == 6, res.runs
    summaries = {r["environment"]: json.loads((out / r["path"] / "summary.json").read_text()) for r in res.runs}
    for name, (acct, alb, share) in ACCOUNTS.items():
        s = summaries[name]
        assert s["status"] in ("ok", "partial"), s.get("error")
        assert s["figures"]["availability"] == pytest.approx(100 * (1 - share), abs=1e-6), (name, s["figures"])
        assert any(r["api"] == "get_metric_data" for r in s["provenance"]["requests"])
    # the three environments of each account share its one GetMetricData quota of 2 per second
    for acct in ("111111111111", "222222222222"):
        times = [r["t"] for n, (a, _, _) in ACCOUNTS.items() if a == acct
                 for r in summaries[n]["provenance"]["requests"] if r["api"] == "get_metric_data"]
        assert len(times) >= 6 and max_per_second(times) <= 2, (acct, sorted(times))
    # identical figures to a local run of the same environment (no cluster, no limiter)
    local = run_report("kpis", {"environment": "b-web", "start": "-2h", "kpis": ["availability", "error_rate"],
                                "period": "5m"}, tmp_path / "local", now=now, progress=False)
    assert local.summary["figures"] == summaries["b-web"]["figures"]


def test_monitoring_account_names_the_source_account_in_requests(moto_server):
    """Through a cross-account observability monitoring account, GetMetricData's queries carry AccountId and
    ListMetrics asks for the linked account (as the API reference defines them); botocore validates both."""
    import boto3

    from rtanalytics.catalog.models import Account, Environment
    from rtanalytics.queries import MetricQuery
    from rtanalytics.sources.aws import AwsContext
    from rtanalytics.sources.cloudwatch import CloudWatchSource
    from rtanalytics.timewindow import TimeWindow

    env = Environment(name="linked", source="cloudwatch", endpoint_url=moto_server.url,
                      account=Account(account_id="444455556666"))
    ctx = AwsContext.for_environment(env, session=boto3.Session(aws_access_key_id="testing",
                                                                aws_secret_access_key="testing",
                                                                region_name="us-west-1"))
    sent = []
    src = CloudWatchSource(env, context=ctx)
    cw = ctx.client("cloudwatch")
    cw.meta.events.register("provide-client-params.monitoring.*", lambda params, **kw: sent.append(params))
    now = pd.Timestamp.now(tz="UTC").floor("min")
    src.metrics([MetricQuery("AWS/ApplicationELB", "RequestCount", (("LoadBalancer", "x"),), stat="Sum",
                             period=60)], TimeWindow(now - pd.Timedelta("1h"), now))
    src.list_metrics("AWS/ApplicationELB")
    gmd = next(p for p in sent if "MetricDataQueries" in p)
    assert all(q["AccountId"] == "444455556666" for q in gmd["MetricDataQueries"])
    lm = next(p for p in sent if "OwningAccount" in p)
    assert lm["IncludeLinkedAccounts"] is True and lm["OwningAccount"] == "444455556666"
    assert src._log_group_arg("/aws/x") == {
        "logGroupIdentifier": "arn:aws:logs:us-west-1:444455556666:log-group:/aws/x"}


# ----------------------------------------------------------------------------------------------- S3 outputs
def test_fleet_outputs_on_s3_land_with_the_summary_last(moto_server, params_dir, tmp_path, monkeypatch):
    """Outputs under s3://bucket/prefix (moto's S3): every run's files land, the shared assets once, the board
    is rebuilt from what landed, and nothing is left in the workers' private folders."""
    import boto3

    from rtanalytics.reports.fleet import S3Store, board_rows, run_fleet

    moto_server.reset()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.url)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="rt-fleet", CreateBucketConfiguration={"LocationConstraint": "us-west-1"})
    _write_fleet(params_dir, {"fleets": {"mini": {"reports": ["kpis"], "defaults": {"source": "demo"},
                                                  "generate": {"count": 2, "prefix": "s"}}}})
    res = run_fleet("mini", None, {"start": "-6h"}, "s3://rt-fleet/reports", now=NOW, workers=2, progress=False)
    assert {r["status"] for r in res.runs} == {"ok"} and res.board == \
        "s3://rt-fleet/reports/fleets/mini/index.html"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="rt-fleet", Prefix="reports/")["Contents"]]
    for r in res.runs:
        for f in ("summary.json", "report.html", "report.ipynb", "params.json"):
            assert f"reports/{r['path']}/{f}" in keys
    assert sum(k.startswith("reports/_assets/plotly-") for k in keys) == 1
    assert not any(".partial" in k or "/.attempts/" in k for k in keys)
    html = s3.get_object(Bucket="rt-fleet", Key=f"reports/{res.runs[0]['path']}/report.html")["Body"].read()
    asset = next(k for k in keys if k.startswith("reports/_assets/plotly-")).split("/")[-1]
    assert f"../../../../../_assets/{asset}".encode() in html  # resolves within the bucket's layout
    rows = board_rows(S3Store("s3://rt-fleet/reports"), "mini")
    assert sorted(x["environment"] for x in rows) == ["s-001", "s-002"]
    board = json.loads(s3.get_object(Bucket="rt-fleet", Key="reports/fleets/mini/board.json")["Body"].read())
    assert len(board["rows"]) == 2 and all(x["status"] == "ok" for x in board["rows"])
    assert not list((tmp_path / "tmp").glob("rtfleet-*"))  # workers' private folders removed


def test_board_orders_failing_first_and_escapes(tmp_path):
    """The fleet board sorts failed, then incomplete, then the most red figures; every value is escaped."""
    from rtanalytics.reports.fleet import LocalStore, board_rows, render_board

    root = tmp_path / "o"

    def land(env, report, status, tone=None, rid="20261120T000000Z-aaaaaa-a1", error=None):
        d = root / "fleets" / "f" / env / report / rid
        d.mkdir(parents=True)
        (d / "summary.json").write_text(json.dumps({
            "report": report, "run_id": rid, "status": status, "error": error, "finished": NOW,
            "headline": [{"key": "x", "label": "budget <left>", "text": "-3 %", "tone": tone}] if tone else []}))

    land("e-ok", "slo", "ok", "good")
    land("e-red", "slo", "ok", "bad")
    land("e-part", "slo", "partial")
    land("e-fail", "slo", "failed", error="<script>alert(1)</script>")
    land("e-fail", "slo", "ok", rid="20261119T000000Z-bbbbbb-a1")  # older: the latest run decides
    rows = board_rows(LocalStore(root), "f")
    assert [r["environment"] for r in rows] == ["e-fail", "e-part", "e-red", "e-ok"]
    page = render_board("f", rows)
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "budget &lt;left&gt;" in page


def test_fleet_schedule_entry_runs_every_member(tmp_path, params_dir):
    """A schedule entry with `fleet:` runs the report for each member that lists it, as one cycle."""
    from rtanalytics.reports.schedule import Entry, run_entry

    _write_fleet(params_dir, {"fleets": {"mini": {"reports": ["kpis"], "defaults": {"source": "demo"},
                                                  "generate": {"count": 2, "prefix": "q"}}}})
    e = Entry(name="kpis-fleet", report="kpis", fleet="mini", cron="0 6 * * *", params={"start": "-6h"}, keep=1)
    rec = run_entry(e, pd.Timestamp(NOW), tmp_path / "out")
    assert rec["status"] == "ok" and rec["runs"] == 2 and rec["counts"] == {"ok": 2}
    assert (tmp_path / "out" / "fleets" / "mini" / "board.json").exists()
    with pytest.raises(ValueError, match="unknown fleet"):
        Entry(name="x", report="kpis", fleet="nosuch", cron="0 6 * * *")


class _Recorder:
    def __init__(self):
        self.calls = []

    def acquire(self, service, api, ctx=None, **_):
        self.calls.append((service, api))
        return 0.0


def test_every_http_attempt_takes_a_quota_slot_even_retries_and_direct_client_calls(moto_server):
    """The limiter sits in botocore's before-send hook: a call through AwsContext.call, a client used directly
    (the health probes) and each retry of a throttled request each take a slot, as AWS counts them."""
    import boto3

    from rtanalytics.sources.aws import AwsContext

    from .aws_helpers import FaultProxy

    rec = _Recorder()
    proxy = FaultProxy(moto_server.port, lambda n, body, headers: "throttle" if n == 0 else None)
    try:
        ctx = AwsContext(region="us-west-1", endpoint_url=proxy.url, limiter=rec, max_attempts=3,
                         session=boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                               region_name="us-west-1"))
        ctx.call("logs", "describe_log_groups")  # throttled once, then answered: two attempts
        with pytest.raises(Exception):
            ctx.client("dynamodb").describe_table(TableName="nosuch")
    finally:
        proxy.stop()
    assert rec.calls[:2] == [("logs", "DescribeLogGroups")] * 2
    assert ("dynamodb", "DescribeTable") in rec.calls
    assert ctx.attempts["logs:DescribeLogGroups"] == 2 and ctx.attempts["dynamodb:DescribeTable"] >= 1
    entry = ctx.requests[0]
    assert entry["retries"] == 1 and abs(entry["t"] - time.time()) < 60


@pytest.mark.skipif(not shutil.which("chromium") and not os.environ.get("CI"), reason="chromium not installed")
@pytest.mark.parametrize("width", [1400, 390])
def test_the_fleet_board_reads_cleanly_in_a_browser(tmp_path, width):
    """The board in headless Chromium: no page overflow outside its scrolling table, no raw values, a title
    naming the fleet and its counts."""
    from tools.screenshot import probe

    from rtanalytics.reports.fleet import LocalStore, board_rows, render_board

    from .test_all_reports import _visible_faults

    root = tmp_path / "o"
    for i, (status, tone) in enumerate([("ok", "good"), ("failed", None), ("partial", "warn"), ("ok", "bad")]):
        for report in ("kpis", "health", "slo"):
            d = root / "fleets" / "f" / f"service-with-a-long-name-{i}" / report / "20261120T000000Z-aaaaaa-a1"
            d.mkdir(parents=True)
            (d / "summary.json").write_text(json.dumps({
                "report": report, "run_id": d.name, "status": status, "finished": NOW, "attempt": 1 + (i == 3),
                "error": "KernelDied: the kernel died unexpectedly while running cell 4" if status == "failed"
                else None,
                "headline": [{"key": "b", "label": "error budget left", "text": "12.5 %", "tone": tone}]}))
    page = tmp_path / "board.html"
    page.write_text(render_board("f", board_rows(LocalStore(root), "f")))
    r = probe(page, width)
    assert r["scrollWidth"] <= r["innerWidth"] and not r["overflowing"], r["overflowing"]
    assert not _visible_faults(r["text"])
    assert "fleet f" in r["title"] and "1 failed" in r["title"]


def test_in_a_fleet_contexts_take_the_cluster_limiter_and_adaptive_retries(monkeypatch):
    """A report kernel of a fleet finds the limiter through the environment the task set, and backs it up with
    botocore's adaptive retry mode; outside a fleet neither (and nothing of Dask is imported for it)."""
    from rtanalytics import quota
    from rtanalytics.catalog.models import Environment
    from rtanalytics.sources.aws import AwsContext

    env = Environment(name="x", source="cloudwatch")
    plain = AwsContext.for_environment(env)  # one process: a local limiter at the documented quotas
    from rtanalytics.quota import LocalLimiter

    assert isinstance(plain.limiter, LocalLimiter) and plain.retry_mode == "standard"
    assert plain.limiter.quotas["GetMetricData"] == 50
    local = AwsContext.for_environment(env.model_copy(update={"endpoint_url": "http://127.0.0.1:5000"}))
    assert local.limiter is None  # an emulator on loopback has no account quota
    monkeypatch.setenv("RTANALYTICS_DASK_SCHEDULER", "tcp://127.0.0.1:1")
    monkeypatch.setenv("RTANALYTICS_QUOTAS", json.dumps({"GetMetricData": 7}))
    monkeypatch.setattr(quota, "_PROCESS", {})
    ctx = AwsContext.for_environment(env)
    assert ctx.retry_mode == "adaptive" and ctx.limiter.quotas == {"GetMetricData": 7.0}
    monkeypatch.setenv("RTANALYTICS_QUOTAS", "{not json")
    from rtanalytics.errors import ParameterError

    with pytest.raises(ParameterError, match="RTANALYTICS_QUOTAS"):
        quota.process_limiter()


def test_a_task_carries_names_never_credentials(monkeypatch, tmp_path):
    """What is shipped to a worker (the pickled task) holds no credential, whatever this process has: workers
    use their own credential chain."""
    import cloudpickle

    from rtanalytics.reports.fleet import plan

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY123456")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t/EXAMPLE+value")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-EXAMPLE")
    tasks, _ = plan("demo-fleet", ["kpis"], {"start": "-6h"}, tmp_path, now=NOW)
    assert len(tasks) == 6
    blob = cloudpickle.dumps(tasks)
    for secret in (b"AKIAEXAMPLEKEY123456", b"s3cr3t/EXAMPLE+value", b"session-token-EXAMPLE"):
        assert secret not in blob


def test_a_member_whose_run_never_landed_is_not_ranked_below_healthy_ones(tmp_path, params_dir):
    """Missing is not fine: a catalog member with no landed run ranks with the incomplete ones, above ok."""
    from rtanalytics.reports.fleet import LocalStore, board_rows

    _write_fleet(params_dir, {"fleets": {"f": {"reports": ["kpis"], "environments": {
        "e-ok": {"source": "demo"}, "e-none": {"source": "demo"}}}}})
    d = tmp_path / "o" / "fleets" / "f" / "e-ok" / "kpis" / "20261120T000000Z-aaaaaa-a1"
    d.mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps({"report": "kpis", "run_id": d.name, "status": "ok",
                                                "finished": NOW, "headline": []}))
    rows = board_rows(LocalStore(tmp_path / "o"), "f")
    assert [(r["environment"], r["status"]) for r in rows] == [("e-none", "no runs"), ("e-ok", "ok")]
