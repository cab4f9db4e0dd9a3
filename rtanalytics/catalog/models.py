"""Validated catalog models: environments, KPIs, metric selectors, the demo scenario."""

from __future__ import annotations

import json
import re
import string
from datetime import datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..queries import normalize_stat
from ..timewindow import parse_duration, to_utc


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------------------------------------- environments
class Resources(Strict):
    """Names of the monitored resources (the seed's values for production)."""

    alb: str = "RealTechee-ALB"
    table_suffix: str = "aqnqdrctpzfwfjwyxxsmu6peoq-NONE"
    tables: list[str] = ["Contacts", "Properties", "Requests", "Projects", "Quotes"]
    lambda_functions: list[str] = ["notification-processor", "user-admin", "status-processor"]
    s3_bucket: str | None = None
    user_pool_id: str | None = None
    app_url: str | None = None
    graphql_url: str | None = None
    log_group: str = "/aws/amplify/RealTechee-Gen2"
    amplify_app_id: str | None = None  # Amplify Gen2 app and branch whose deploy jobs go on the timeline
    amplify_branch: str | None = None

    def table_names(self) -> list[str]:
        return [f"{t}-{self.table_suffix}" for t in self.tables]

    def substitutions(self) -> dict[str, str]:
        d = {k: v for k, v in self.model_dump().items() if isinstance(v, str)}
        for t in self.tables:
            d[f"table_{t}"] = f"{t}-{self.table_suffix}"
        return d


class Notifications(Strict):
    """Where failed runs and KPIs/SLOs past their alert threshold are published (SNS topic ARNs per level)."""

    enabled: bool = False
    topics: dict[str, str] = {}


class Account(Strict):
    """Which AWS account an environment's data lives in, and how to reach it. Either ``role_arn`` (AssumeRole
    through STS from the worker's own credential chain, with an optional ``external_id``), or ``account_id`` alone
    when the credentials belong to a CloudWatch cross-account observability *monitoring* account: GetMetricData's
    ``AccountId`` then selects the source account. Never credentials."""

    role_arn: str | None = Field(None, description="arn:aws:iam::ACCOUNT:role/NAME to assume (STS AssumeRole)")
    external_id: str | None = Field(None, min_length=2, max_length=1224, pattern=r"^[\w+=,.@:/-]+$",
                                    description="the ExternalId the role's trust policy requires")
    session_name: str = Field("rtanalytics", min_length=2, max_length=64, pattern=r"^[\w+=,.@-]+$",
                              description="RoleSessionName (shows in the account's CloudTrail)")
    duration_s: int = Field(3600, ge=900, le=43200, description="DurationSeconds of each assumed session")
    account_id: str | None = Field(None, description="12-digit source account; without role_arn, read through "
                                   "the monitoring account (cross-account observability)")

    @field_validator("role_arn")
    @classmethod
    def _arn(cls, v):
        if v is not None and not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", v):
            raise ValueError(f"{v!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)")
        return v

    @field_validator("account_id")
    @classmethod
    def _acct(cls, v):
        if v is not None and not (len(v) == 12 and v.isdigit()):
            raise ValueError(f"{v!r} is not a 12-digit AWS account id")
        return v

    @model_validator(mode="after")
    def _one_way(self):
        if not self.role_arn and not self.account_id:
            raise ValueError("give role_arn (assume a role in the account) or account_id (read it through a "
                             "cross-account observability monitoring account)")
        if self.role_arn and self.account_id and self.role_arn.split(":")[4] != self.account_id:
            raise ValueError(f"account_id {self.account_id} is not the account of role_arn {self.role_arn}")
        return self

    @property
    def id(self) -> str | None:
        """The account the data is in, when the catalog says (the role's account, else ``account_id``)."""
        return self.role_arn.split(":")[4] if self.role_arn else self.account_id

    @property
    def via_monitoring_account(self) -> bool:
        return self.role_arn is None


class DemoVariant(Strict):
    """For the demo source: this simulated service's own random streams and incident schedule."""

    seed: int = Field(0, description="added to the scenario's seed: another service, other noise and traffic")
    offset: str = Field("0m", description="the scenario's incidents shifted this much later (e.g. 1d3h)")
    scale: float = Field(1.0, gt=0, description="traffic multiplier (a bigger or smaller service)")

    @field_validator("offset")
    @classmethod
    def _offset(cls, v):
        parse_duration(v)
        return v


class Environment(Strict):
    name: str
    description: str = ""
    source: Literal["demo", "cloudwatch", "files"] = "demo"
    region: str = "us-west-1"
    profile: str | None = Field(None, description="AWS profile name from ~/.aws/config; never credentials")
    endpoint_url: str | None = Field(None, description="for tests: a local AWS endpoint (moto server)")
    scenario: str | None = "default"
    resources: Resources = Resources()
    notifications: Notifications = Notifications()
    amplify_outputs: str | None = Field(None, description="path of the app's amplify_outputs.json (relative to "
                                        "parameters/): s3_bucket and user_pool_id are read from it")
    account: Account | None = Field(None, description="the AWS account to read (AssumeRole or a monitoring "
                                    "account's AccountId); default: whatever the credential chain gives")
    demo: DemoVariant | None = Field(None, description="demo source only: this service's seed and incident offset")
    fleet: str | None = Field(None, description="set by the catalog for members of a fleet (parameters/fleet.yaml)")
    reports: list[str] | None = Field(None, description="fleet members: the reports run for this environment")
    iac_values: dict[str, str | int | float | bool] = Field(
        {}, description="values of the team's Terraform variables and CloudFormation parameters for this "
        "environment (name -> value; ${alb}, ${log_group}, ... name the environment's resources), used when "
        "alarms are read from infrastructure code; they win over defaults and *.tfvars")

    def iac_resolved(self) -> dict:
        """``iac_values`` with ``${resource}`` placeholders filled from :attr:`resources`."""
        subs = self.resources.substitutions()
        return {k: string.Template(v).safe_substitute(subs) if isinstance(v, str) else v
                for k, v in self.iac_values.items()}

    def with_amplify_outputs(self, root) -> "Environment":
        """``s3_bucket`` and ``user_pool_id`` filled from ``amplify_outputs.json`` (``storage.bucket_name``,
        ``auth.user_pool_id``, as the seed's scripts read them) where the environment leaves them empty."""
        if not self.amplify_outputs:
            return self
        path = Path(self.amplify_outputs)
        path = path if path.is_absolute() else Path(root) / path
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"amplify_outputs: cannot read {path}: {e}") from None
        got = {"s3_bucket": (data.get("storage") or {}).get("bucket_name"),
               "user_pool_id": (data.get("auth") or {}).get("user_pool_id")}
        upd = {k: v for k, v in got.items() if v and getattr(self.resources, k) is None}
        return self.model_copy(update={"resources": self.resources.model_copy(update=upd)}) if upd else self

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data):
        if isinstance(data, dict):
            for bad in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "credentials"):
                if bad in data:
                    raise ValueError(f"{bad}: credentials never go in parameters/; use the AWS credential chain "
                                     "(environment variables, ~/.aws, an instance role) and a 'profile' name")
        return data


class Environments(Strict):
    environments: dict[str, Environment]

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data):
        if isinstance(data, dict) and isinstance(data.get("environments"), dict):
            data = {"environments": {k: ({"name": k} | (v or {})) for k, v in data["environments"].items()}}
        return data


# ----------------------------------------------------------------------------------------------------- metrics
class MetricSelector(Strict):
    """A metric, or with glob values in ``dimensions`` a family of metrics (resolved through ListMetrics).

    String values may use ``${name}`` placeholders filled from the environment's resources
    (``${alb}``, ``${table_Requests}``, ``${table_suffix}``, ``${log_group}`` ...).
    """

    namespace: str
    metric: str
    dimensions: dict[str, str] = {}
    stat: str | None = None

    @field_validator("stat")
    @classmethod
    def _stat(cls, v):
        return None if v is None else normalize_stat(v)

    def resolved(self, subs: dict[str, str]) -> "MetricSelector":
        def sub(s: str) -> str:
            try:
                return string.Template(s).substitute(subs)
            except KeyError as e:
                raise ValueError(f"unknown placeholder ${{{e.args[0]}}} (known: {', '.join(sorted(subs))})") from None

        return MetricSelector(namespace=self.namespace, metric=self.metric, stat=self.stat,
                              dimensions={k: sub(v) for k, v in self.dimensions.items()})

    @property
    def is_pattern(self) -> bool:
        return any(ch in v for v in self.dimensions.values() for ch in "*?[")


# -------------------------------------------------------------------------------------------------------- KPIs
class Threshold(Strict):
    op: Literal["<", "<=", ">", ">="]
    value: float

    def met(self, x: float) -> bool:
        return {"<": x < self.value, "<=": x <= self.value, ">": x > self.value, ">=": x >= self.value}[self.op]

    def __str__(self):
        return f"{self.op} {self.value:g}"


class KpiSli(Strict):
    """How a KPI is measured from CloudWatch metrics.

    * ``ratio`` — ``scale * sum(good) / sum(total)`` (Sum statistics); with ``good_missing: zero`` a period where
      ``good`` has no datapoint but ``total`` has counts 0 (ALB publishes HTTPCode counts only when non-zero —
      CloudWatch's own answer is ``FILL(m, 0)`` in metric math).
    * ``mean`` — ``scale * sum(Sum) / sum(SampleCount)`` across every matched metric: the request-weighted mean.
    * ``percentile`` — one metric's ``stat`` (e.g. ``p95``) at the window's whole period, times ``scale``.
    * ``rate`` — ``scale * sum(Sum) / hours`` (events per hour).
    """

    kind: Literal["ratio", "mean", "percentile", "rate"]
    good: list[MetricSelector] = []
    total: list[MetricSelector] = []
    metrics: list[MetricSelector] = []
    stat: str | None = None
    scale: float = 1.0
    good_missing: Literal["zero", "missing"] = "missing"

    @model_validator(mode="after")
    def _shape(self):
        if self.kind == "ratio" and (not self.good or not self.total):
            raise ValueError("kind 'ratio' needs 'good' and 'total' metrics")
        if self.kind != "ratio" and not self.metrics:
            raise ValueError(f"kind {self.kind!r} needs 'metrics'")
        if self.kind == "percentile":
            if len(self.metrics) != 1 or self.metrics[0].is_pattern:
                raise ValueError("kind 'percentile' takes exactly one metric (percentiles cannot be combined)")
            if not self.stat or not normalize_stat(self.stat).startswith("p"):
                raise ValueError("kind 'percentile' needs stat: pNN")
        return self


class Kpi(Strict):
    name: str
    title: str
    group: str
    measurement: str
    unit: str = ""
    target: Threshold
    alert: Threshold = Field(description="the alert threshold: the KPI is in alert when this holds")
    alert_when: Literal["always", "off_hours"] = Field(
        "always", description="off_hours: the alert threshold is judged per hour outside business hours only "
        "(the routing calendar), as the seed's throughput alert ('< 100 requests/hour (off-hours)')")
    sli: KpiSli
    note: str = ""


class KpiCatalog(Strict):
    kpis: dict[str, Kpi]

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data):
        if isinstance(data, dict) and isinstance(data.get("kpis"), dict):
            data = {"kpis": {k: ({"name": k} | (v or {})) for k, v in data["kpis"].items()}}
        return data


# ------------------------------------------------------------------------------------------------ demo scenario
def _dur(v) -> pd.Timedelta:
    return parse_duration(v)


class Effect(MetricSelector):
    """Change to a demo series while an incident is active: the series' level (event rate, distribution median,
    error probability or gauge value) is multiplied by ``scale``, then ``add`` is added (or replaced by ``set``)."""

    scale: float = 1.0
    add: float = 0.0
    set: float | None = None
    ramp: str = "1m"


class IncidentLogs(Strict):
    message: str
    name: str = "Error"
    per: Literal["error", "minute"] = Field("error", description="one line per error of the cause, or per minute")
    category: Literal["error", "performance", "security", "business"] = "error"
    level: Literal["error", "warn", "info"] = "error"


class Incident(Strict):
    id: str
    title: str
    kind: str
    at: str = Field(description="offset within the scenario cycle (e.g. 2d18h07m), or an ISO time without a cycle")
    duration: str
    severity: Literal["P0", "P1", "P2"] = "P1"
    deploy: str | None = Field(None, description="a deploy this long before the incident starts (e.g. 2m)")
    cause: MetricSelector
    logs: IncidentLogs | None = None
    effects: list[Effect]

    @field_validator("duration", "deploy")
    @classmethod
    def _duration(cls, v):
        if v is not None:
            parse_duration(v)
        return v


class Scenario(Strict):
    name: str
    description: str = ""
    seed: int = 1
    anchor: datetime = Field(description="start of the first cycle (UTC)")
    cycle: str | None = "14d"
    deploy_days: list[int] = Field([0, 3], description="weekdays (0=Monday) with a routine deploy")
    deploy_time: str = "17h30m"
    incidents: list[Incident] = []

    @field_validator("anchor")
    @classmethod
    def _utc(cls, v):
        return to_utc(v).to_pydatetime()

    @model_validator(mode="after")
    def _ids(self):
        ids = [i.id for i in self.incidents]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"incident ids must be unique: {sorted(dup)}")
        if self.cycle:
            cyc = parse_duration(self.cycle)
            for inc in self.incidents:
                off = parse_duration(inc.at)
                if off + parse_duration(inc.duration) > cyc:
                    raise ValueError(f"incident {inc.id}: at + duration runs past the {self.cycle} cycle")
        return self


# ----------------------------------------------------------------------------------------------------- fleets
# Default API quotas per account and Region (transactions per second), as the CloudWatch and CloudWatch Logs
# service-quota pages list them; an account with raised quotas sets its own in parameters/fleet.yaml.
DEFAULT_QUOTAS = {"GetMetricData": 50.0, "ListMetrics": 25.0, "DescribeAlarms": 9.0, "DescribeAlarmHistory": 9.0,
                  "FilterLogEvents": 5.0, "StartQuery": 5.0, "GetQueryResults": 5.0,
                  "LookupEvents": 2.0}  # CloudTrail's LookupEvents: 2 per second per account and Region


class FleetGenerate(Strict):
    """N simulated services for a demo fleet, each with its own resource names, seed and incident schedule."""

    count: int = Field(ge=1, le=100_000)
    prefix: str = Field("svc", pattern=r"^[a-z][a-z0-9-]{0,30}$")
    spread: str = Field("14d", description="the services' incident schedules are spread over this span")

    @field_validator("spread")
    @classmethod
    def _spread(cls, v):
        parse_duration(v)
        return v

    def environments(self, defaults: dict) -> dict[str, dict]:
        spread_min = int(parse_duration(self.spread).total_seconds() // 60)
        width = max(3, len(str(self.count)))
        out = {}
        for i in range(1, self.count + 1):
            name = f"{self.prefix}-{i:0{width}d}"
            # incident offsets on a golden-ratio sequence: evenly spread, no two services in step
            offset = int((i * 0.6180339887498949) % 1.0 * spread_min)
            res = {"alb": f"{name}-ALB", "log_group": f"/aws/amplify/{name}", "s3_bucket": f"{name}-storage",
                   "table_suffix": f"{name.replace('-', '')}-NONE"}
            out[name] = {"description": f"simulated service {i} of {self.count}", "source": "demo",
                         "demo": {"seed": i, "offset": f"{offset}m", "scale": round(0.5 + (i * 0.381966) % 1.5, 3)}
                         } | defaults | {"resources": res | dict(defaults.get("resources") or {})}
        return out


class Fleet(Strict):
    """Environments that run the same reports: one account per team, several Regions, staging and production."""

    name: str
    description: str = ""
    reports: list[str] = Field(description="reports run for every member (a member's own `reports` wins)")
    defaults: dict = Field({}, description="fields every member starts from (source, region, account, ...)")
    generate: FleetGenerate | None = None
    environments: dict[str, dict] = {}
    quotas: dict[str, float] = Field({}, description="API transactions per second per account and Region "
                                     "(over the file's top-level quotas)")

    @field_validator("reports")
    @classmethod
    def _reports(cls, v):
        if not v:
            raise ValueError("name at least one report")
        return v

    def member_data(self) -> dict[str, dict]:
        """Each member's environment fields (defaults, then the member's own), with ``fleet`` set."""
        out = self.generate.environments(self.defaults) if self.generate else {}
        for name, fields in self.environments.items():
            out[name] = dict(self.defaults) | dict(fields or {})
        return {k: {"name": k, "fleet": self.name} | v | {"reports": v.get("reports") or list(self.reports)}
                for k, v in out.items()}


class FleetFile(Strict):
    quotas: dict[str, float] = Field({}, description="API transactions per second per account and Region")
    fleets: dict[str, Fleet] = {}

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data):
        if isinstance(data, dict) and isinstance(data.get("fleets"), dict):
            data = dict(data)
            data["fleets"] = {k: ({"name": k} | (v or {})) for k, v in data["fleets"].items()}
        return data

    @field_validator("quotas")
    @classmethod
    def _quotas(cls, v):
        bad = [k for k, x in v.items() if not x or x <= 0]
        if bad:
            raise ValueError(f"quotas must be positive transactions per second: {bad}")
        return v

    def quotas_for(self, fleet: str) -> dict[str, float]:
        return DEFAULT_QUOTAS | self.quotas | self.fleets[fleet].quotas
