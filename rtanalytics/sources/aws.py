"""One door to boto3: sessions and clients with bounded retries and timeouts, and a request log.

Credentials come only from the standard AWS chain (environment variables, ``~/.aws``, an instance or task
role), optionally through a named ``profile``; never from parameters, notebooks or outputs. Retries use
botocore's ``standard`` mode by default (or ``adaptive``, which also rate-limits the client), bounded by
``max_attempts``. Every call made through :class:`AwsContext` is recorded (API, parameters without secrets,
time range, duration, outcome) for the run's provenance.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from ..catalog import catalog
from ..catalog.models import DEFAULT_QUOTAS
from ..errors import AuthError, SourceError
from ..quota import local_limiter, process_limiter
from .wire import register

READ_ONLY_ACTIONS = {
    "cloudwatch": ["GetMetricData", "ListMetrics", "DescribeAlarms", "DescribeAlarmHistory"],
    "logs": ["FilterLogEvents", "StartQuery", "GetQueryResults", "StopQuery", "DescribeLogGroups"],
    # the health checks
    "dynamodb": ["DescribeTable"], "cognito-idp": ["DescribeUserPool"], "s3": ["ListBucket"],
    "sns": ["ListTopics", "ListSubscriptionsByTopic"],  # who receives the alerts (the health report's audit)
    "amplify": ["ListJobs"], "cloudtrail": ["LookupEvents"],  # change events on the incident timeline
    "lambda": ["GetFunctionConfiguration"],  # not GetFunction: that one grants a code download URL
}


POOL_CONNECTIONS = 64  # pooled HTTP connections per client: above what a report keeps in flight

#: what every answer of these APIs carries (their API references' response elements, present even when empty).
#: An answer without it was cut short or damaged on the way — botocore parses a truncated JSON body as ``{}`` with
#: no error — so it is a fault: retried, then a :class:`SourceError` (the report says partial, nothing is cached),
#: never read as "no data".
ANSWER_KEYS = {
    ("cloudwatch", "get_metric_data"): ("MetricDataResults",),
    ("cloudwatch", "list_metrics"): ("Metrics",),
    ("cloudwatch", "describe_alarms"): ("MetricAlarms|CompositeAlarms",),
    ("cloudwatch", "describe_alarm_history"): ("AlarmHistoryItems",),
    ("logs", "filter_log_events"): ("events",),
    ("logs", "start_query"): ("queryId",),
    ("logs", "get_query_results"): ("status",),
    ("logs", "describe_log_groups"): ("logGroups",),
    ("cloudtrail", "lookup_events"): ("Events",),
    ("amplify", "list_jobs"): ("jobSummaries",),
    ("sts", "get_caller_identity"): ("Account",),
}
#: how many more times a damaged answer is asked for before it is a fault
DAMAGED_RETRIES = 2


def credentials_problem(profile: str | None = None, region: str | None = None) -> str | None:
    """Why the standard credential chain (environment variables, ``~/.aws``, an SSO login, an instance or task
    role), through ``profile`` when one is named, has no credentials — or None when it has some. Nothing is sent
    to AWS: a run that reads CloudWatch is refused before any kernel starts instead of failing in its third
    cell."""
    import boto3  # lazy: boto3 loads only on the AWS paths
    from botocore.exceptions import BotoCoreError  # lazy: with boto3

    try:
        creds = boto3.Session(profile_name=profile, region_name=region).get_credentials()
    except BotoCoreError as e:  # the profile does not exist, its SSO session cannot be read, ...
        return f"{type(e).__name__}: {e}"
    if creds is None:
        return "the standard credential chain has no credentials" + (f" for profile {profile!r}" if profile else "")
    return None


def damage(service: str, api: str, resp: dict) -> str | None:
    """What is missing from an answer that the API always sends (None: nothing)."""
    for key in ANSWER_KEYS.get((service, api), ()):
        if not any(k in resp for k in key.split("|")):
            return f"no {key.replace('|', ' or ')}"
    if (service, api) == ("cloudwatch", "get_metric_data"):
        for r in resp.get("MetricDataResults") or []:
            if not isinstance(r, dict) or "Id" not in r or "StatusCode" not in r:
                return "a MetricDataResults entry without Id or StatusCode"
            if len(r.get("Timestamps", [])) != len(r.get("Values", [])):
                return f"result {r.get('Id')}: {len(r.get('Timestamps', []))} timestamps for " \
                       f"{len(r.get('Values', []))} values"
    return None


@dataclass
class AwsContext:
    """Region, profile and (for tests) endpoint for every client of one source, plus the request log."""

    region: str = "us-west-1"
    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = 3  # attempts in all, the first included (botocore's total_max_attempts)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    session: Any = None
    account: Any = None  # catalog Account: a role to assume per environment, or a source account id
    limiter: Any = None  # a quota limiter (rtanalytics.quota): API calls wait for a slot of the account's TPS
    requests: list[dict] = field(default_factory=list)
    _clients: dict = field(default_factory=dict)
    _caller: str | None = None
    _local: Any = field(default_factory=threading.local, repr=False)
    attempts: dict = field(default_factory=dict)  # HTTP attempts by "service:Api" (probes and retries included)
    _count_lock: Any = field(default_factory=threading.Lock, repr=False)
    _client_lock: Any = field(default_factory=threading.Lock, repr=False)  # clients made once, whatever the threads

    @classmethod
    def for_environment(cls, env, **kw) -> "AwsContext":
        """A context for a catalog environment: its Region, profile, endpoint and account (AssumeRole into it from
        this process's own credential chain), with the cluster's quota limiter when running in a fleet."""
        kw.setdefault("limiter", process_limiter())
        if kw["limiter"] is not None:  # in a fleet: botocore's adaptive mode backs the shared quota up (it slows
            kw.setdefault("retry_mode", "adaptive")  # this client down on throttling from anything else)
        elif not _loopback(env.endpoint_url):  # one process: its concurrent requests keep within the account's
            # quotas (a local emulator on 127.0.0.1, as in the tests, has no account and no quota)

            try:
                quotas = DEFAULT_QUOTAS | catalog().fleet_file.quotas
            except Exception:  # a broken fleet.yaml is reported by `check`; the documented defaults still hold
                quotas = dict(DEFAULT_QUOTAS)
            kw["limiter"] = local_limiter(quotas)
        return cls(region=env.region, profile=env.profile, endpoint_url=env.endpoint_url,
                   account=getattr(env, "account", None), **kw)

    @property
    def account_id(self) -> str:
        """The account the calls read: the catalog's, else the credentials' own (STS GetCallerIdentity, once)."""
        acct = getattr(self.account, "id", None)
        if acct:
            return acct
        if self._caller is None:
            self._caller = str(self.client("sts").get_caller_identity().get("Account", ""))
        return self._caller

    @property
    def source_account(self) -> str | None:
        """The account to name in requests (GetMetricData's ``AccountId``...) when reading through a cross-account
        observability monitoring account; ``None`` otherwise."""
        return self.account.id if self.account is not None and self.account.via_monitoring_account else None

    def _session(self):
        import boto3  # lazy: boto3 loads only on the AWS paths (the demo and files sources never pay for it)

        base = boto3.Session(profile_name=self.profile, region_name=self.region)
        if self.account is None or not self.account.role_arn:
            return base
        return assumed_session(base, self.account, self.region, self.endpoint_url)

    def client(self, service: str):
        if service not in self._clients:
            with self._client_lock:  # threads asking at once get the one client (boto3 clients are thread-safe)
                if service not in self._clients:
                    self._clients[service] = self._new_client(service)
        return self._clients[service]

    def _new_client(self, service: str):
        import boto3  # lazy: boto3 loads only on the AWS paths (the demo and files sources never pay for it)
        from botocore.config import Config  # lazy: botocore loads only on the AWS paths

        if self.session is None:
            self.session = self._session()
        # ``total_max_attempts`` counts the first attempt (``max_attempts`` would count retries only: 5 meant 6)
        cfg = Config(retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
                     connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                     user_agent_extra="rtanalytics",
                     # a report's fetches overlap (up to 16 requests each, several fetches at once): botocore's
                     # 10 pooled connections would be reopened again and again
                     max_pool_connections=POOL_CONNECTIONS)
        client = self.session.client(service, region_name=self.region, endpoint_url=self.endpoint_url, config=cfg)
        client.meta.events.register("before-send", self._before_send(service))
        if service == "cloudwatch":  # GetMetricData's datapoints as arrays (botocore's before-parse hook)

            register(client)
        return client

    def call(self, service: str, api: str, **params):
        """Call ``api`` (snake_case boto3 name) and log it; AWS errors become :class:`SourceError`."""
        from botocore.exceptions import BotoCoreError, ClientError  # lazy: botocore loads only on the AWS paths

        entry = {"service": service, "api": api, "params": _loggable(params)}
        t0 = time.perf_counter()
        self._local.sent = None
        self._local.waited = 0.0
        try:
            client = self.client(service)
            for attempt in range(DAMAGED_RETRIES + 1):
                resp = getattr(client, api)(**params)
                broken = damage(service, api, resp)
                if broken is None:
                    break
            if broken is not None:
                entry.update(ok=False, error=f"damaged answer: {broken}", seconds=round(time.perf_counter() - t0, 3))
                self._stamp(entry)
                self.requests.append(entry)
                raise SourceError(f"{service}.{api}: the answer was cut short or damaged ({broken}) "
                                  f"{DAMAGED_RETRIES + 1} times: its data is missing, not empty")
        except ClientError as e:
            err = e.response.get("Error", {})
            entry.update(ok=False, error=f"{err.get('Code')}: {err.get('Message')}",
                         seconds=round(time.perf_counter() - t0, 3))
            self._stamp(entry)
            self.requests.append(entry)
            cls = AuthError if str(err.get("Code")) in AUTH_CODES else SourceError
            raise cls(f"{service}.{api} failed: {err.get('Code')}: {err.get('Message')}"
                      f"{_hint(err.get('Code'))}") from e
        except BotoCoreError as e:
            entry.update(ok=False, error=str(e), seconds=round(time.perf_counter() - t0, 3))
            self.requests.append(entry)
            cls = AuthError if type(e).__name__ in AUTH_CODES else SourceError
            raise cls(f"{service}.{api} failed: {e}{_hint(type(e).__name__)}") from e
        meta = resp.get("ResponseMetadata", {})
        entry.update(ok=True, seconds=round(time.perf_counter() - t0, 3),
                     retries=meta.get("RetryAttempts", 0))
        self._stamp(entry)
        self.requests.append(entry)
        return resp

    def _stamp(self, entry: dict) -> None:
        """When the (last attempt of the) request left, and how long it waited for its quota."""
        if getattr(self._local, "sent", None) is not None:
            entry["t"] = round(self._local.sent, 3)
        if getattr(self._local, "waited", 0.0):
            entry["quota_wait_s"] = round(self._local.waited, 3)

    def _before_send(self, service: str):
        """botocore ``before-send`` hook of this context's clients: every HTTP attempt of every call — through
        :meth:`call` or a client used directly (the health probes), retries included, as AWS counts them — first
        takes a slot of its account's quota when a limiter is set, and is stamped with when it left."""

        def hook(event_name: str = "", **_):
            api = event_name.rsplit(".", 1)[-1]
            with self._count_lock:
                self.attempts[f"{service}:{api}"] = self.attempts.get(f"{service}:{api}", 0) + 1
            if self.limiter is not None:
                waited = self.limiter.acquire(service, api, self)
                self._local.waited = getattr(self._local, "waited", 0.0) + waited
            self._local.sent = time.time()

        return hook

    @property
    def api_calls(self) -> int:
        return len(self.requests)


def _loopback(url: str | None) -> bool:
    host = urlparse(url).hostname if url else None
    return host in ("127.0.0.1", "localhost", "::1") or bool(host and host.startswith("127."))


def api_name(snake: str) -> str:
    """``get_metric_data`` → ``GetMetricData`` (the name quotas and IAM use)."""
    return "".join(w[:1].upper() + w[1:] for w in snake.split("_"))


def assumed_session(base, account, region: str, endpoint_url: str | None = None):
    """A boto3 session whose credentials are ``account.role_arn`` assumed through STS from ``base``'s own chain,
    refreshed before they expire (botocore's AssumeRole fetcher: RoleSessionName, ExternalId, DurationSeconds).
    Nothing secret comes from the catalog or a task's arguments: only the role to assume."""
    import boto3  # lazy: boto3 loads only on the AWS paths (the demo and files sources never pay for it)
    import botocore.session  # lazy: botocore loads only on the AWS paths
    from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

    source = base.get_credentials()
    if source is None:
        raise AuthError(f"cannot assume {account.role_arn}: this process has no AWS credentials of its own to "
                        "assume it from (instance or task role, AWS_PROFILE, environment variables)")

    def sts_client(service, **kw):
        return base._session.create_client(service, region_name=region, endpoint_url=endpoint_url, **kw)

    extra = {"RoleSessionName": account.session_name, "DurationSeconds": account.duration_s}
    if account.external_id:
        extra["ExternalId"] = account.external_id
    fetcher = AssumeRoleCredentialFetcher(sts_client, source, account.role_arn, extra_args=extra)
    bs = botocore.session.Session()
    bs._credentials = DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")
    return boto3.Session(botocore_session=bs, region_name=region)



AUTH_CODES = {"NoCredentialsError", "PartialCredentialsError", "UnrecognizedClientException",
              "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "AccessDenied",
              "AccessDeniedException", "UnauthorizedOperation", "InvalidSignatureException", "SignatureDoesNotMatch",
              "MissingAuthenticationToken", "TokenRefreshRequired", "SSOTokenLoadError", "UnauthorizedSSOTokenError"}


def _hint(code) -> str:
    code = str(code or "")
    if code in AUTH_CODES - {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        return (" — configure credentials through the AWS chain (AWS_PROFILE, ~/.aws/credentials, an instance "
                "role) or set 'profile' for the environment in parameters/environments.yaml")
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
        return " — the credentials lack a permission listed in docs/iam-policy.json"
    if "Throttl" in code:
        return " — throttled even after retries; try again later or narrow the window"
    return ""


def _loggable(params: dict) -> dict:
    """Parameters as JSON-able values, with long query lists summarised (count and a hash)."""
    out = {}
    for k, v in params.items():
        if k == "MetricDataQueries":
            ids = [q.get("Id") for q in v]
            out[k] = {"count": len(v), "sha256": hashlib.sha256(json.dumps(v, sort_keys=True, default=str)
                                                                 .encode()).hexdigest()[:16], "ids": ids[:5]}
        elif k in ("NextToken", "nextToken"):
            out[k] = "…"
        elif hasattr(v, "isoformat"):
            out[k] = v.isoformat()
        else:
            out[k] = v
    return out
