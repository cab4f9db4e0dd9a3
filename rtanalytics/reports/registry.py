"""The reports: one notebook each, with a parameter schema checked before any kernel starts."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..alarms import load_alarms
from ..catalog import catalog, known_reports
from ..errors import ParameterError
from ..iac import import_alarms
from ..retention import check_period, finest_period, serve_period
from ..sources.base import source_names
from ..timewindow import TIME_HELP, parse_duration, parse_time, period_seconds, to_utc, utcnow
from .result import parse_compare

#: the report notebooks, shipped in the package (``rtanalytics/notebooks``; the checkout's ``notebooks/`` links here)
NOTEBOOKS = Path(str(files("rtanalytics") / "notebooks"))


class CommonParams(BaseModel):
    """Parameters every report takes."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field("", description="where data comes from: demo, cloudwatch or files (default: the "
                        "environment's own source, so environment=production reads CloudWatch)")
    environment: str = Field("demo", description="an environment from parameters/environments.yaml")
    start: str = Field("-7d", description=f"window start: {TIME_HELP}")
    end: str = Field("now", description="window end (same forms as start)")
    files_path: str = Field("", description="with source=files: the folder of exported data or evidence bundle")
    evidence: bool = Field(False, description="save the exact data used as an evidence bundle in the run folder")
    compare: str = Field("", description="also compute the headline over another window, side by side: previous "
                         "(the window before, same length), last-week (the same window a week earlier) or "
                         "START/END (ISO 8601)")

    @field_validator("compare")
    @classmethod
    def _compare(cls, v):
        parse_compare(v)  # raises ValueError naming what it accepts
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v):
        if v and v not in source_names():
            raise ValueError(f"unknown source {v!r}; accepts {', '.join(source_names())}")
        return v

    @field_validator("files_path")
    @classmethod
    def _files(cls, v, info):
        if info.data.get("source") == "files":
            if not v:
                raise ValueError("source 'files' needs files_path: the folder of exported data")
            if not Path(v).is_dir():
                raise ValueError(f"files_path {v!r} is not a folder")
        return v

    @field_validator("environment")
    @classmethod
    def _env(cls, v):
        envs = catalog().environments
        if v not in envs:
            raise ValueError(f"unknown environment {v!r}; accepts {', '.join(sorted(envs))}")
        return v

    @field_validator("start")
    @classmethod
    def _start(cls, v):
        """``start`` read before any kernel starts: not a time, or in the future, is refused naming it (an end in
        the future is clipped to now by the report, which says so)."""
        now = utcnow()
        s = parse_time(v, now)
        if s >= now:
            raise ValueError(f"{s:%Y-%m-%d %H:%M} UTC is in the future (a report reads what has happened)")
        return v

    @field_validator("end")
    @classmethod
    def _end(cls, v, info):
        now = utcnow()
        e = parse_time(v, now)
        if "start" in info.data:
            s = parse_time(info.data["start"], now)
            if e <= s:
                raise ValueError(f"{e:%Y-%m-%d %H:%M} UTC is not after start {s:%Y-%m-%d %H:%M} UTC")
        return v


class KpiParams(CommonParams):
    period: str = Field("5m", description="chart resolution, a CloudWatch period (60 s multiples: 1m, 5m, 1h); "
                        "for windows starting over 15 days ago CloudWatch keeps 5-minute data, over 63 days 1-hour: "
                        "the default moves to the finest kept, an explicit finer one is refused")
    kpis: list[str] = Field([], description="KPI names to include (empty: all of parameters/kpis.yaml)")

    @field_validator("period")
    @classmethod
    def _period(cls, v):
        if period_seconds(v) < 60:
            raise ValueError("period must be at least 1 minute")
        return v

    @field_validator("kpis")
    @classmethod
    def _kpis(cls, v):
        known = catalog().kpis
        bad = [k for k in v if k not in known]
        if bad:
            raise ValueError(f"unknown KPI {bad}; accepts {', '.join(known)}")
        return v


class AlarmParams(CommonParams):
    start: str = Field("-14d", description=f"window start: {TIME_HELP}")
    alarms_from: str = Field("catalog", description="catalog (parameters/alarms.yaml), aws (DescribeAlarms), or "
                             "a Terraform/CloudFormation file or folder (its CloudWatch alarms)")
    sweep_alarm: str = Field("RealTechee-Critical-Error-Rate", description="the alarm whose threshold x M-of-N "
                             "grid is swept")
    thresholds: list[float] = Field([], description="thresholds for the sweep (empty: 0.5x, 1x, 2x, 4x the current)")
    incidents_file: str = Field("", description="CSV of incidents (start,end[,id]) when the source has no ground truth")

    @field_validator("incidents_file")
    @classmethod
    def _incidents_file(cls, v):
        if v and not Path(v).is_file():
            raise ValueError(f"{v!r} is not a file (a CSV of incidents: start,end[,id])")
        return v

    @field_validator("alarms_from")
    @classmethod
    def _from(cls, v):
        if v not in ("catalog", "aws") and not Path(v).exists():
            raise ValueError(f"alarms_from must be 'catalog', 'aws' or an existing Terraform/CloudFormation file or "
                             f"folder ({v!r} is none of them)")
        if v not in ("catalog", "aws"):
            try:
                found = import_alarms(v)
            except Exception as e:  # a file that does not parse: refused here, with its file and line
                raise ValueError(str(e)) from None
            if not found.alarms:
                raise ValueError(f"no importable alarm in {v}: " + "; ".join(found.problems()[:5]))
            return str(Path(v).resolve())
        return v

    @field_validator("sweep_alarm")
    @classmethod
    def _sweep(cls, v, info):
        frm = info.data.get("alarms_from", "catalog")
        if frm not in ("catalog", "aws") and v:  # from infrastructure code: one of its alarms, else the first

            names = [a.AlarmName for a in import_alarms(frm).alarms]
            if v in names:
                return v
            if v == cls.model_fields["sweep_alarm"].default:  # the seed's default is not a team's alarm: its first
                return names[0]
            raise ValueError(f"no alarm named {v!r} in {frm}; accepts {', '.join(names)}")
        if frm == "catalog" and v:
            names = [a.AlarmName for a in load_alarms(environment=info.data.get("environment") or "demo")]
            if v not in names:
                raise ValueError(f"no alarm named {v!r} in parameters/alarms.yaml; accepts {', '.join(names)}")
        return v


class SloParams(CommonParams):
    start: str = Field("-30d", description=f"start of the charts' range (each SLO uses its own window): {TIME_HELP}")
    slos: list[str] = Field([], description="SLO names from parameters/slos/ (empty: all)")
    exclude: list[str] = Field([], description="periods to exclude: 'deploys' or ISO START/END intervals")

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, v):
        for item in v:
            if item == "deploys":
                continue
            parts = item.split("/")
            if len(parts) != 2:
                raise ValueError(f"cannot read {item!r}: use 'deploys' or START/END")
            try:
                a, b = to_utc(parts[0]), to_utc(parts[1])
            except ValueError:
                raise ValueError(f"cannot read {item!r}: times must be ISO 8601") from None
            if not a < b:
                raise ValueError(f"{item!r}: start is not before end")
        return v


class IncidentParams(CommonParams):
    start: str = Field("-14d", description="unused by this report (the incident window decides)")
    incident_start: str = Field("", description="incident start (ISO UTC or relative); empty: from alarm/at, or "
                                "on the demo the latest injected incident")
    incident_end: str = Field("", description="incident end (default: start + 1h)")
    alarm: str = Field("", description="an alarm name: the incident is its ALARM period around 'at'")
    at: str = Field("", description="with alarm: a time when it was in ALARM (default now); alone: the incident "
                    "around that time (the injected incident there, on the demo; else the hour around it)")
    lookback: str = Field("3h", description="baseline before the incident (duration)")
    after: str = Field("1h", description="how long after the incident to keep looking")
    namespaces: list[str] = Field([], description="restrict signals to these namespaces (empty: all)")
    symptom: str = Field("", description="the primary symptom's signal label (default: the ALB 5XX count)")
    show_personal_data: bool = Field(False, description="show emails, IPs, phone numbers and tokens in log excerpts")

    @field_validator("lookback", "after")
    @classmethod
    def _dur(cls, v):
        parse_duration(v)
        return v

    @field_validator("incident_start", "incident_end", "at")
    @classmethod
    def _when(cls, v, info):
        if v:
            now = utcnow()
            t = parse_time(v, now)  # "notatime" is refused here, naming the field, not in the kernel
            if t > now + timedelta(minutes=1) and info.field_name != "incident_end":
                raise ValueError(f"{t:%Y-%m-%d %H:%M} UTC is in the future: an incident is analysed after it began")
        return v

    @field_validator("incident_end")
    @classmethod
    def _incident_end(cls, v, info):
        if not v:
            return v
        start = info.data.get("incident_start")
        if not start:
            raise ValueError("give incident_start too (the end alone does not say when it began)")
        now = utcnow()
        s, e = parse_time(start, now), parse_time(v, now)
        if not s < e:
            raise ValueError(f"{e:%Y-%m-%d %H:%M} UTC is not after incident_start {s:%Y-%m-%d %H:%M} UTC")
        return v

    @field_validator("alarm")
    @classmethod
    def _alarm_known(cls, v, info):
        """An alarm the source cannot have is refused before any kernel starts: the demo simulates exactly the
        catalog's alarms (CloudWatch and an export folder may hold others, found when the report reads them)."""
        if not v or "environment" not in info.data:
            return v

        env = info.data["environment"]
        source = info.data.get("source") or catalog().environment(env).source
        if source == "demo":
            names = [a.AlarmName for a in load_alarms(environment=env)]
            if v not in names:
                raise ValueError(f"no alarm named {v!r} in parameters/alarms.yaml (the demo's alarms); "
                                 f"accepts {', '.join(names)}")
        return v


class CapacityParams(CommonParams):
    start: str = Field("-90d", description=f"start of the history the forecasts learn from: {TIME_HELP}")
    horizon: str = Field("", description="how far ahead to forecast (default: parameters/capacity.yaml, 30d)")

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, v):
        if v:
            parse_duration(v)  # "banana" is refused before any kernel, naming horizon
        return v
    growth: list[float] = Field([1.0, 2.0, 5.0], description="traffic multipliers for the what-if columns")

    @field_validator("growth")
    @classmethod
    def _growth(cls, v):
        if any(g <= 0 for g in v):
            raise ValueError("growth multipliers must be positive")
        return v


class WeeklyParams(CommonParams):
    start: str = Field("-7d", description="unused: the week is the 7 days before end")
    end: str = Field("today", description="end of the week analysed (default today 00:00 UTC)")


class DashboardParams(CommonParams):
    start: str = Field("-24h", description=f"window start: {TIME_HELP}")


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    notebook: Path
    params: type[CommonParams]
    description: str

    def fields(self) -> dict[str, Any]:
        return self.params.model_fields


def builtin_reports() -> list[Report]:
    """The reports this package ships (registered, like any team's, under the ``rtanalytics.reports``
    entry-point group in pyproject.toml)."""
    return [
        Report("kpis", "KPI status", NOTEBOOKS / "kpis.ipynb", KpiParams,
               "The seed's seven KPIs against target and alert threshold over a window."),
        Report("slo", "SLOs and error budgets", NOTEBOOKS / "slo.ipynb", SloParams,
               "The seed's KPIs as OpenSLO SLOs: attainment, budgets, burn rates, multiwindow alerting."),
        Report("incident", "Incident forensics", NOTEBOOKS / "incident.ipynb", IncidentParams,
               "The postmortem: timeline, what moved first, error signatures, impact and the standard times."),
        Report("capacity", "Capacity planning", NOTEBOOKS / "capacity.ipynb", CapacityParams,
               "Forecasts with intervals, time to threshold, growth what-ifs and backtested accuracy."),
        Report("weekly-performance", "Weekly performance analysis", NOTEBOOKS / "weekly-performance.ipynb",
               WeeklyParams, "The seed's weekly analysis: response times, volume, DynamoDB, business, Core Web Vitals."),
        Report("dashboards", "CloudWatch dashboards", NOTEBOOKS / "dashboards.ipynb", DashboardParams,
               "The dashboards of parameters/dashboards/ (console JSON) drawn as on the console grid."),
        Report("health", "Health checks", NOTEBOOKS / "health.ipynb", CommonParams,
               "The seven health checks now, their history, correlation with the KPIs, and the log-retention audit."),
        Report("daily-ops", "Daily operations check", NOTEBOOKS / "daily-ops.ipynb", WeeklyParams,
               "The seed's six-part daily checklist for the 24 hours before end."),
        Report("alarms", "Alarms: backtest, what-if, routing and audit", NOTEBOOKS / "alarms.ipynb", AlarmParams,
               "The seed's alarms replayed over history against incidents, tuned, routed and audited."),
    ]


def discover(group: str = "rtanalytics.reports") -> list[Report]:
    """Reports declared by installed packages under ``group`` — as papermill finds its engines: an entry point
    names a :class:`Report`, a list of them, or a function returning either. A plugin that fails to load is
    reported on stderr and skipped; it never breaks the other reports."""
    out = []
    for ep in entry_points(group=group):
        try:
            obj = ep.load()
            if callable(obj) and not isinstance(obj, Report):
                obj = obj()
        except Exception as e:  # a broken plugin: said, skipped
            print(f"rtanalytics: report plugin {ep.name!r} ({ep.value}) not loaded: {type(e).__name__}: {e}",
                  file=sys.stderr)
            continue
        for r in obj if isinstance(obj, (list, tuple)) else [obj]:
            if isinstance(r, Report) and Path(r.notebook).is_file():
                out.append(r)
            else:
                print(f"rtanalytics: report plugin {ep.name!r} gave {r!r}, not a Report with a notebook",
                      file=sys.stderr)
    return out


def _all_reports() -> dict[str, Report]:
    reports = {r.name: r for r in builtin_reports()}
    for r in discover():
        reports.setdefault(r.name, r)  # a plugin never replaces a built-in report
    return reports


REPORTS: dict[str, Report] = _all_reports()
known_reports(REPORTS)  # the catalog checks environments' report lists against these (it cannot import them)


def get_report(name: str) -> Report:
    if name not in REPORTS:
        raise ParameterError("report", f"unknown report {name!r}", ", ".join(sorted(REPORTS)))
    return REPORTS[name]


def resolve_params(report: Report, raw: dict[str, Any], now=None) -> dict[str, Any]:
    """Validate ``raw`` against the report's schema and resolve relative times once, against ``now``.

    String values (from ``-p NAME VALUE``) for non-string fields are read as YAML (``-p kpis '[a, b]'``).
    Returns plain JSON-able values, ``start``/``end`` as ISO 8601 UTC instants. Raises
    :class:`ParameterError` naming the first bad parameter and what it accepts.
    """
    fields = report.fields()
    unknown = [k for k in raw if k not in fields]
    if unknown:
        raise ParameterError(unknown[0], f"not a parameter of report {report.name!r}",
                             ", ".join(fields))
    values = {}
    for k, v in raw.items():
        ann = fields[k].annotation
        if isinstance(v, str) and ann is not str:
            try:
                v = yaml.safe_load(v)
            except yaml.YAMLError:
                pass
        if ann is str and not isinstance(v, str) and v is not None:
            v = str(v)
        values[k] = v
    try:
        p = report.params.model_validate(values)
    except ValidationError as e:
        err = e.errors()[0]
        name = ".".join(str(x) for x in err["loc"]) or "?"
        f = fields.get(str(err["loc"][0])) if err["loc"] else None
        raise ParameterError(name, err["msg"].removeprefix("Value error, "),
                             f.description if f is not None else None) from None
    out = p.model_dump()
    try:
        start = parse_time(out["start"], now)
    except ValueError as e:
        raise ParameterError("start", str(e), TIME_HELP) from None
    try:
        end = parse_time(out["end"], now)
    except ValueError as e:
        raise ParameterError("end", str(e), TIME_HELP) from None
    if not start < end:
        raise ParameterError("end", f"window end {end.isoformat()} is not after start {start.isoformat()}",
                             "an end later than start")
    reached = min(end, to_utc(now) if now is not None else utcnow())  # the report clips a future end to now
    if (reached - start).total_seconds() > 455 * 86400:
        raise ParameterError("start", "window longer than 455 days, CloudWatch's longest retention",
                             "a window of at most 455 days")
    if not out.get("source"):
        out["source"] = catalog().environment(out["environment"]).source
    if "period" in fields and out.get("period") and out["source"] != "files":  # an export has no retention tiers
        at = to_utc(now) if now is not None else utcnow()
        per = period_seconds(out["period"])
        why = check_period(per, start, at)
        if why is not None and "period" in raw:
            raise ParameterError("period", why, f"a period of at least {finest_period(start, at)} s (and a "
                                 f"multiple of it) for a window starting {start:%Y-%m-%d %H:%M} UTC")
        if why is not None:
            out["period"] = f"{serve_period(per, start, at)}s"
    out["start"], out["end"] = start.isoformat(), end.isoformat()
    out["requested_start"], out["requested_end"] = p.start, p.end
    return out
