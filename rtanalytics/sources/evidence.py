"""Recording what a run used, and saving it as an evidence bundle the ``files`` source reads back.

:class:`RecordingSource` wraps a source and keeps every answer it gave (metrics by query identity, ListMetrics
results, logs, alarm history, events). :meth:`RecordingSource.save_bundle` writes them with a manifest
(hashes, requests, versions); ``FilesSource(bundle)`` then answers the same questions with the same data, so
a report re-runs offline to identical figures. :func:`provenance` summarises a source stack for a run's
summary: the requests made, the cache's counters, a hash of the data, the package version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .._version import __version__
from ..catalog import catalog
from ..errors import AuthError, SourceError
from ..frames import empty_alarm_history, empty_events, empty_logs, utc_index
from ..logs import redact
from ..queries import MetricQuery
from ..retention import serve_period
from ..timewindow import TimeWindow, utcnow
from .base import get_source
from .cache import CachedSource

_UNITS = ("ns", "us", "ms", "s")
_UNIT_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


class RecordingSource:
    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.calls: list[dict] = []
        self._metrics: list[pd.DataFrame] = []
        self._list_metrics: list[dict] = []
        self._logs: list[pd.DataFrame] = []
        self._history: list[pd.DataFrame] = []
        self._events: list[pd.DataFrame] = []
        self._counts: list[pd.DataFrame] = []
        self._incidents: list[pd.DataFrame] = []
        self._health: list[pd.DataFrame] = []
        self._asked: set[str] = set()  # every query identity answered, empty or not
        self.problems: list[dict] = []  # what the log, alarm-history and event side could not answer
        self.raw_logs_saved = False

    def __getattr__(self, item):
        return getattr(self.inner, item)

    def metrics(self, queries: Sequence[MetricQuery], window: TimeWindow) -> pd.DataFrame:
        df = self.inner.metrics(queries, window)
        self.calls.append({"call": "metrics", "queries": len(queries), "start": window.start.isoformat(),
                           "end": window.end.isoformat()})
        ident = {q.label: q.identity() for q in queries}
        self._asked.update(ident.values())
        cols = [c for c in df.columns if c in ident]
        # kept as arrays (a copy: the caller may change its frame); the long frame is built once, when needed
        idx = utc_index(df.index)
        self._metrics.append(([ident[c] for c in cols], idx.asi8.copy(), idx.unit,
                              df[cols].to_numpy(dtype="float64", copy=True)))
        return df

    def list_metrics(self, namespace=None, metric=None, dimensions=None):
        res = self.inner.list_metrics(namespace, metric, dimensions)
        self.calls.append({"call": "list_metrics", "namespace": namespace, "metric": metric})
        self._list_metrics.append({"namespace": namespace, "metric": metric, "dimensions": dimensions,
                                   "result": [[m.namespace, m.metric, [list(d) for d in m.dimensions]] for m in res]})
        return res

    def _guard(self, kind: str, what: str, window, fn, empty):
        """Call ``fn``; a source error (other than authentication) makes this part of the run incomplete —
        recorded in :attr:`problems` with what was asked — instead of failing the whole run."""
        try:
            return fn()
        except AuthError:
            raise
        except SourceError as e:
            self.problems.append({"query": what, "id": kind, "start": window.start.isoformat(),
                                  "end": window.end.isoformat(), "reason": str(e), "kind": kind})
            return empty()

    def logs(self, log_group, window, filter_pattern=None):
        what = f"logs {log_group}" + (f" filter {filter_pattern}" if filter_pattern else "")
        df = self._guard("logs", what, window, lambda: self.inner.logs(log_group, window, filter_pattern),
                         empty_logs)
        self.calls.append({"call": "logs", "log_group": log_group, "filter": filter_pattern,
                           "start": window.start.isoformat(), "end": window.end.isoformat(), "rows": len(df)})
        self._logs.append(df.assign(_request=f"{log_group}|{filter_pattern or ''}", _answer=str(len(self._logs))))
        return df

    def log_counts(self, log_group, window, level="error", bin_s=300):
        """Log events per bin, counted by the source's own engine (Logs Insights on CloudWatch)."""
        fn = getattr(self.inner, "log_counts")
        s = self._guard("logs", f"Logs Insights count of {level or 'all'} events in {log_group}", window,
                        lambda: fn(log_group, window, level, bin_s), lambda: pd.Series(dtype="float64", name="n"))
        self.calls.append({"call": "log_counts", "log_group": log_group, "level": level, "bin_s": bin_s,
                           "start": window.start.isoformat(), "end": window.end.isoformat()})
        self._counts.append(pd.DataFrame({"request": f"{log_group}|{level or ''}|{bin_s}",
                                          "timestamp": s.index, "n": s.to_numpy(dtype="float64")}))
        return s

    def incidents(self, window):
        """The source's ground-truth incidents (the demo's scenario, or a bundle that recorded them)."""
        df = self.inner.incidents(window)
        self.calls.append({"call": "incidents", "start": window.start.isoformat(), "end": window.end.isoformat()})
        self._incidents.append(df)
        return df

    def health_history(self, window, read):
        """The health checks' results in ``window`` (``timestamp, check_name, status, ...``): a bundle answers
        with what it recorded, any other source with ``read(source, window)`` (the health checks' own reading of
        their history store, handed down by :func:`rtanalytics.health.history_in`). Recorded, so an incident
        re-runs from its evidence alone."""
        inner = unwrap(self)
        if hasattr(inner, "recorded_health_history"):
            hist = inner.recorded_health_history(window)
        else:
            hist = read(inner, window)
        self._health.append(hist)
        self.calls.append({"call": "health_history", "start": window.start.isoformat(),
                           "end": window.end.isoformat(), "rows": len(hist)})
        return hist

    def alarm_history(self, window, alarm_names=None):
        what = "alarm history" + (f" of {', '.join(alarm_names)}" if alarm_names else "")
        df = self._guard("alarm-history", what, window, lambda: self.inner.alarm_history(window, alarm_names),
                         empty_alarm_history)
        self.calls.append({"call": "alarm_history", "start": window.start.isoformat(), "end": window.end.isoformat()})
        self._history.append(df)
        return df

    def events(self, window):
        df = self._guard("events", "change events", window, lambda: self.inner.events(window), empty_events)
        self.calls.append({"call": "events", "start": window.start.isoformat(), "end": window.end.isoformat()})
        self._events.append(df)
        return df

    # ------------------------------------------------------------------------------------------------ output
    def metrics_long(self) -> pd.DataFrame:
        """Every datapoint answered, ``identity, timestamp, value`` sorted by identity then time (missing values
        left out; a datapoint answered twice keeps its last answer). Whole arrays: no frame per call."""
        return self._metrics_frame(categorical=False)

    def _metrics_frame(self, categorical: bool) -> pd.DataFrame:
        """:meth:`metrics_long`; with ``categorical`` the identities as a categorical (hashed by value like the
        strings, without making 100,000 string objects: what :meth:`data_hash` uses)."""
        if not self._metrics:
            return pd.DataFrame({"identity": pd.Series(dtype=str), "timestamp": pd.Series(dtype="datetime64[ns, UTC]"),
                                 "value": pd.Series(dtype=float)})
        names = sorted({i for ids, *_ in self._metrics for i in ids})
        code_of = {n: k for k, n in enumerate(names)}
        unit = min((u for _, _, u, _ in self._metrics), key=lambda u: _UNITS.index(u))  # the finest one
        codes, stamps, values = [], [], []
        for ids, i8, u, vals in self._metrics:
            nrows, ncols = vals.shape
            v = vals.ravel()  # row by row: each timestamp's columns in turn
            keep = ~np.isnan(v)
            values.append(v[keep])
            scale = _UNIT_NS[u] // _UNIT_NS[unit]
            stamps.append(np.repeat(i8 * scale, ncols)[keep])
            codes.append(np.tile(np.fromiter((code_of[i] for i in ids), np.int64, ncols), nrows)[keep])
        code, ts, val = np.concatenate(codes), np.concatenate(stamps), np.concatenate(values)
        order = np.lexsort((np.arange(code.size), ts, code))  # identity, time, then the order answered
        code, ts, val = code[order], ts[order], val[order]
        last = np.ones(code.size, dtype=bool)  # the last answer of each (identity, time)
        last[:-1] = (code[1:] != code[:-1]) | (ts[1:] != ts[:-1])
        code, ts, val = code[last], ts[last], val[last]
        ident = (pd.Categorical.from_codes(code, categories=pd.Index(names, dtype="str")) if categorical else
                 pd.array(np.asarray(names, dtype=object)[code], dtype="str"))
        return pd.DataFrame({"identity": ident,
                             "timestamp": pd.DatetimeIndex(ts.view(f"M8[{unit}]")).tz_localize("UTC"),
                             "value": val})

    def data_hash(self) -> str:
        h = hashlib.sha256()
        # the metrics' part once per set of recorded frames (a report asks for its provenance several times:
        # status line, table, notes, publish); they are copies nobody else holds, so only appends change them
        cached = self.__dict__.get("_metrics_digest")
        if cached is None or cached[0] != len(self._metrics):
            m = self._metrics_frame(categorical=True)
            cached = self.__dict__["_metrics_digest"] = (
                len(self._metrics), pd.util.hash_pandas_object(m, index=False).to_numpy().tobytes())
        h.update(cached[1])
        for frames in (self._logs, self._history, self._events):
            for df in frames:
                h.update(pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes())
        return h.hexdigest()

    def save_bundle(self, folder: Path | str, raw_logs: bool = False) -> Path:
        """Write the evidence bundle (see module docstring) into ``folder``; returns the manifest path.

        Log text is stored redacted (:func:`rtanalytics.logs.redact`: emails, IPs, phones, tokens, secrets)
        unless ``raw_logs`` — an explicit choice, recorded in the manifest and the run's provenance."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = {}

        def put(name, df):
            if df is None:
                return
            path = folder / name
            df.to_parquet(path, index=False)
            files[name] = hashlib.sha256(path.read_bytes()).hexdigest()

        put("metrics.parquet", self.metrics_long())
        if self._logs:
            logs = pd.concat(self._logs, ignore_index=True)
            logs = logs.astype({c: "string" for c in logs.columns if logs[c].dtype == object})
            if not raw_logs:
                for c in logs.columns:
                    if c in ("message",) or c.startswith("error.") or c in ("stream",):
                        logs[c] = redact(logs[c].astype("string"))
            put("logs.parquet", logs)
        if self._history:
            put("alarm_history.parquet", pd.concat(self._history, ignore_index=True).drop_duplicates())
        if self._health:
            hh = pd.concat([h for h in self._health if len(h)], ignore_index=True) if any(
                len(h) for h in self._health) else pd.DataFrame(columns=["timestamp", "check_name", "status"])
            hh = hh.astype({c: "string" for c in hh.columns if hh[c].dtype == object})
            put("health_history.parquet", hh.drop_duplicates())
        if self._incidents:
            inc = pd.concat(self._incidents, ignore_index=True)
            inc = inc.astype({c: "string" for c in inc.columns if inc[c].dtype == object and c != "metrics"})
            if "metrics" in inc:
                inc["metrics"] = inc["metrics"].map(lambda m: json.dumps(list(m)) if m is not None else "[]")
            put("incidents.parquet", inc.drop_duplicates())
        if self._counts:
            put("log_counts.parquet", pd.concat(self._counts, ignore_index=True).drop_duplicates(
                ["request", "timestamp"], keep="last"))
        if self._events:
            ev = pd.concat(self._events, ignore_index=True)
            put("events.parquet", ev.astype({c: "string" for c in ev.columns if ev[c].dtype == object}).drop_duplicates())
        (folder / "list_metrics.json").write_text(json.dumps(self._list_metrics, indent=1))
        manifest = {"kind": "rtanalytics-evidence", "created": utcnow().isoformat(), "source": self.name,
                    "environment": getattr(getattr(self.inner, "environment", None), "name", None),
                    "rtanalytics_version": __version__, "files": files, "data_sha256": self.data_hash(),
                    "queries": sorted(self._asked), "problems": provenance(self).get("problems", []),
                    "source_now": source_now(self).isoformat(), "logs_redacted": not raw_logs,
                    "retention_tiers": bool(getattr(unwrap(self), "retention_tiers", True)),
                    "calls": self.calls}
        self.raw_logs_saved = self.raw_logs_saved or bool(raw_logs and self._logs)
        path = folder / "manifest.json"
        path.write_text(json.dumps(manifest, indent=1, default=str))
        return path


def unwrap(src):
    """The source underneath the recording and cache layers."""
    while type(src).__name__ in ("RecordingSource", "CachedSource"):
        src = src.inner
    return src


def _unwrap(src):
    chain = []
    while src is not None:
        chain.append(src)
        src = getattr(src, "inner", None) if type(src).__name__ in ("RecordingSource", "CachedSource") else None
    return chain


def provenance(src) -> dict:
    """What a report was computed from: source, requests, cache counters, data hash, versions, problems."""
    chain = _unwrap(src)
    inner = chain[-1]
    out = {"source": inner.name, "environment": getattr(getattr(inner, "environment", None), "name", None),
           "rtanalytics_version": __version__}
    for s in chain:
        if type(s).__name__ == "RecordingSource":
            out["data_sha256"] = s.data_hash()
            out["calls"] = s.calls
            if s.raw_logs_saved:
                out["evidence_logs"] = "raw (personal data NOT redacted: saved on request)"
        if type(s).__name__ == "CachedSource":
            out["cache"] = s.stats.as_dict()
    aws = getattr(inner, "aws", None)
    if aws is not None:
        out["api_calls"] = aws.api_calls
        out["requests"] = aws.requests
        out["region"] = aws.region
        if getattr(aws, "attempts", None):  # every HTTP attempt by API, the health probes' and retries included
            out["api_attempts"] = dict(sorted(aws.attempts.items()))
    elif inner.name == "demo":
        out["demo_now"] = inner.now.isoformat()
        out["scenario"] = inner.scenario.name
    problems = list(getattr(inner, "problems", None) or [])
    for s in chain:
        if type(s).__name__ == "RecordingSource":
            problems += s.problems
    out["problems"] = problems
    if getattr(inner, "notes", None):
        out["source_notes"] = list(inner.notes)
    stats = getattr(inner, "insights_stats", None)
    if stats:
        out["logs_insights"] = {"queries": len(stats),
                                "bytes_scanned": sum(x["bytes_scanned"] for x in stats),
                                "records_matched": sum(x["records_matched"] for x in stats),
                                "records_scanned": sum(x["records_scanned"] for x in stats)}
    out["complete"] = not out["problems"]
    return out


def open_source(name: str | None = None, environment: str = "demo", now=None, cache: bool | None = None,
                cache_dir=None, files_path: str = "", **options) -> RecordingSource:
    """The source stack a report uses: recording, over the Parquet cache (on by default for ``cloudwatch``),
    over the named source. Without a name, the environment's own ``source`` (so ``environment=production``
    reads CloudWatch, never the demo labelled production)."""
    if not name:
        name = catalog().environment(environment).source
    kw = dict(options)
    if name == "files":
        kw.setdefault("path", files_path or None)
    if name in ("demo", "cloudwatch") and now is not None:
        kw["now"] = now
    src = get_source(name, environment=environment, **kw)
    if cache if cache is not None else name == "cloudwatch":
        src = CachedSource(src, cache_dir=cache_dir, now=now)
    return RecordingSource(src)


def served_period(src, period: int, start, now) -> int:
    """The period a report can read from ``src`` for a window starting at ``start``: CloudWatch's retention tiers
    (1-minute data for 15 days, 5-minute for 63, 1-hour for 455) are a property of a source that keeps data
    that way (``retention_tiers``: CloudWatch and the demo, which models it); a folder of exports keeps what it
    holds at the period it was recorded, whatever its age."""
    if not getattr(unwrap(src), "retention_tiers", True):
        return period
    return serve_period(period, start, now)


def source_now(src):
    """The instant a source answers as of: its frozen ``now`` (demo, tests) or the current time."""
    return getattr(unwrap(src), "now", None) or utcnow()


def provenance_frame(prov: dict) -> pd.DataFrame:
    """A two-column table of a provenance dict for reports (requests summarised, problems listed)."""
    rows = [("source", prov.get("source")), ("environment", prov.get("environment"))]
    if "region" in prov:
        rows.append(("region", prov["region"]))
    if "api_calls" in prov:
        apis = pd.Series([r["api"] for r in prov.get("requests", [])]).value_counts()
        rows.append(("AWS API calls", ", ".join(f"{k} x{v}" for k, v in apis.items()) or "0"))
    if "cache" in prov:
        c = prov["cache"]
        rows.append(("cache", f"{c['hits']} hits, {c['misses']} misses, {c['refetched_recent']} recent refetched"))
    if "logs_insights" in prov:
        li = prov["logs_insights"]
        rows.append(("Logs Insights", f"{li['queries']} queries, {li['bytes_scanned'] / 1e6:,.1f} MB scanned, "
                                      f"{li['records_matched']:,.0f} records matched"))
    if "demo_now" in prov:
        rows.append(("demo clock", prov["demo_now"]))
    rows.append(("data requests", len(prov.get("calls", []))))
    rows.append(("data sha256", (prov.get("data_sha256") or "")[:16]))
    rows.append(("complete", "yes" if prov.get("complete", True) else
                 f"no: {len(prov.get('problems', []))} queries/slices missing (see notes)"))
    rows.append(("rtanalytics", prov.get("rtanalytics_version")))
    return pd.DataFrame(rows, columns=["what", "value"]).astype({"value": str})
