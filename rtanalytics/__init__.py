"""rtanalytics: observability analytics for AWS-hosted services.

The analyst's front door::

    import rtanalytics as rt
    rt.catalog().kpis                                   # the KPI table from parameters/
    df = rt.metrics(["availability", "error_rate"], start="-24h")          # KPI series
    df = rt.metrics([rt.MetricQuery("AWS/ApplicationELB", "RequestCount",
                                    {"LoadBalancer": "RealTechee-ALB"}, "Sum", 300)], start="-24h")
    rt.logs("/aws/amplify/RealTechee-Gen2/errors", start="-1h")
    rt.alarm_history(start="-7d"); rt.events(start="-7d")
    rt.run("kpis", start="-24h")                         # render a report into the project's outputs/
    team = rt.project("~/src/team-observability")      # a team's own project (default: found as the command does)
    team.catalog.kpis; team.metrics(["availability"]); team.run("slo", start="-7d")
"""

from __future__ import annotations

# The front door loads what a function needs when it is called (the runner, figures, anomaly scans): `import
# rtanalytics` in a kernel or a script stays cheap. Everywhere else in the package imports sit at the top.

from ._version import __version__  # noqa: E402,F401 (CHANGELOG.md's top entry)

import os as _os
import sys as _sys
from typing import Any, Iterable, Sequence

# The console script (`rtanalytics ...`) multiplies no matrices: the OpenBLAS threads numpy starts would only
# spin, 0.1 s of CPU in every command (bench/README.md, round eight). It loads numpy with one; nothing started
# later (a report's kernel) inherits the setting.
BLAS_LIMITED = (_os.path.basename(_sys.argv[0] if _sys.argv else "") == "rtanalytics"
                and "numpy" not in _sys.modules and not {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"} & set(_os.environ))
if BLAS_LIMITED:
    _os.environ["OPENBLAS_NUM_THREADS"] = "1"
try:
    import pandas as pd
finally:
    if BLAS_LIMITED:
        del _os.environ["OPENBLAS_NUM_THREADS"]

# Load the submodules whose names the front-door functions below reuse (logs, kpis) first, so that a later
# ``import rtanalytics.logs`` finds them loaded and does not rebind ``rt.logs`` to the module.
from . import kpis as _kpis_module  # noqa: F401
from . import logs as _logs_module  # noqa: F401
from .catalog import catalog
from .errors import CatalogError, ParameterError, ReportError, RtAnalyticsError, SourceError
from .parallel import source_workers, together
from .queries import MetricQuery
from .timewindow import TimeWindow, parse_duration, parse_time

__all__ = ["project", "Workspace", "catalog", "source", "metrics", "logs", "alarm_history", "events", "kpis", "anomalies", "run",
           "report_summary",
           "ledger", "parse_time", "parse_duration",
           "MetricQuery", "TimeWindow", "RtAnalyticsError", "ParameterError", "CatalogError", "SourceError",
           "ReportError", "setup_notebook", "show"]


class Workspace:
    """A project in a notebook: its paths, its catalog, its sources and the analyst API (the module-level
    functions, reading this project). Made by :func:`project`."""

    def __init__(self, proj):
        self.project = proj  # rtanalytics.settings.Project: root, name, parameters, outputs, cache

    def __repr__(self):
        return f"Workspace({self.project.label})"

    @property
    def catalog(self):
        return catalog(self.project.parameters)

    def check(self) -> list:
        """Every problem of the catalog (``rtanalytics check``)."""
        from .check import check

        return check(self.project)

    def source(self, name=None, environment="demo", **options):
        return source(name, environment, **options)

    def metrics(self, queries, **kw):
        return metrics(queries, **kw)

    def logs(self, log_group=None, **kw):
        return logs(log_group, **kw)

    def alarm_history(self, **kw):
        return alarm_history(**kw)

    def events(self, **kw):
        return events(**kw)

    def kpis(self, **kw):
        return kpis(**kw)

    def run(self, report: str, outputs=None, **params):
        return run(report, outputs=outputs, **params)


def project(path=None) -> Workspace:
    """Use the project at ``path`` — default: found as the command finds it (``$RTANALYTICS_PROJECT``, the
    current folder and its parents, else the bundled example) — for every ``rt`` call of this process and the
    reports it runs (it sets ``RTANALYTICS_PROJECT``). Returns the project's :class:`Workspace`."""
    from .settings import current

    proj = current(path)
    if not proj.bundled:
        _os.environ["RTANALYTICS_PROJECT"] = str(proj.root)
    return Workspace(proj)


def source(name: str | None = None, environment: str = "demo", **options):
    """A data source by name (``demo``, ``cloudwatch``, ``files``) for an environment of the catalog; without a
    name, the environment's own source (``production`` reads CloudWatch, never the demo)."""
    from .sources.base import get_source

    return get_source(name or catalog().environment(environment).source, environment=environment, **options)


def _src(src, environment):
    return source(src, environment) if (src is None or isinstance(src, str)) else src


def metrics(queries: Iterable[Any] | Any, start="-24h", end="now", source: Any = None, environment="demo",
            period: Any = "5m", stat: str | None = None) -> pd.DataFrame:
    """A wide metrics frame for ``queries`` over ``[start, end)``.

    ``period="auto"`` picks the finest period CloudWatch still retains for ``start`` (1 minute within 15 days,
    5 minutes within 63, else 1 hour). Each query may be a :class:`MetricQuery`, a ``MetricDataQuery`` dict, a dict of MetricQuery fields, a KPI
    name from the catalog (its per-period series) or an alarm name (the alarm's metric at its statistic).
    """
    from .alarms import load_alarms
    from .kpis import evaluate_kpis
    from .timewindow import period_seconds

    if isinstance(queries, (str, MetricQuery, dict)):
        queries = [queries]
    src = _src(source, environment)
    window = TimeWindow.parse(start, end)
    if str(period) == "auto":  # the finest period CloudWatch still retains for the window's start
        from .sources.cloudwatch import finest_period

        p = finest_period(window)
    else:
        p = period_seconds(period)
    cat = catalog()
    env = cat.environment(environment)
    frames, mq = [], []
    alarms = None
    for q in queries:
        if isinstance(q, MetricQuery):
            mq.append(q if stat is None else q.with_(stat=stat))
        elif isinstance(q, dict):
            mq.append(MetricQuery.from_cloudwatch(q) if ("MetricStat" in q or "Expression" in q)
                      else MetricQuery(**({"period": p} | q)))
        elif isinstance(q, str) and q in cat.kpis:
            frames.append(evaluate_kpis(cat.kpis, src, window, env.resources.substitutions(), p, [q])[1])
        elif isinstance(q, str):
            alarms = alarms if alarms is not None else {a.AlarmName: a for a in load_alarms(environment=environment)}
            if q not in alarms:
                raise ParameterError("queries", f"{q!r} is neither a KPI nor an alarm name",
                                     "MetricQuery objects, dicts, KPI names (" + ", ".join(cat.kpis) + ") or "
                                     "alarm names (" + ", ".join(alarms) + ")")
            mq.append(alarms[q].query())
    if mq:
        frames.insert(0, src.metrics(mq, window))
    return pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]


def logs(log_group: str | Sequence[str] | None = None, start="-1h", end="now", filter_pattern: str | None = None,
         source: Any = None, environment="demo") -> pd.DataFrame:
    """The logs frame of ``log_group`` (default: the environment's application log group). Several log groups
    (a list) are read at once on AWS (FilterLogEvents' quota still holds) and joined in time order; each row's
    ``log_group`` says where it came from."""
    src = _src(source, environment)
    groups = [log_group] if isinstance(log_group, str) else list(log_group or [])
    groups = groups or [catalog().environment(environment).resources.log_group]
    window = TimeWindow.parse(start, end)
    frames = together(*[lambda g=g: src.logs(g, window, filter_pattern) for g in groups],
                      workers=source_workers(src))
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True).sort_values("timestamp", kind="stable").reset_index(drop=True)


def alarm_history(start="-7d", end="now", alarm_names=None, source: Any = None, environment="demo"):
    """State changes of alarms over ``[start, end)``."""
    return _src(source, environment).alarm_history(TimeWindow.parse(start, end), alarm_names)


def events(start="-7d", end="now", source: Any = None, environment="demo") -> pd.DataFrame:
    """Timeline events (deploys; on the demo source, the scenario's incidents too)."""
    return _src(source, environment).events(TimeWindow.parse(start, end))


def kpis(start="-7d", end="now", source: Any = None, environment="demo", period="5m"):
    """The KPI table and series: ``(table, series)``."""
    from .kpis import evaluate_kpis
    from .timewindow import period_seconds

    cat = catalog()
    return evaluate_kpis(cat.kpis, _src(source, environment), TimeWindow.parse(start, end),
                         cat.environment(environment).resources.substitutions(), period_seconds(period))


def anomalies(data, settings=None):
    """Every anomaly episode (onset, end, rise or drop, strength) of a series, or of every column of a metrics
    frame, strongest first (see :mod:`rtanalytics.anomaly`)."""
    from .anomaly import anomalies as _one, scan

    if isinstance(data, pd.DataFrame):
        return scan(data, settings)
    return _one(data, settings)


def run(report: str, outputs=None, **params):
    """Render ``report`` with ``params`` into the project's ``outputs/`` (see ``rtanalytics run``); returns the
    :class:`~rtanalytics.reports.runner.RunResult`: ``status``, ``run_dir`` (the report is ``run_dir /
    'report.html'``) and ``summary`` (what ``summary.json`` holds)."""
    from .reports.runner import run_report

    return run_report(report, params, outputs=outputs)


def ledger(report: str | None = None, outputs=None):
    """Every run's key figures across time (``report, run_id, finished, status, key, value, text``)."""
    from .reports.ledger import read_ledger

    return read_ledger(outputs, report)


def report_summary(figures: dict, status: str = "ok", notes=None, provenance=None) -> None:
    """In a report notebook: hand the key figures to the runner (see :mod:`rtanalytics.reports.glue`)."""
    from .reports.glue import report_summary as _rs

    _rs(figures, status, notes, provenance)


def show(fig) -> None:
    """Show a plotly figure as the reports do: interactive in JupyterLab and kept by the offline HTML export
    (:func:`rtanalytics.figures.show`)."""
    from .figures import show as _show

    _show(fig)


def setup_notebook() -> None:
    """Make plotly figures render in JupyterLab and survive offline HTML export (``fig.show()`` then renders
    like :func:`show`)."""
    from .figures import use_offline_renderer

    use_offline_renderer()
    from .present import register_formatters

    register_formatters()  # every table through one formatting layer (units, em dash, no pandas index)
    pd.set_option("display.max_colwidth", 200)  # reasons, templates and findings are sentences: show them
    pd.set_option("display.max_rows", 100)
