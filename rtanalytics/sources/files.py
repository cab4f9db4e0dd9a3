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

import csv
import io
import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..catalog import catalog
from ..errors import SourceError
from ..frames import empty_alarm_history, empty_events, empty_logs
from ..logs import filter_mask
from ..queries import MetricQuery, normalize_stat, parse_stat
from ..timewindow import TimeWindow
from .base import MetricId, assemble, grid_bounds, mark_incomplete, match_metric, problem
from .cloudwatch import events_frame, history_frame, history_row


class FilesSource:
    name = "files"

    #: a folder of exports holds its series at the period they were recorded, whatever their age: CloudWatch's
    #: retention tiers do not apply to it
    retention_tiers = False

    def __init__(self, path: str | Path | None = None, environment="demo", tz: str = "UTC", **_):
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
        self.notes: list[str] = []  # what was read how (duplicates aggregated, files skipped)
        self.malformed: list[dict] = []  # damaged rows and datapoints: file, line (or datapoint), reason
        self.file_of: dict[str, str] = {}  # series name -> the file it came from (to say which file answered)
        self.answered: dict[str, str] = {}  # query label -> how it was matched (the file, by which name)
        self.ambiguous: dict[str, list] = {}  # query label -> the series that could answer it, none chosen
        self.tz = tz  # naive timestamps are in this zone (UTC unless told)
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
            # a recording of CloudWatch (or the demo, which models it) keeps its source's retention tiers: the
            # bundle answers the periods that source served, as it served them
            self.retention_tiers = bool(man.get("retention_tiers", True))
            self.problems += list(man.get("problems", []))  # what the recorded run could not get stays missing
        if (p / "health_history.parquet").exists():  # the health checks' results a run used
            self._health = pd.read_parquet(p / "health_history.parquet")
            self.recorded_health_history = self._recorded_health
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
            if isinstance(data, list) and data and all(isinstance(r, dict) and "Timestamps" in r for r in data):
                data = {"MetricDataResults": [dict(r, Id=r.get("Id") or r.get("Label") or f"{f.stem}{i}")
                                              for i, r in enumerate(data)]}  # --query MetricDataResults
            if isinstance(data, dict) and "MetricDataResults" in data:
                for r in data["MetricDataResults"]:
                    s = self._datapoints(f.name, r)
                    if s is None:
                        continue
                    if r["Id"] in queries:
                        self.by_identity[queries[r["Id"]].identity()] = s
                    self.by_name[r["Id"]] = s
                    if r.get("Label"):
                        self.by_name[r["Label"]] = s
            elif isinstance(data, dict) and "Datapoints" in data:  # aws cloudwatch get-metric-statistics
                label = data.get("Label") or f.stem
                pts = data["Datapoints"]
                ts = parse_times([d.get("Timestamp") for d in pts], self.tz, f.name)
                for stat in ("Average", "Sum", "Minimum", "Maximum", "SampleCount"):
                    if any(stat in d for d in pts):
                        self.file_of[f"{label}|{stat}"] = f.name
                        self.by_name[f"{label}|{stat}"] = pd.Series(
                            [float(d.get(stat, np.nan)) for d in pts], index=ts, dtype="float64").sort_index()
                # every extended statistic the export holds (p99, TM(10%:90%), PR(:300), IQM ...), by its
                # CloudWatch spelling, so that a query for it finds it whatever case it was asked in
                ext_names = sorted({k for d in pts for k in (d.get("ExtendedStatistics") or {})})
                for k in ext_names:
                    try:
                        name = normalize_stat(k)
                    except ValueError:
                        self._malformed(f.name, None, f"ExtendedStatistics key {k!r} is not a CloudWatch statistic")
                        continue
                    self.file_of[f"{label}|{name}"] = f.name
                    self.by_name[f"{label}|{name}"] = pd.Series(
                        [float((d.get("ExtendedStatistics") or {}).get(k, np.nan)) for d in pts], index=ts,
                        dtype="float64").sort_index()
                if pts and not any(k.startswith(f"{label}|") for k in self.by_name):
                    self.skipped.append(f.name)
            elif isinstance(data, dict) and "AlarmHistoryItems" in data:
                self._history.append(history_frame([history_row(i) for i in data["AlarmHistoryItems"]
                                                    if i.get("HistoryItemType", "StateUpdate") == "StateUpdate"]))
            elif isinstance(data, dict) and "events" in data:
                group = data.get("logGroupName") or f.stem.replace("__", "/")
                df = events_frame(data["events"], group)
                self._logs.append(df.assign(_request=f"{group}|", _answer=f.name))
            else:
                self.skipped.append(f.name)
        for f in sorted(list(p.glob("*.csv")) + [x for x in p.glob("*.parquet") if x.name not in (
                "metrics.parquet", "logs.parquet", "alarm_history.parquet", "events.parquet", "log_counts.parquet",
                "incidents.parquet", "health_history.parquet")]):
            try:
                df = self._read_csv(f) if f.suffix == ".csv" else pd.read_parquet(f)
            except Exception as e:  # noqa: BLE001 - name the file and go on with the others
                self.notes.append(f"{f.name}: not read ({type(e).__name__}: {e})")
                continue
            tcol = time_column(df)
            if tcol is None:
                raise SourceError(f"files source: {f.name} has no time column (name one 'timestamp', or put the "
                                  f"times first); its columns are {list(df.columns)[:8]}")
            ts = parse_times_lenient(df[tcol], self.tz)
            bad = np.flatnonzero(ts.isna())
            if len(bad) == len(df) and len(df):
                raise SourceError(f"files source: {f.name}: no readable time in column {tcol!r} "
                                  f"({df[tcol].iloc[0]!r} ...; use ISO 8601 or epoch seconds)")
            if len(bad):  # damaged rows: listed with their line, the rest read
                line = df["_line"].to_numpy() if "_line" in df else np.arange(len(df)) + 2
                for i in bad:
                    self._malformed(f.name, int(line[i]), f"{df[tcol].iloc[i]!r} is not a time")
                keep = ~np.asarray(ts.isna())
                df, ts = df[keep].reset_index(drop=True), ts[keep]
            self._number_check(f.name, df, tcol)
            df = df.drop(columns=["_line"], errors="ignore")
            rest = [c for c in df.columns if c != tcol]
            if {"label", "value"} <= set(rest):
                for lab, g in df.assign(_t=ts).groupby("label", sort=False):
                    self.by_name[str(lab)] = pd.Series(g["value"].to_numpy(dtype=float), index=g["_t"])
                    self.file_of[str(lab)] = f.name
                continue
            values = [c for c in rest if pd.to_numeric(df[c], errors="coerce").notna().any()]
            for c in values:
                # one value column: the series is the file (nyc_taxi.csv -> "nyc_taxi"); several: each column
                name = f.stem if len(values) == 1 and str(c).lower() in ("value", "values", "") else str(c)
                if name in self.by_name:
                    self.notes.append(f"{f.name}: series {name!r} also in another file — kept the first")
                    continue
                self.file_of[name] = f.name
                self.by_name[name] = pd.Series(pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float),
                                               index=ts)

    def _malformed(self, file: str, line, reason: str) -> None:
        self.malformed.append({"file": file, "line": line, "reason": reason})
        n = len(self.malformed)
        if n <= 20:
            self.notes.append(f"{file} line {line}: {reason} — skipped")
        elif n == 21:
            self.notes.append("more damaged lines skipped: the files source's `malformed` lists them all")

    def _read_csv(self, f: Path) -> pd.DataFrame:
        """A CSV whose damaged lines (a wrong number of fields, bytes that are not UTF-8) are listed with their
        line numbers and reasons; every other line is read (by pandas, in one pass). Rows keep their line number
        in ``_line``."""
        lines = pd.Series(f.read_bytes().decode("utf-8", errors="replace").splitlines(), dtype="object")
        number = np.arange(1, len(lines) + 1)
        bad = lines.str.contains("\ufffd|\x00", regex=True).to_numpy()  # not UTF-8 (or binary)
        blank = lines.str.strip().eq("").to_numpy()
        reasons = {int(n): "not UTF-8 text" for n in number[bad]}
        usable = np.flatnonzero(~bad & ~blank)
        if not len(usable):
            return pd.DataFrame()
        header = lines.iloc[usable[0]]
        width = len(next(csv.reader([header])))
        body = usable[1:]
        if lines.iloc[body].str.contains('"', regex=False).any():  # quoted fields: count them properly
            counts = np.array([len(next(csv.reader([x]))) for x in lines.iloc[body]], dtype=np.int64)
        else:
            counts = lines.iloc[body].str.count(",").to_numpy(dtype=np.int64) + 1
        wrong = counts != width
        reasons |= {int(number[k]): f"{c} fields where the header has {width}"
                    for k, c in zip(body[wrong], counts[wrong])}
        good = body[~wrong]
        df = pd.read_csv(io.StringIO("\n".join([header, *lines.iloc[good]])))
        df["_line"] = number[good][:len(df)]
        for n in sorted(reasons):
            self._malformed(f.name, n, reasons[n])
        return df

    def _number_check(self, file: str, df: pd.DataFrame, tcol: str) -> None:
        """Values that are not numbers (in a column that otherwise holds numbers) are missing: listed."""
        line = df["_line"].to_numpy() if "_line" in df else np.arange(len(df)) + 2
        for c in df.columns:
            if c in (tcol, "_line", "label"):
                continue
            raw = df[c]
            num = pd.to_numeric(raw, errors="coerce")
            if not num.notna().any():
                continue
            bad = np.flatnonzero(num.isna().to_numpy() & raw.notna().to_numpy()
                                 & raw.astype(str).str.strip().ne("").to_numpy())
            for i in bad:
                self._malformed(file, int(line[i]), f"{c} {raw.iloc[i]!r} is not a number (kept as missing)")
            infinite = np.flatnonzero(np.isinf(num.to_numpy(dtype="float64")))
            for i in infinite:  # inf, 1e309: CloudWatch never holds one; read as a number it would be a figure
                self._malformed(file, int(line[i]), f"{c} {raw.iloc[i]!r} is not a finite number (kept as missing)")
            if len(infinite):
                df[c] = num.where(~np.isinf(num.to_numpy(dtype="float64")))

    def _datapoints(self, file: str, r: dict) -> pd.Series | None:
        """One ``MetricDataResults`` entry as a series: datapoints whose time or value cannot be read are listed
        and left out; a result whose Timestamps and Values differ in length cannot be paired and is listed."""
        rid = r.get("Id") or r.get("Label") or "?"
        ts_raw, vs_raw = list(r.get("Timestamps") or []), list(r.get("Values") or [])
        if len(ts_raw) != len(vs_raw):
            self._malformed(file, f"result {rid}", f"{len(ts_raw)} Timestamps but {len(vs_raw)} Values: "
                            "not read (the datapoints cannot be paired)")
            return None
        ts = parse_times_lenient(ts_raw, self.tz)
        vs = pd.to_numeric(pd.Series(vs_raw, dtype="object"), errors="coerce").to_numpy(dtype="float64")
        ok = np.asarray(ts.notna())
        for i in np.flatnonzero(~ok):
            self._malformed(file, f"result {rid} datapoint {i}", f"timestamp {ts_raw[i]!r} is not a time")
        for i in np.flatnonzero(ok & np.isinf(vs)):
            self._malformed(file, f"result {rid} datapoint {i}", f"value {vs_raw[i]!r} is not a finite number "
                            "(kept as missing)")
        vs = np.where(np.isinf(vs), np.nan, vs)
        for i in np.flatnonzero(ok & np.isnan(vs) & np.array([v is not None for v in vs_raw], dtype=bool)
                                & ~np.isin(np.arange(len(vs)), np.flatnonzero(np.isinf(
                                    pd.to_numeric(pd.Series(vs_raw, dtype="object"), errors="coerce")
                                    .to_numpy(dtype="float64"))))):
            self._malformed(file, f"result {rid} datapoint {i}", f"value {vs_raw[i]!r} is not a number "
                            "(kept as missing)")
        return pd.Series(vs[ok], index=ts[ok], dtype="float64").sort_index()

    # ------------------------------------------------------------------------------------------------ answers
    def metrics(self, queries: Sequence[MetricQuery], window: TimeWindow) -> pd.DataFrame:
        """Stored values placed on each query's period grid over ``window``. A value recorded between grid
        points (an export with another start minute, irregular spacing) goes to the period that contains it;
        several values in one period (a finer export, or the repeated hour of a daylight-saving change in a
        local-time export) are aggregated with the query's statistic, and a note says so. A query is matched
        by what it asks (an evidence bundle), else by id or label, else by its metric name; a query that
        matches nothing is listed as missing with what the folder holds."""
        cols = {}
        probs = []
        for q in queries:
            s = self.find(q)
            if s is None and q.label in self.ambiguous:
                probs.append(problem(q, window, f"the folder {self.path.name}/ holds several series for "
                                     f"{q.metric} and none for {q.stat}: " + ", ".join(self.ambiguous[q.label])
                                     + " — name the file METRIC|STAT.csv, or query one of them", "no-data"))
            elif s is None and q.identity() not in self.asked:
                probs.append(problem(q, window, f"the folder {self.path.name}/ holds no series for "
                                     f"{q.identity()!r}; it holds: {self.holdings()}", "no-data"))
            if s is None or s.empty:
                cols[q.label] = pd.Series(dtype="float64")
                continue
            s0, n = grid_bounds(window, q.period)
            secs = pd.DatetimeIndex(s.index).as_unit("s").asi8
            pos = (secs - s0) // q.period
            vals = s.to_numpy(dtype=float)
            keep = (pos >= 0) & (pos < n) & ~np.isnan(vals)
            pos, vals = pos[keep], vals[keep]
            if len(np.unique(pos)) != len(pos):
                agg = aggregate(pd.Series(vals), pos, q.stat)
                note = (f"{q.label}: several values in some {q.period} s periods (a finer export, or a repeated "
                        f"local hour) — combined with {q.stat}")
                if note not in self.notes:
                    self.notes.append(note)
                pos, vals = agg.index.to_numpy(), agg.to_numpy()
            idx = pd.to_datetime(s0 + pos * q.period, unit="s", utc=True)
            cols[q.label] = pd.Series(vals, index=idx)
        self.problems += probs
        return mark_incomplete(assemble(cols, queries, window), probs)

    def find(self, q: MetricQuery) -> pd.Series | None:
        """The series answering ``q``: what it asks exactly (an evidence bundle), its id or label, then its metric
        name — ``METRIC|STAT`` (get-metric-statistics, or a file named so), else the one series named after the
        metric (``RequestCount.csv``), whose statistic and dimensions the file does not state: taken as the
        query's, and :attr:`answered` says which file answered which query. Several candidates and none for the
        statistic asked: not guessed (the query is missing, the candidates listed)."""
        s = self.by_identity.get(q.identity())
        how = "exactly"
        if s is None:
            key = q.id if q.id in self.by_name else (q.label if q.label in self.by_name else None)
            s, how = (self.by_name[key], f"by its {'id' if key == q.id else 'label'}") if key else (None, "")
        if s is None and q.namespace == "files":
            s, how = self.by_name.get(q.metric), "by name"
        if s is None and q.metric:  # an export that names the metric (get-metric-statistics, a file per metric)
            key = f"{q.metric}|{q.stat}"
            s, how = self.by_name.get(key), f"as {key}"
            if s is None:
                cands = [k for k in self.by_name if k == q.metric or k.split("|", 1)[0] == q.metric]
                if cands == [q.metric]:
                    s = self.by_name[q.metric]
                    how = (f"by its metric name ({self.file_of.get(q.metric, q.metric)} states no statistic or "
                           f"dimensions: taken as {q.stat}" + (f", {dict(q.dimensions)}" if q.dimensions else "")
                           + ")")
                elif len(cands) > 1:
                    self.ambiguous[q.label] = cands
        if s is not None and q.label not in self.answered:
            src_name = next((k for k, v in self.by_name.items() if v is s), None)
            self.answered[q.label] = f"{self.file_of.get(src_name, 'the folder')} {how}" if src_name else how
            if how.startswith("by its metric name"):  # the match a reader should see: said in the report
                self.notes.append(f"{q.label}: answered by {self.answered[q.label]}")
        return s

    def natural_period(self) -> int:
        """The period the folder's series were recorded at: the median spacing of its named series, rounded up
        to a CloudWatch period (a multiple of 60 s)."""
        steps = []
        for v in list(self.by_name.values()) + list(self.by_identity.values()):
            t = pd.DatetimeIndex(v.index).as_unit("s").asi8
            if t.size > 2:
                d = np.diff(np.unique(t))
                steps.append(float(np.median(d)))
        if not steps:
            return 60
        return int(max(60, -(-int(np.median(steps)) // 60) * 60))

    def holdings(self, most: int = 8) -> str:
        """What the folder holds, for messages: series names (or identities), shortened."""
        names = list(self.by_name) + [i for i in self.by_identity if i not in self.by_name]
        if not names:
            return "no metric series at all"
        shown = ", ".join(names[:most])
        return shown + (f" and {len(names) - most} more" if len(names) > most else "")

    def list_metrics(self, namespace=None, metric=None, dimensions=None) -> list[MetricId]:
        """An evidence bundle's recorded ListMetrics answers; otherwise the metrics its queries asked for, plus
        every named series of the folder as ``files/NAME`` (so any export can be explored by name)."""
        if namespace in (None, "files") and not dimensions:
            named = [MetricId("files", n) for n in self.by_name
                     if "|" not in n and match_metric(MetricId("files", n), "files", metric, None)]
            if namespace == "files":
                return sorted(named, key=lambda m: m.metric)
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
        df = same_events_once(df).drop(columns=["_request"])
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

    def _recorded_health(self, window: TimeWindow) -> pd.DataFrame:
        h = self._health
        if "timestamp" in h and len(h):
            h = h[(h["timestamp"] >= window.start) & (h["timestamp"] <= window.end)]  # a check AT the end counts
        return h.reset_index(drop=True)

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


TIME_NAMES = ("timestamp", "timestamps", "time", "datetime", "date", "ts", "period", "label")


def same_events_once(df: pd.DataFrame) -> pd.DataFrame:
    """Log events answered by several recorded requests, counted once — and identical events within one answer
    kept, each. An event is its ``event_id`` (FilterLogEvents' eventId) where there is one, else its stream,
    timestamp, ingestion time and message together with its occurrence among equal ones in its own answer: the
    same answer recorded twice gives each event once, three identical lines in one answer stay three."""
    if df.empty:
        return df
    key = [c for c in ("stream", "timestamp", "ingestion_time", "message") if c in df.columns]
    answer = df["_answer"] if "_answer" in df.columns else df["_request"]  # one recorded answer
    occurrence = df.assign(_a=answer.fillna(df["_request"])).groupby(["_a", *key], dropna=False, sort=False).cumcount()
    ident = pd.Series([None] * len(df), index=df.index, dtype="object")
    if "event_id" in df.columns:
        ident = df["event_id"].astype("object").where(df["event_id"].notna(), None)
    plain = ident.isna()
    out = df.assign(_occurrence=occurrence, _ident=ident)
    dup = pd.Series(False, index=out.index)
    if (~plain).any():
        dup[~plain] = out.loc[~plain].duplicated(subset=["_ident"])
    if plain.any():
        dup[plain] = out.loc[plain].duplicated(subset=[*key, "_occurrence"])
    return out[~dup].drop(columns=["_occurrence", "_ident", *(["_answer"] if "_answer" in out.columns else [])])


def time_column(df: pd.DataFrame) -> str | None:
    """The column holding the times: one named like a time, else the first column if it parses as times."""
    for c in df.columns:
        if str(c).strip().lower() in TIME_NAMES[:-1]:
            return c
    if len(df.columns):
        first = df.columns[0]
        try:
            parse_times(df[first].head(20), "UTC", "")
            return first
        except SourceError:
            return None
    return None


def parse_times_lenient(values, tz: str = "UTC") -> pd.DatetimeIndex:
    """As :func:`parse_times`, but an unreadable value is NaT (the caller lists it) instead of an error."""
    v = pd.Series(list(values) if not isinstance(values, pd.Series) else values.to_numpy(), dtype="object")
    if v.empty:
        return pd.DatetimeIndex([], tz="UTC")
    num = pd.to_numeric(v, errors="coerce")
    if num.notna().all():
        x = num.to_numpy(dtype="float64")
        ok = np.isfinite(x) & (np.abs(x) < 9.2e18)
        with np.errstate(all="ignore"):
            t = pd.to_datetime(np.where(ok, epoch_ns(np.where(ok, x, 0.0)), 0), unit="ns", utc=True)
        return pd.DatetimeIndex(pd.Series(t).where(ok))
    text = v.map(lambda x: x if isinstance(x, str) else ("" if x is None or (isinstance(x, float) and np.isnan(x))
                                                        else str(x)))
    t = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    if t.isna().any():  # other spellings, one by one where ISO 8601 did not read them
        rest = t.isna() & text.ne("")
        for i in np.flatnonzero(rest.to_numpy()):
            try:
                x = pd.Timestamp(text.iloc[i])
            except (ValueError, TypeError, OverflowError):
                continue
            if x is not pd.NaT:
                x = x.tz_localize(tz) if x.tzinfo is None else x
                t.iloc[i] = x.tz_convert("UTC")
    naive_iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+") & t.notna()
    if tz != "UTC" and naive_iso.any():  # naive ISO times read as UTC above: they are in ``tz``
        t[naive_iso] = (t[naive_iso].dt.tz_localize(None).dt.tz_localize(tz, ambiguous="NaT",
                                                                          nonexistent="shift_forward")
                        .dt.tz_convert("UTC"))
    return pd.DatetimeIndex(t)


def epoch_ns(x: np.ndarray) -> np.ndarray:
    """Epoch numbers as nanoseconds, each by its own magnitude: seconds (under 1e11, up to the year 5138),
    milliseconds, microseconds or nanoseconds — an export mixing seconds and milliseconds (two tools, one folder)
    puts every row at its own time instead of the seconds rows in 1970."""
    a = np.abs(x)
    scale = np.where(a < 1e11, 1e9, np.where(a < 1e14, 1e6, np.where(a < 1e17, 1e3, 1.0)))
    return (x * scale).astype("int64")


def parse_times(values, tz: str = "UTC", where: str = "") -> pd.DatetimeIndex:
    """Times as the CLI and SDKs print them: ISO 8601 strings (with or without an offset), epoch seconds or
    milliseconds (numbers or numeric strings), datetime objects. Naive times are in ``tz`` (UTC unless told);
    everything comes back UTC. Unreadable values raise :class:`SourceError` naming ``where``."""
    v = pd.Series(list(values) if not isinstance(values, pd.Series) else values.to_numpy(), dtype="object")
    if v.empty:
        return pd.DatetimeIndex([], tz="UTC")
    num = pd.to_numeric(v, errors="coerce")
    try:
        if num.notna().all():
            return pd.DatetimeIndex(pd.to_datetime(epoch_ns(num.to_numpy(dtype="float64")), unit="ns", utc=True))
        t = pd.to_datetime(v.astype(str), format="ISO8601", errors="coerce") if v.map(
            lambda x: isinstance(x, str)).all() else pd.to_datetime(v, errors="coerce", utc=False)
        if t.isna().any():
            t2 = pd.to_datetime(v.astype(str), format="mixed", errors="coerce")
            t = t.fillna(t2) if hasattr(t, "fillna") else t2
    except (ValueError, TypeError) as e:
        raise SourceError(f"files source: {where}: times not readable ({e})") from None
    t = pd.DatetimeIndex(t)
    if t.isna().any():
        bad = v[np.asarray(t.isna())].iloc[0]
        raise SourceError(f"files source: {where}: {bad!r} is not a time (use ISO 8601 or epoch seconds)")
    if t.tz is None:
        t = t.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward") if tz != "UTC" else t.tz_localize("UTC")
    return t.tz_convert("UTC")


def aggregate(values: pd.Series, groups, stat: str) -> pd.Series:
    """Combine several values of one statistic per group: exactly where the statistic adds up (Sum, SampleCount,
    and TC / TS over a value range, whose datapoints in range add up), or takes the extreme (Minimum,
    Maximum); a percentile as the quantile of the finer percentiles, and the rest (Average, TM, WM, PR over finer
    periods) as their mean — an approximation, which the caller's note names."""
    g = values.groupby(np.asarray(groups))
    st = parse_stat(stat)
    if stat == "Sum" or (st.kind in ("tc", "ts") and not st.percent):
        return g.sum()
    if stat == "Minimum":
        return g.min()
    if stat == "Maximum":
        return g.max()
    if stat == "SampleCount":
        return g.count().astype(float)
    if st.kind == "p":
        return g.quantile(st.lo / 100)
    return g.mean()


def _make_files(environment="demo", path=None, tz="UTC", **kw) -> FilesSource:
    return FilesSource(path=path, environment=environment, tz=tz)
