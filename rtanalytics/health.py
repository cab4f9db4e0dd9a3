"""The seed's seven health checks as concurrent probes with timeouts, the health JSON, a history store, and
the log-retention audit.

Statuses: ``healthy``; ``degraded`` (working, but slow or partly failing — e.g. some Lambda functions missing,
responses slower than ``slow_ms``, response time over the performance threshold); ``unhealthy`` (not working:
wrong HTTP status, invalid GraphQL answer, resource not found, connection refused, timed out); ``unknown`` (no data
to judge, e.g. no recent performance datapoint). Overall: the worst of the checks (``unknown`` counts as healthy,
as the seed's script does). Exit status for cron: see :func:`exit_code` (the seed's by default).

Every probe has a deadline (``timeout_s``): HTTP and AWS calls carry it as their own timeout, and the probe runner
abandons a probe that still has not answered, so a check never hangs.
"""

from __future__ import annotations

import json
import re as _re
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Callable

import pandas as pd
from pydantic import BaseModel, ConfigDict

from .catalog import catalog, read_yaml
from .catalog.loader import validate
from .localaws import demo_stack
from .queries import MetricQuery
from .settings import default_outputs
from .sources.aws import AUTH_CODES, AwsContext
from .sources.base import get_source
from .sources.evidence import unwrap
from .store import connect, read
from .timewindow import TimeWindow, parse_duration, utcnow

EXIT = {"healthy": 0, "degraded": 3, "unhealthy": 1, "unknown": 5}  # by overall status (--exit-codes detailed)


def exit_code(report: dict, codes: str = "seed") -> int:
    """The process exit status for a health report.

    ``seed`` (the default, as the seed's script exits): 1 when any probe failed — an unhealthy check, or a
    degraded database or Lambda check (a table or a function unavailable) — and 0 otherwise, a slow
    application or a degraded *performance* check included; 5 when nothing failed but some check could not
    look (not configured, no credentials). ``detailed``: 0 healthy, 3 degraded, 1 unhealthy, 5 unknown."""
    if codes == "detailed":
        return EXIT.get(report["overallStatus"], 1)
    checks = report.get("checks", {})
    failed = any(v.get("status") == "unhealthy" or (k in ("database", "lambdaFunctions")
                                                    and v.get("status") == "degraded") for k, v in checks.items())
    if failed:
        return 1
    return 5 if report.get("overallStatus") == "unknown" else 0
ORDER = {"healthy": 0, "unknown": 0, "degraded": 1, "unhealthy": 2}
CHECKS = ["application", "graphqlApi", "database", "authentication", "storage", "lambdaFunctions", "performance"]


class PerformanceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lookback: str = "15m"
    degraded_above_s: float = 3.0
    unhealthy_above_s: float = 5.0


class HealthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout_s: float = 5.0
    slow_ms: float = 2000
    graphql_query: str = "{ listContacts(limit: 1) { items { id } } }"
    performance: PerformanceSettings = PerformanceSettings()
    log_retention: dict[str, int] = {}


def load_settings(path=None) -> HealthSettings:
    path = path or catalog().root / "health.yaml"
    return validate(HealthSettings, read_yaml(path), path)


def _http(url: str, timeout: float, data: bytes | None = None) -> tuple[int, bytes, float]:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read(1_000_000)
            return r.status, body, time.perf_counter() - t0
    except urllib.error.HTTPError as e:
        return e.code, e.read(10_000), time.perf_counter() - t0


def _cause(e: Exception) -> str:
    """The error class and a short reason — never the full AWS error text (which can hold role ARNs and account
    ids): stored in the health history and shown in reports."""
    if isinstance(e, (socket.timeout, TimeoutError)) or "timed out" in str(e):
        return "timed out"
    if isinstance(e, urllib.error.URLError) and isinstance(e.reason, ConnectionRefusedError):
        return "connection refused"
    return f"{type(e).__name__}: {_short(str(e))}"


def _short(text: str, limit: int = 80) -> str:
    text = _re.sub(r"arn:aws[\w-]*:\S*", "[arn]", text.splitlines()[0] if text else "")
    text = _re.sub(r"(?<!\d)\d{12}(?!\d)", "[account]", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def probe_application(url: str, s: HealthSettings) -> dict:
    try:
        code, _, secs = _http(url, s.timeout_s)
    except Exception as e:  # noqa: BLE001 - every failure is a status with its cause
        return {"status": "unhealthy", "error": _cause(e)}
    if code != 200:
        return {"status": "unhealthy", "httpCode": code, "responseTime": round(secs, 3),
                "error": "Invalid HTTP response"}
    status = "degraded" if secs * 1000 > s.slow_ms else "healthy"
    return {"status": status, "httpCode": code, "responseTime": round(secs, 3)}


def probe_graphql(url: str, s: HealthSettings) -> dict:
    try:
        code, body, secs = _http(url, s.timeout_s, json.dumps({"query": s.graphql_query}).encode())
    except Exception as e:  # noqa: BLE001
        return {"status": "unhealthy", "error": _cause(e)}
    try:
        doc = json.loads(body)
    except ValueError:
        return {"status": "unhealthy", "httpCode": code, "error": "Invalid GraphQL response (not JSON)"}
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        errs = doc.get("errors") if isinstance(doc, dict) else None
        msg = errs[0].get("message") if isinstance(errs, list) and errs and isinstance(errs[0], dict) else None
        return {"status": "unhealthy", "httpCode": code,
                "error": "Invalid GraphQL response" + (f": {msg}" if msg else " (no data)")}
    return {"status": "degraded" if secs * 1000 > s.slow_ms else "healthy", "response": "valid",
            "responseTime": round(secs, 3)}


def _aws_err(e: Exception) -> str:
    """The AWS error code and a short reason (see :func:`_cause`)."""
    code = getattr(e, "response", {}).get("Error", {}).get("Code") if hasattr(e, "response") else None
    msg = getattr(e, "response", {}).get("Error", {}).get("Message", "") if hasattr(e, "response") else ""
    return f"{code}: {_short(msg)}" if code else _cause(e)


def not_configured(e: Exception) -> str | None:
    """Why a probe could not look at all (no credentials, expired or denied), or ``None`` for a real failure.
    A check that cannot look is *unknown*, never *unhealthy*: nobody is paged for a missing profile."""
    code = getattr(e, "response", {}).get("Error", {}).get("Code") if hasattr(e, "response") else None
    name = type(e).__name__
    if name in AUTH_CODES or (code and code in AUTH_CODES):
        return (f"not configured: {code or name} — give this environment AWS credentials through the standard "
                "chain (AWS_PROFILE, ~/.aws, a role) with the read-only policy of docs/iam-policy.json")
    return None


def _unknown_if_unconfigured(errors: dict) -> dict | None:
    whys = [not_configured(e) for e in errors.values()]
    if errors and all(whys):
        return {"status": "unknown", "error": whys[0]}
    return None


def probe_database(aws, tables: list[str]) -> dict:
    bad, errs = {}, {}
    for t in tables:
        try:
            st = aws.client("dynamodb").describe_table(TableName=t)["Table"]["TableStatus"]
            if st != "ACTIVE":
                bad[t] = st
        except Exception as e:  # noqa: BLE001
            bad[t] = _aws_err(e)
            errs[t] = e
    if errs and len(errs) == len(tables) and (u := _unknown_if_unconfigured(errs)):
        return u
    if not bad:
        return {"status": "healthy", "details": "All tables accessible", "tables": len(tables)}
    return {"status": "unhealthy" if len(bad) == len(tables) else "degraded", "error": bad}


def probe_authentication(aws, pool_id: str | None) -> dict:
    if not pool_id:
        return {"status": "unknown", "error": "no user_pool_id for this environment (amplify_outputs.json)"}
    try:
        aws.client("cognito-idp").describe_user_pool(UserPoolId=pool_id)
        return {"status": "healthy", "userPoolId": pool_id}
    except Exception as e:  # noqa: BLE001
        if why := not_configured(e):
            return {"status": "unknown", "userPoolId": pool_id, "error": why}
        return {"status": "unhealthy", "userPoolId": pool_id, "error": "User pool access failed: " + _aws_err(e)}


def probe_storage(aws, bucket: str | None) -> dict:
    if not bucket:
        return {"status": "unknown", "error": "no s3_bucket for this environment (amplify_outputs.json)"}
    try:
        aws.client("s3").list_objects_v2(Bucket=bucket, MaxKeys=1)
        return {"status": "healthy", "bucketName": bucket}
    except Exception as e:  # noqa: BLE001
        if why := not_configured(e):
            return {"status": "unknown", "bucketName": bucket, "error": why}
        return {"status": "unhealthy", "bucketName": bucket, "error": "S3 bucket access failed: " + _aws_err(e)}


def probe_lambdas(aws, functions: list[str]) -> dict:
    missing, errs = {}, {}
    for f in functions:
        try:
            aws.client("lambda").get_function_configuration(FunctionName=f)
        except Exception as e:  # noqa: BLE001
            missing[f] = _aws_err(e)
            errs[f] = e
    if errs and len(errs) == len(functions) and (u := _unknown_if_unconfigured(errs)):
        return u
    if not missing:
        return {"status": "healthy", "functions": list(functions)}
    return {"status": "unhealthy" if len(missing) == len(functions) else "degraded",
            "error": "Some functions unavailable", "unavailable": missing}


def probe_performance(source, alb: str, s: HealthSettings, now) -> dict:
    w = TimeWindow(now - parse_duration(s.performance.lookback), now)
    q = MetricQuery("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": alb}, "Average", 300, label="rt")
    try:
        v = source.metrics([q], w)["rt"].dropna()
    except Exception as e:  # noqa: BLE001
        cause = e.__cause__ if e.__cause__ is not None else e
        return {"status": "unknown", "error": not_configured(cause) or _cause(e)}
    if v.empty:
        return {"status": "unknown", "error": "Insufficient metrics data"}
    avg = round(float(v.iloc[-1]), 3)
    p = s.performance
    status = "unhealthy" if avg > p.unhealthy_above_s else ("degraded" if avg > p.degraded_above_s else "healthy")
    return {"status": status, "avgResponseTime": avg}


def run_checks(env, aws, metrics_source, settings: HealthSettings | None = None, now=None) -> dict:
    """All seven probes concurrently; the health report in the seed's JSON shape."""
    s = settings or load_settings()
    now = pd.Timestamp(now) if now is not None else utcnow()
    r = env.resources
    probes: dict[str, Callable[[], dict]] = {
        "application": lambda: probe_application(r.app_url, s) if r.app_url else {"status": "unknown",
                                                                                  "error": "no app_url"},
        "graphqlApi": lambda: probe_graphql(r.graphql_url, s) if r.graphql_url else {"status": "unknown",
                                                                                     "error": "no graphql_url"},
        "database": lambda: probe_database(aws, r.table_names()),
        "authentication": lambda: probe_authentication(aws, r.user_pool_id),
        "storage": lambda: probe_storage(aws, r.s3_bucket),
        "lambdaFunctions": lambda: probe_lambdas(aws, r.lambda_functions),
        "performance": lambda: probe_performance(metrics_source, r.alb, s, now),
    }
    checks = {}
    t0 = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="probe")
    futs = {k: pool.submit(_timed, fn) for k, fn in probes.items()}
    deadline = t0 + s.timeout_s + 2.0
    for k, f in futs.items():
        try:
            checks[k] = f.result(timeout=max(0.05, deadline - time.perf_counter()))
        except FutureTimeout:
            checks[k] = {"status": "unhealthy", "error": f"timed out after {s.timeout_s:g} s"}
        except Exception as e:  # noqa: BLE001
            checks[k] = {"status": "unhealthy", "error": _cause(e)}
    pool.shutdown(wait=False, cancel_futures=True)
    overall = overall_status([c["status"] for c in checks.values()])
    return {"healthCheckId": f"HC-{now:%Y%m%d%H%M%S}", "timestamp": now.isoformat(), "environment": env.name,
            "checks": checks, "overallStatus": overall, "durationSeconds": round(time.perf_counter() - t0, 3)}


def overall_status(statuses: list[str]) -> str:
    """The worst known status; ``unknown`` when nothing is worse but some check could not look (an environment
    without credentials is not healthy, and not unhealthy either)."""
    known = [x for x in statuses if x != "unknown"]
    worst = max(known, key=lambda x: ORDER.get(x, 0)) if known else "unknown"
    if worst == "healthy" and len(known) < len(statuses):
        return "unknown"
    return worst


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    out.setdefault("latencyMs", round(1000 * (time.perf_counter() - t0), 1))
    return out


# ------------------------------------------------------------------------------------------------ history
SCHEMA = """CREATE TABLE IF NOT EXISTS health (check_id TEXT NOT NULL, timestamp TEXT NOT NULL, environment TEXT NOT
NULL, check_name TEXT NOT NULL, status TEXT NOT NULL, latency_ms REAL, detail TEXT, overall TEXT NOT NULL,
PRIMARY KEY (check_id, environment, check_name))"""


def _db(path: Path):
    return connect(path, SCHEMA)


def append_history(path: Path, report: dict) -> None:
    """Append one health report (one row per check); SQLite WAL with a busy timeout serialises writers."""
    rows = [(report["healthCheckId"], report["timestamp"], report["environment"], k, v["status"],
             v.get("latencyMs"), json.dumps({a: b for a, b in v.items() if a not in ("status", "latencyMs")}),
             report["overallStatus"]) for k, v in report["checks"].items()]
    con = _db(Path(path))
    try:
        with con:
            con.executemany("INSERT OR REPLACE INTO health VALUES (?,?,?,?,?,?,?,?)", rows)
    finally:
        con.close()


def read_history(path: Path, environment: str | None = None) -> pd.DataFrame:
    cols = ["check_id", "timestamp", "environment", "check_name", "status", "latency_ms", "detail", "overall"]
    return read(path, SCHEMA, "health", cols, "timestamp", {"environment": environment})


def history_stats(history: pd.DataFrame, interval="5min") -> pd.DataFrame:
    """Per check: availability (share of healthy-or-unknown results), degraded share, status changes (flapping
    when more than 6 a day), and the longest outage (consecutive unhealthy results x ``interval``)."""
    rows = []
    step = pd.Timedelta(interval)
    for name, g in history.sort_values("timestamp").groupby("check_name", sort=False):
        st = g["status"].to_numpy()
        up = (st == "healthy") | (st == "unknown")
        down = st == "unhealthy"
        changes = int((st[1:] != st[:-1]).sum())
        days = max((g["timestamp"].max() - g["timestamp"].min()) / pd.Timedelta(days=1), 1 / 24)
        longest, run, start_at, best_at = 0, 0, None, None
        for t, d in zip(g["timestamp"], down):
            if d:
                run += 1
                start_at = start_at or t
                if run > longest:
                    longest, best_at = run, start_at
            else:
                run, start_at = 0, None
        rows.append({"check": name, "results": len(g), "availability_pct": 100 * up.mean(),
                     "degraded_pct": 100 * (st == "degraded").mean(), "status_changes": changes,
                     "flapping": changes / days > 6, "longest_outage_min": longest * step / pd.Timedelta(minutes=1),
                     "longest_outage_start": best_at})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------- retention
def retention_audit(log_groups: list[dict], base: str, policy: dict[str, int]) -> pd.DataFrame:
    """Each policy log group against DescribeLogGroups: ``group, policy_days, retention_days, finding``."""
    have = {g["logGroupName"]: g.get("retentionInDays") for g in log_groups}
    rows = []
    for suffix, days in policy.items():
        name = base + suffix
        if name not in have:
            rows.append({"group": name, "policy_days": days, "retention_days": None,
                         "finding": "missing: the log group does not exist"})
            continue
        r = have[name]
        if r is None:
            f = "never expires: set the retention (storage cost, and the policy says delete)"
        elif r < days:
            f = f"too short: logs deleted after {r} days, the policy keeps them {days}"
        elif r > days:
            f = f"longer than policy ({r} > {days} days): more storage cost than intended"
        else:
            f = "ok"
        rows.append({"group": name, "policy_days": days, "retention_days": r, "finding": f})
    for name, r in have.items():
        if name.startswith(base) and name not in {base + s for s in policy} and name != base:
            rows.append({"group": name, "policy_days": None, "retention_days": r,
                         "finding": "not covered by the retention policy"})
    return pd.DataFrame(rows)


def mask_endpoint(endpoint: str) -> str:
    """A subscription endpoint for a report: an email's local part and a phone's digits mostly hidden."""
    if "@" in endpoint:
        local, _, domain = endpoint.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = [c for c in endpoint if c.isdigit()]
    return ("***" + "".join(digits[-2:])) if len(digits) > 4 else endpoint


def list_topics(sns) -> list[str]:
    """Every topic ARN (ListTopics, paginated)."""
    arns, token = [], None
    while True:
        resp = sns.list_topics(**({"NextToken": token} if token else {}))
        arns += [t["TopicArn"] for t in resp.get("Topics", [])]
        token = resp.get("NextToken")
        if not token:
            return arns


def subscriptions(sns, topic_arn: str) -> list[dict]:
    """A topic's subscriptions (ListSubscriptionsByTopic, paginated); a confirmed one has an ARN, a pending one
    ``PendingConfirmation``."""
    subs, token = [], None
    while True:
        resp = sns.list_subscriptions_by_topic(TopicArn=topic_arn, **({"NextToken": token} if token else {}))
        subs += resp.get("Subscriptions", [])
        token = resp.get("NextToken")
        if not token:
            return subs


def action_findings(aws, alarms) -> list[dict]:
    """Alarm actions that reach nobody: an SNS topic an alarm (or composite) sends to that does not exist in
    the account and Region, or that has no confirmed subscription. ``alarm, severity, finding, fix`` rows.
    Topics are matched by name (the catalog writes ``ACCOUNT`` for the account in its ARNs)."""
    sns = aws.client("sns")
    by_name = {a.rsplit(":", 1)[-1]: a for a in list_topics(sns)}
    confirmed: dict[str, int] = {}
    rows = []
    for a in alarms:
        for kind in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            for arn in getattr(a, kind, []) or []:
                if not str(arn).startswith("arn:aws:sns:"):
                    continue
                name = str(arn).rsplit(":", 1)[-1]
                if name not in by_name:
                    rows.append({"alarm": a.AlarmName, "severity": "high", "finding":
                                 f"{kind} sends to the SNS topic {name}, which does not exist (ListTopics)",
                                 "fix": "create the topic, or point the action at one that exists"})
                    continue
                if name not in confirmed:
                    confirmed[name] = sum(str(x.get("SubscriptionArn", "")).startswith("arn:")
                                          for x in subscriptions(sns, by_name[name]))
                if not confirmed[name]:
                    rows.append({"alarm": a.AlarmName, "severity": "high", "finding":
                                 f"{kind} sends to {name}, which has no confirmed subscription: nobody receives it",
                                 "fix": "subscribe the on-call endpoint and confirm it"})
    return rows


def sns_audit(aws, routing) -> pd.DataFrame:
    """Who receives the alerts: every routing topic (Critical, Warning, Info, and the umbrella production topic)
    with its subscriptions (ListTopics, ListSubscriptionsByTopic, paginated). Findings: a topic that does not
    exist, a topic nobody is confirmed on, an expected subscription that is missing or still pending
    confirmation (it receives nothing). Endpoints are masked. ``topic, protocol, endpoint, state, finding``."""
    sns = aws.client("sns")
    by_name = {a.rsplit(":", 1)[-1]: a for a in list_topics(sns)}
    wanted = {t.topic: [] for t in routing.topics.values()}
    if routing.production_topic is not None:
        wanted[routing.production_topic.topic] = list(routing.production_topic.subscriptions)
    rows = []
    for name, expected in wanted.items():
        if name not in by_name:
            rows.append({"topic": name, "protocol": "", "endpoint": "", "state": "missing",
                         "finding": "the topic does not exist: alarms sending to it notify nobody"})
            continue
        subs = subscriptions(sns, by_name[name])
        confirmed = [x for x in subs if x.get("SubscriptionArn", "").startswith("arn:")]
        for x in subs:
            ok = x.get("SubscriptionArn", "").startswith("arn:")
            rows.append({"topic": name, "protocol": x.get("Protocol", ""), "endpoint": mask_endpoint(
                x.get("Endpoint", "")), "state": "confirmed" if ok else "pending confirmation",
                "finding": "ok" if ok else "pending confirmation: receives nothing until confirmed"})
        have = {(x.get("Protocol"), x.get("Endpoint")) for x in confirmed}
        for e in expected:
            if (e.protocol, e.endpoint) not in have:
                pending = any((x.get("Protocol"), x.get("Endpoint")) == (e.protocol, e.endpoint) for x in subs)
                if not pending:
                    rows.append({"topic": name, "protocol": e.protocol, "endpoint": mask_endpoint(e.endpoint),
                                 "state": "missing", "finding": "expected by the routing (the seed) but not "
                                                                "subscribed"})
        if not confirmed:
            rows.append({"topic": name, "protocol": "", "endpoint": "", "state": "no confirmed subscription",
                         "finding": "nobody receives this topic's alerts"})
    return pd.DataFrame(rows, columns=["topic", "protocol", "endpoint", "state", "finding"])


# --------------------------------------------------------------------------------------------- entry points
def default_history_path() -> Path:

    return Path(default_outputs()) / "health.sqlite"


def check_environment(environment: str = "demo", history: Path | None = None, now=None) -> dict:
    """Run the checks for an environment (the demo: against local endpoints started for the purpose) and append
    the result to the history store."""
    env = catalog().environment(environment)
    if env.source == "demo":
        with demo_stack(env) as (e, aws):
            rep = run_checks(e, aws, get_source("demo", environment=environment, now=now), now=now)
    else:
        aws = AwsContext.for_environment(env, max_attempts=2,
                         connect_timeout=3, read_timeout=load_settings().timeout_s)
        rep = run_checks(env, aws, get_source("cloudwatch", environment=environment), now=now)
    append_history(history or default_history_path(), rep)
    return rep


def history_in(src, window, path: Path | None = None) -> pd.DataFrame:
    """The health checks' results in ``window``: what an evidence bundle recorded; else from the history store
    (``path``, default :func:`default_history_path`) when it covers the window, else (demo) what the 5-minute
    checks would have recorded. Through a recording source, so the run's evidence keeps what it used."""

    def read(inner, w):
        hist = read_history(path or default_history_path())
        if len(hist):
            hist = hist[(hist["timestamp"] >= w.start) & (hist["timestamp"] <= w.end)]
        if hist["check_id"].nunique() < 12 and inner.name == "demo":  # too little history: what the demo's
            hist = demo_history(inner, w)                              # 5-minute checks would have recorded
        return hist

    if hasattr(src, "health_history"):
        return src.health_history(window, read)
    inner = unwrap(src)
    return inner.recorded_health_history(window) if hasattr(inner, "recorded_health_history") else read(inner, window)


def demo_history(src, window, interval="5min") -> pd.DataFrame:
    """What a 5-minute health check would have recorded on the demo stack, derived from its metrics: the
    application unhealthy when over 5% of requests fail, the database degraded while a table throttles, Lambda
    degraded while a function errors on over 20% of invocations, storage degraded over 2 s S3 latency,
    performance by the response-time thresholds. Deterministic, like the demo itself."""
    r = src.environment.resources
    alb = {"LoadBalancer": r.alb}
    p = int(pd.Timedelta(interval).total_seconds())
    qs = [MetricQuery("AWS/ApplicationELB", "RequestCount", alb, "Sum", p, label="req"),
          MetricQuery("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb, "Sum", p, label="e5"),
          MetricQuery("AWS/ApplicationELB", "TargetResponseTime", alb, "Average", p, label="rt")]
    qs += [m.query("Sum", p, label=f"thr{i}") for i, m in enumerate(src.list_metrics("AWS/DynamoDB",
                                                                                       "ThrottledRequests"))]
    qs += [m.query("Average", p, label=f"lerr{i}") for i, m in enumerate(src.list_metrics("AWS/Lambda", "Errors"))]
    qs += [m.query("Average", p, label=f"s3{i}") for i, m in enumerate(src.list_metrics("AWS/S3",
                                                                                        "TotalRequestLatency"))]
    # what the checks recorded at the time: at full resolution where the source has it (the demo), as facts
    df = src.full_resolution(qs, window) if hasattr(src, "full_resolution") else src.metrics(qs, window)
    s = load_settings().performance
    status = {
        # no request count at all is not an outage: unknown (absent 5XX counts are zeros, as the ALB publishes)
        "application": pd.Series("healthy", index=df.index).where(df["e5"].fillna(0) <= 0.05 * df["req"],
                                                                   "unhealthy").mask(df["req"].isna(), "unknown"),
        "database": pd.Series("healthy", index=df.index).where(df.filter(like="thr").fillna(0).sum(axis=1) == 0,
                                                                "degraded"),
        "lambdaFunctions": pd.Series("healthy", index=df.index).where(
            df.filter(like="lerr").fillna(0).max(axis=1) <= 0.2, "degraded"),
        "storage": pd.Series("healthy", index=df.index).where(df.filter(like="s3").max(axis=1).fillna(0) <= 2000,
                                                               "degraded"),
        "performance": pd.Series("healthy", index=df.index).mask(df["rt"] > s.degraded_above_s, "degraded")
        .mask(df["rt"] > s.unhealthy_above_s, "unhealthy").mask(df["rt"].isna(), "unknown"),
        "graphqlApi": pd.Series("healthy", index=df.index), "authentication": pd.Series("healthy", index=df.index),
    }
    rows = []
    for name, st in status.items():
        rows.append(pd.DataFrame({"timestamp": df.index + pd.Timedelta(seconds=p), "check_name": name,
                                  "status": st.to_numpy()}))
    out = pd.concat(rows, ignore_index=True)
    out = out[out["timestamp"] <= src.now]
    out["check_id"] = "HC-" + out["timestamp"].dt.strftime("%Y%m%d%H%M%S")
    out["environment"] = src.environment.name
    return out.sort_values(["timestamp", "check_name"]).reset_index(drop=True)
