"""The ``files`` source: data exported earlier, for offline postmortems and evidence.

A folder holding any of:

* an evidence bundle written by a run (``manifest.json``, ``metrics.parquet``, ``logs.parquet``,
  ``alarm_history.parquet``, ``events.parquet``, ``list_metrics.json``) — read back to identical figures;
* what the AWS CLI prints as JSON: ``aws cloudwatch get-metric-data`` (``MetricDataResults``; put the request's
  ``--metric-data-queries`` list in ``queries.json`` so results match queries by what they ask for, otherwise
  by Id or Label), ``aws cloudwatch describe-alarm-history`` (``AlarmHistoryItems``) and ``aws logs
  filter-log-events`` (``events``; the log group is the file's ``logGroupName`` key if present, else its name
  with ``__`` for ``/``, e.g. ``__aws__amplify__RealTechee-Gen2.json``);
* CSV or Parquet metric tables, long (``timestamp, label, value``) or wide (a ``timestamp`` column and one
  column per label).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import SourceError
from ..frames import empty_alarm_history, empty_events, empty_logs
from ..logs import filter_mask
from ..queries import MetricQuery
from ..timewindow import TimeWindow
from .base import MetricId, assemble, mark_incomplete, match_metric, problem, register_source


class FilesSource:
    name = "files"

    def __init__(self, path: str | Path | None = None, environment="demo", **_):
        from ..catalog import catalog

        if path is None:
            raise SourceError("the files source needs a folder: get_source('files', path=...) or -p files_path")
        self.path = Path(path)
        if not self.path.is_dir():
            raise SourceError(f"files source: {self.path} is not a folder")
        self.environment = catalog().environment(environment) if isinstance(environment, str) else environment
        self.by_identity: dict[str, pd.Series] = {}
        self.by_name: dict[str, pd.Series] = {}
        self._logs: list[pd.DataFrame] = []
        self._history: list[pd.DataFrame] = []
        self._events: list[pd.DataFrame] = []
        self._list_metrics: list[dict] = []
        self.skipped: list[str] = []
        self.problems: list[dict] = []
        self.now = None  # an evidence bundle sets the clock its data was read at
        self._load()

    # --------------------------------------------------------------------------------------------- loading
    def _load(self):
        p = self.path
        if (p / "metrics.parquet").exists():
            m = pd.read_parquet(p / "metrics.parquet")
            for ident, g in m.groupby("identity", sort=False):
                self.by_identity[ident] = pd.Series(g["value"].to_numpy(), index=pd.DatetimeIndex(g["timestamp"]))
        for name, target in (("logs.parquet", self._logs), ("alarm_history.parquet", self._history),
                             ("events.parquet", self._events)):
            if (p / name).exists():
                target.append(pd.read_parquet(p / name))
        self.asked: set[str] = set()
        if (p / "manifest.json").exists():
            try:
                man = json.loads((p / "manifest.json").read_text())
            except ValueError as e:
                raise SourceError(f"files source: manifest.json is not JSON ({e})") from None
            self.asked = set(man.get("queries", []))
            if man.get("source_now"):  # the recorded source's clock: retention tiers are judged as they were
                self.now = pd.Timestamp(man["source_now"])
            self.problems += list(man.get("problems", []))  # what the recorded run could not get stays missing
        if (p / "incidents.parquet").exists():  # ground truth recorded by the run: answered like the source did
            inc = pd.read_parquet(p / "incidents.parquet")
            if "metrics" in inc:
                inc["metrics"] = inc["metrics"].map(lambda m: json.loads(m) if isinstance(m, str) else [])
            self._truth = inc
            self.incidents = self._recorded_incidents
        self._counts = pd.read_parquet(p / "log_counts.parquet") if (p / "log_counts.parquet").exists() else None
        if (p / "list_metrics.json").exists():
            self._list_metrics = json.loads((p / "list_metrics.json").read_text())
        queries = {}
        if (p / "queries.json").exists():
            for q in json.loads((p / "queries.json").read_text()):
                queries[q["Id"]] = MetricQuery.from_cloudwatch(q)
        for f in sorted(p.glob("*.json")):
            if f.name in ("manifest.json", "list_metrics.json", "queries.json"):
                continue
            try:
                data = json.loads(f.read_text())
            except ValueError as e:
                raise SourceError(f"files source: {f.name} is not JSON ({e})") from None
            if isinstance(data, dict) and "MetricDataResults" in data:
                for r in data["MetricDataResults"]:
                    s = pd.Series(np.asarray(r.get("Values", []), dtype="float64"),
                                  index=pd.to_datetime(r.get("Timestamps", []), utc=True)).sort_index()
                    if r["Id"] in queries:
                        self.by_identity[queries[r["Id"]].identity()] = s
                    self.by_name[r["Id"]] = s
                    if r.get("Label"):
                        self.by_name[r["Label"]] = s
            elif isinstance(data, dict) and "AlarmHistoryItems" in data:
                from .cloudwatch import history_frame, history_row

                self._history.append(history_frame([history_row(i) for i in data["AlarmHistoryItems"]
                                                    if i.get("HistoryItemType", "StateUpdate") == "StateUpdate"]))
            elif isinstance(data, dict) and "events" in data:
                from .cloudwatch import events_frame

                group = data.get("logGroupName") or f.stem.replace("__", "/")
                df = events_frame(data["events"], group)
                self._logs.append(df.assign(_request=f"{group}|"))
            else:
                self.skipped.append(f.name)
        for f in sorted(list(p.glob("*.csv")) + [x for x in p.glob("*.parquet") if x.name not in (
                "metrics.parquet", "logs.parquet", "alarm_history.parquet", "events.parquet", "log_counts.parquet",
                "incidents.parquet")]):
            df = pd.read_csv(f) if f.suffix == ".csv" else pd.read_parquet(f)
            if "timestamp" not in df:
                raise SourceError(f"files source: {f.name} has no 'timestamp' column")
            ts = pd.to_datetime(df["timestamp"], utc=True)
            if {"label", "value"} <= set(df.columns):
                for lab, g in df.assign(timestamp=ts).groupby("label", sort=False):
                    self.by_name[str(lab)] = pd.Series(g["value"].to_numpy(dtype=float), index=g["timestamp"])
            else:
                for c in df.columns:
                    if c != "timestamp":
                        self.by_name[str(c)] = pd.Series(pd.to_numeric(df[c], errors="coerce").to_numpy(),
                                                         index=ts)

    # ------------------------------------------------------------------------------------------------ answers
    def metrics(self, queries: Sequence[MetricQuery], window: TimeWindow) -> pd.DataFrame:
        """Stored values placed on each query's period grid over ``window``. A value recorded on another grid
        (an export made with a different start minute) goes to the period that contains it; two values in one
        period mean the file is finer than the query asks, which is an error rather than a silent choice."""
        from .base import grid_bounds

        cols = {}
        probs = []
        for q in queries:
            s = self.by_identity.get(q.identity())
            if s is None:
                s = self.by_name.get(q.id, self.by_name.get(q.label))
            if s is None and q.identity() not in self.asked:
                probs.append(problem(q, window, f"the folder {self.path.name}/ holds no series for "
                                     f"{q.identity()!r}; it holds: {self.holdings()}", "no-data"))
            if s is None or s.empty:
                cols[q.label] = pd.Series(dtype="float64")
                continue
            s0, n = grid_bounds(window, q.period)
            secs = pd.DatetimeIndex(s.index).as_unit("s").asi8
            pos = (secs - s0) // q.period
            keep = (pos >= 0) & (pos < n) & ~np.isnan(s.to_numpy(dtype=float))
            pos = pos[keep]
            if len(np.unique(pos)) != len(pos):
                raise SourceError(f"files source: {q.label!r} has several values per {q.period} s period; the "
                                  "file is finer than the query — ask with the file's period")
            idx = pd.to_datetime(s0 + pos * q.period, unit="s", utc=True)
            cols[q.label] = pd.Series(s.to_numpy(dtype=float)[keep], index=idx)
        self.problems += probs
        return mark_incomplete(assemble(cols, queries, window), probs)

    def holdings(self, most: int = 8) -> str:
        """What the folder holds, for messages: series names (or identities), shortened."""
        names = list(self.by_name) + [i for i in self.by_identity if i not in self.by_name]
        if not names:
            return "no metric series at all"
        shown = ", ".join(names[:most])
        return shown + (f" and {len(names) - most} more" if len(names) > most else "")

    def list_metrics(self, namespace=None, metric=None, dimensions=None) -> list[MetricId]:
        for rec in self._list_metrics:
            if (rec["namespace"], rec["metric"], rec["dimensions"]) == (namespace, metric, dimensions):
                return [MetricId(n, m, tuple(tuple(d) for d in dims)) for n, m, dims in rec["result"]]
        found = set()
        for ident in self.by_identity:
            ns, met, dims, _stat, _p = ident.split("|")
            d = tuple(tuple(x.split("=", 1)) for x in dims.split(",") if x)
            mid = MetricId(ns, met, d)
            if match_metric(mid, namespace, metric, dimensions):
                found.add(mid)
        return sorted(found, key=lambda m: (m.namespace, m.metric, m.dimensions))

    def logs(self, log_group: str, window: TimeWindow, filter_pattern: str | None = None) -> pd.DataFrame:
        if not self._logs:
            return empty_logs()
        df = pd.concat(self._logs, ignore_index=True)
        key = f"{log_group}|{filter_pattern or ''}"
        exact = df[df["_request"] == key]
        if len(exact):
            df = exact
        else:
            df = df[df["log_group"] == log_group]
            if filter_pattern:
                df = df[filter_mask(df["message"], filter_pattern)]
        df = df[(df["timestamp"] >= window.start) & (df["timestamp"] < window.end)]
        df = df.drop(columns=["_request"]).drop_duplicates(subset=["timestamp", "stream", "message"])
        return df.sort_values("timestamp", kind="stable").reset_index(drop=True)

    def log_counts(self, log_group: str, window: TimeWindow, level: str | None = "error",
                   bin_s: int = 300) -> pd.Series:
        """Counts recorded by a run (its Logs Insights answers, ``log_counts.parquet``), else counted from the
        folder's log lines."""
        key = f"{log_group}|{level or ''}|{bin_s}"
        if self._counts is not None and (self._counts["request"] == key).any():
            c = self._counts[self._counts["request"] == key]
            c = c[(c["timestamp"] >= window.start) & (c["timestamp"] < window.end)]
            return pd.Series(c["n"].to_numpy(dtype="float64"), index=pd.DatetimeIndex(c["timestamp"]),
                             name="n").sort_index()
        df = self.logs(log_group, window, f'{{ $.level = "{level}" }}' if level else None)
        if df.empty:
            return pd.Series(dtype="float64", name="n")
        return df.set_index("timestamp").resample(f"{bin_s}s").size().astype("float64").rename("n")

    def _recorded_incidents(self, window: TimeWindow) -> pd.DataFrame:
        df = self._truth
        df = df[(df["start"] < window.end) & (df["end"] > window.start)]
        return df.sort_values("start", kind="stable").reset_index(drop=True)

    def alarm_history(self, window: TimeWindow, alarm_names=None) -> pd.DataFrame:
        if not self._history:
            return empty_alarm_history()
        df = pd.concat(self._history, ignore_index=True).drop_duplicates()
        df = df[(df["timestamp"] >= window.start) & (df["timestamp"] < window.end)]
        if alarm_names:
            df = df[df["alarm"].isin(list(alarm_names))]
        return df.sort_values("timestamp", kind="stable").reset_index(drop=True)

    def events(self, window: TimeWindow) -> pd.DataFrame:
        if not self._events:
            return empty_events()
        df = pd.concat(self._events, ignore_index=True).drop_duplicates()
        df = df[(df["start"] < window.end) & (df["end"].fillna(df["start"]) >= window.start)]
        return df.sort_values("start", kind="stable").reset_index(drop=True)


@register_source("files")
def _make_files(environment="demo", path=None, **kw) -> FilesSource:
    return FilesSource(path=path, environment=environment)
