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
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import AuthError, SourceError

READ_ONLY_ACTIONS = {
    "cloudwatch": ["GetMetricData", "ListMetrics", "DescribeAlarms", "DescribeAlarmHistory"],
    "logs": ["FilterLogEvents", "StartQuery", "GetQueryResults", "StopQuery", "DescribeLogGroups"],
    # the health checks
    "dynamodb": ["DescribeTable"], "cognito-idp": ["DescribeUserPool"], "s3": ["ListBucket"],
    "sns": ["ListTopics", "ListSubscriptionsByTopic"],  # who receives the alerts (the health report's audit)
    "amplify": ["ListJobs"], "cloudtrail": ["LookupEvents"],  # change events on the incident timeline
    "lambda": ["GetFunctionConfiguration"],  # not GetFunction: that one grants a code download URL
}


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
    requests: list[dict] = field(default_factory=list)
    _clients: dict = field(default_factory=dict)
    _raw_factory: Any = None

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self._new_client(service)
        return self._clients[service]

    def _raw_timestamps(self, client):
        """A context in which ``client`` leaves timestamps as the wire has them (epoch seconds in the JSON
        protocol botocore speaks to CloudWatch) instead of building a ``datetime`` per value: GetMetricData
        returns up to 100,800 per page, which :func:`rtanalytics.sources.cloudwatch._series` converts as whole
        arrays. The same client (stubs, retries, credentials); only its parser differs for the call."""
        import contextlib

        endpoint = getattr(client, "_endpoint", None)
        if endpoint is None or not hasattr(endpoint, "_response_parser_factory"):
            return contextlib.nullcontext()  # another botocore: datetimes, which _series also takes
        if self._raw_factory is None:
            from botocore.parsers import ResponseParserFactory

            self._raw_factory = ResponseParserFactory()
            self._raw_factory.set_parser_defaults(timestamp_parser=lambda value: value)

        @contextlib.contextmanager
        def swapped():
            saved = endpoint._response_parser_factory
            endpoint._response_parser_factory = self._raw_factory
            try:
                yield
            finally:
                endpoint._response_parser_factory = saved

        return swapped()

    def _new_client(self, service: str):
        import boto3
        from botocore.config import Config

        if self.session is None:
            self.session = boto3.Session(profile_name=self.profile, region_name=self.region)
        # ``total_max_attempts`` counts the first attempt (``max_attempts`` would count retries only: 5 meant 6)
        cfg = Config(retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
                     connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                     user_agent_extra="rtanalytics")
        return self.session.client(service, region_name=self.region, endpoint_url=self.endpoint_url, config=cfg)

    def call(self, service: str, api: str, **params):
        """Call ``api`` (snake_case boto3 name) and log it; AWS errors become :class:`SourceError`."""
        from botocore.exceptions import BotoCoreError, ClientError

        t0 = time.perf_counter()
        entry = {"service": service, "api": api, "params": _loggable(params)}
        try:
            client = self.client(service)
            if (service, api) in RAW_TIMESTAMP_APIS:
                with self._raw_timestamps(client):
                    resp = getattr(client, api)(**params)
            else:
                resp = getattr(client, api)(**params)
        except ClientError as e:
            err = e.response.get("Error", {})
            entry.update(ok=False, error=f"{err.get('Code')}: {err.get('Message')}",
                         seconds=round(time.perf_counter() - t0, 3))
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
        self.requests.append(entry)
        return resp

    @property
    def api_calls(self) -> int:
        return len(self.requests)


RAW_TIMESTAMP_APIS = {("cloudwatch", "get_metric_data")}  # timestamps parsed as whole arrays, not per value

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
