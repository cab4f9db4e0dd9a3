"""Health probes against real local endpoints: a healthy stack, a closed port, a slow endpoint, a malformed
GraphQL answer, missing resources; the seed's JSON shape, the history store under concurrent writers, the
retention audit and the CLI's exit status."""

import json
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from rtanalytics import health as H
from rtanalytics.catalog import catalog
from rtanalytics.localaws import DemoApp, demo_stack, free_port
from rtanalytics.sources.demo import DemoSource

from .conftest import NOW, ROOT


@pytest.fixture(scope="module")
def stack():
    env = catalog().environment("demo")
    with demo_stack(env) as (e, aws):
        yield e, aws


def test_healthy_stack_in_the_seed_shape(stack):
    e, aws = stack
    rep = H.run_checks(e, aws, DemoSource(now=NOW), now=pd.Timestamp("2026-11-19T12:00Z"))
    assert set(rep) >= {"healthCheckId", "timestamp", "environment", "checks", "overallStatus"}
    assert list(rep["checks"]) == H.CHECKS
    assert rep["overallStatus"] == "healthy", rep
    assert rep["healthCheckId"] == "HC-20261119120000"
    assert rep["checks"]["application"]["httpCode"] == 200 and rep["checks"]["graphqlApi"]["response"] == "valid"


def test_failures_give_the_right_status_and_cause_never_a_hang(stack):
    e, aws = stack
    s = H.HealthSettings(timeout_s=1.0, slow_ms=500)
    closed = f"http://127.0.0.1:{free_port()}/"
    assert H.probe_application(closed, s) == {"status": "unhealthy", "error": "connection refused"}
    slow = DemoApp("slow", delay_s=3.0)
    bad = DemoApp("bad-graphql")
    broken = DemoApp("error500")
    try:
        t0 = time.perf_counter()
        r = H.probe_application(slow.url, s)
        assert r == {"status": "unhealthy", "error": "timed out"} and time.perf_counter() - t0 < 2.5
        g = H.probe_graphql(bad.url + "graphql", s)
        assert g["status"] == "unhealthy" and "Not Authorized" in g["error"]
        assert H.probe_application(broken.url, s)["httpCode"] == 500
    finally:
        slow.stop(), bad.stop(), broken.stop()
    assert H.probe_lambdas(aws, ["notification-processor", "nope"])["status"] == "degraded"
    assert H.probe_database(aws, ["Missing-Table"])["status"] == "unhealthy"
    assert H.probe_storage(aws, "no-such-bucket")["status"] == "unhealthy"
    # the whole check run has a deadline even when a probe hangs
    e2 = e.model_copy(update={"resources": e.resources.model_copy(update={"app_url": DemoApp("slow", 10).url})})
    t0 = time.perf_counter()
    rep = H.run_checks(e2, aws, DemoSource(now=NOW), settings=s, now=pd.Timestamp(NOW))
    assert time.perf_counter() - t0 < 5 and rep["checks"]["application"]["status"] == "unhealthy"
    assert rep["overallStatus"] == "unhealthy"


def test_performance_degraded_during_an_incident(demo):
    s = H.load_settings()
    # the deploy-5xx incident raises latency, but not past 3 s: healthy; 24 h of no data: unknown
    assert H.probe_performance(demo, "RealTechee-ALB", s, pd.Timestamp("2026-11-11T18:20Z"))["status"] == "healthy"
    assert H.probe_performance(demo, "no-such-alb", s, pd.Timestamp(NOW))["status"] == "unknown"


def test_history_survives_concurrent_writers(tmp_path):
    path = tmp_path / "h.sqlite"

    def writer(i):
        for j in range(20):
            H.append_history(path, {"healthCheckId": f"HC-{i}-{j}", "timestamp": f"2026-11-20T00:{j:02d}:00+00:00",
                                    "environment": "demo", "overallStatus": "healthy",
                                    "checks": {c: {"status": "healthy"} for c in H.CHECKS}})

    ts = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert len(H.read_history(path)) == 4 * 20 * 7


def test_history_stats_and_demo_history(demo):
    from rtanalytics.timewindow import TimeWindow

    hist = H.demo_history(demo, TimeWindow.parse("2026-11-11T12:00Z", "2026-11-12T00:00Z"))
    st = H.history_stats(hist).set_index("check")
    app = st.loc["application"]
    assert app["availability_pct"] < 100 and 15 <= app["longest_outage_min"] <= 30  # the deploy regression
    assert st.loc["authentication", "availability_pct"] == 100


def test_retention_audit(stack):
    e, aws = stack
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=e.resources.log_group)["logGroups"]
    a = H.retention_audit(groups, e.resources.log_group, H.load_settings().log_retention).set_index("group")
    base = e.resources.log_group
    assert a.loc[base + "/errors", "finding"] == "ok"
    assert a.loc[base + "/access", "finding"].startswith("never expires")
    assert a.loc[base + "/audit", "finding"].startswith("too short")
    assert a.loc[base + "/business", "finding"].startswith("missing")


def test_cli_health_exit_status_and_history(tmp_path):
    r = subprocess.run([sys.executable, "-m", "rtanalytics.cli", "health", "--history", str(tmp_path / "h.sqlite")],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    rep = json.loads(r.stdout)
    assert r.returncode == H.EXIT[rep["overallStatus"]]
    assert len(H.read_history(tmp_path / "h.sqlite")) == 7


def test_exit_codes_follow_the_seed():
    rep = {"overallStatus": "degraded", "checks": {c: {"status": "healthy"} for c in H.CHECKS}}
    rep["checks"]["performance"] = {"status": "degraded"}
    assert H.exit_code(rep) == 0 and H.exit_code(rep, "detailed") == 3  # slow is not a failure for cron
    rep["checks"]["lambdaFunctions"] = {"status": "degraded"}
    assert H.exit_code(rep) == 1  # a missing function is (the seed sets HEALTH_STATUS=1)
    unknown = {"overallStatus": "unknown", "checks": {"database": {"status": "unknown"}}}
    assert H.exit_code(unknown) == 5


def test_alert_subscriptions_audit_on_the_demo_stack_and_pending_ones():
    from botocore.stub import Stubber

    from rtanalytics.backtest import load_routing
    from rtanalytics.sources.aws import AwsContext

    from .aws_helpers import session

    ctx = AwsContext(session=session())
    sns = ctx.client("sns")
    arn = "arn:aws:sns:us-west-1:123456789012:RealTechee-Production-Alerts"
    with Stubber(sns) as st:
        st.add_response("list_topics", {"Topics": [{"TopicArn": arn}]})
        st.add_response("list_subscriptions_by_topic", {"Subscriptions": [
            {"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "info@realtechee.com",
             "TopicArn": arn, "Owner": "123456789012"},
            {"SubscriptionArn": arn + ":1", "Protocol": "email", "Endpoint": "ops-team@realtechee.com",
             "TopicArn": arn, "Owner": "123456789012"}]})
        out = H.sns_audit(ctx, load_routing())
    prod = out[out["topic"] == "RealTechee-Production-Alerts"]
    assert (prod["state"] == "pending confirmation").sum() == 1 and "receives nothing" in " ".join(prod["finding"])
    assert "i***@realtechee.com" in set(prod["endpoint"]) and "info@realtechee.com" not in set(out["endpoint"])
    assert (out[out["topic"] == "RealTechee-Critical-Alerts"]["state"] == "missing").all()  # no such topic


def test_weekly_health_report_and_the_winston_group_are_in_the_catalog():
    import yaml

    from rtanalytics.catalog import catalog

    entries = yaml.safe_load((catalog().root / "schedule.yaml").read_text())["entries"]
    weekly = [e for e in entries if e.get("report") == "health" and e["cron"] == "0 6 * * 1"]
    assert weekly and weekly[0]["params"]["start"] == "-7d"
    audit = H.retention_audit([{"logGroupName": "/aws/amplify/RealTechee-Gen2"}], "/aws/amplify/RealTechee-Gen2",
                              H.load_settings().log_retention)
    assert audit.iloc[0]["group"] == "/aws/amplify/RealTechee-Gen2" and "never expires" in audit.iloc[0]["finding"]


def test_health_on_an_export_never_shows_the_demo_probes_as_its_checks(tmp_path):
    """A files source cannot be probed: no live checks (not the demo stack's), partial, said why."""
    from rtanalytics.reports import health

    health.run(now=NOW, history_path=tmp_path / "a.sqlite", evidence_dir=str(tmp_path / "ev"))
    b = health.run(source="files", files_path=str(tmp_path / "ev"), now=NOW, history_path=tmp_path / "b.sqlite")
    assert b.current["checks"] == {} and b.status == "partial"
    assert any("live health checks were not run" in g for g in b.gaps())
    assert not (tmp_path / "b.sqlite").exists() or H.read_history(tmp_path / "b.sqlite").empty


def test_daily_ops_and_the_alarms_replay_agree_on_what_is_in_alarm():
    """Issue #38 item 6: daily-ops said "Active alarms: none" while the alarms report's replay had an alarm in
    ALARM for 14,795 minutes — the one went into ALARM before the fortnight daily-ops looked at. One figure, one
    answer: the alarms in ALARM at the end of the day."""
    from rtanalytics.alarms import ALARM
    from rtanalytics.reports import alarms, health

    from .conftest import NOW

    end = pd.Timestamp(NOW).floor("D")
    ops = health.daily(end=end.isoformat(), now=NOW, probe=False)
    rep = alarms.run(start=(end - pd.Timedelta(days=14)).isoformat(), end=end.isoformat(), now=NOW)
    replayed = {name for name, ev in rep.evaluations.items() if len(ev.codes) and ev.codes[-1] == ALARM}
    assert set(ops.active_alarms["alarm"]) == replayed
