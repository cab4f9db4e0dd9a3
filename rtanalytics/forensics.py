"""Incident forensics: what moved first, by how much, what the logs said, what it cost.

Change points use robust statistics rather than a segmentation library (ruptures was considered): per signal,
a baseline median and MAD-based scale from the lookback before the incident, a z-score per minute, and an
onset where the z-score reaches ``Z`` on 2 of 3 consecutive minutes, traced back to the first minute of that
excursion. Why: the signals are short (hours of 1-minute data), many are sparse counts that CloudWatch does not
publish when zero, and the question is "when did it leave its normal range" — which a baseline and a
threshold answer directly, deterministically, in microseconds per signal, with no penalty to tune; change-point
segmentation (PELT) answers "where does the mean change", needs a penalty per signal type and is fooled by the
zero-inflated counts.

An excursion must also exceed the baseline's 99.5th percentile, so a spiky gauge or a sparse count does not
"start" an incident with a value it already showed in quiet times.

Counts (errors, throttles) without a datapoint are 0 (CloudWatch publishes them only when non-zero); levels
(latencies) without a datapoint stay missing. Ties in onset are broken by the size of the change in the onset
minute (log ratio to the baseline): the cause moves first and hardest, its consequences ramp up after it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .logs import redact
from .parallel import overlap, source_workers
from .names import short_labels
from .queries import MetricQuery
from .templates import mine

Z = 5.0

# (namespace, metric, statistic, kind) explored for every incident; dimensions come from ListMetrics
SIGNALS = [
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", "count"),
    ("AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", "Sum", "count"),
    ("AWS/ApplicationELB", "TargetResponseTime", "p95", "level"),
    ("AWS/DynamoDB", "ThrottledRequests", "Sum", "count"),
    ("AWS/DynamoDB", "SystemErrors", "Sum", "count"),
    ("AWS/DynamoDB", "SuccessfulRequestLatency", "Average", "level"),
    ("AWS/Lambda", "Duration", "Average", "level"),
    ("AWS/Lambda", "Errors", "Sum", "count"),
    ("AWS/Lambda", "Throttles", "Sum", "count"),
    ("AWS/Lambda", "ConcurrentExecutions", "Maximum", "level"),
    ("AWS/S3", "FirstByteLatency", "Average", "level"),
    ("AWS/S3", "TotalRequestLatency", "Average", "level"),
    ("RealTechee/Performance", "PageLoadTime", "p75", "level"),
    ("RealTechee/Performance", "LargestContentfulPaint", "p75", "level"),
]


def signal_queries(source, namespaces: list[str] | None = None, period: int = 60
                   ) -> tuple[list[MetricQuery], dict[str, str]]:
    """Queries (1-minute by default) for every explored signal the source has, and each query's kind (count or
    level)."""
    qs, kinds = [], {}
    wanted = [(ns, metric, stat, kind) for ns, metric, stat, kind in SIGNALS if not namespaces or ns in namespaces]
    # any other series the source was given (a folder of exports: files/NAME), or every metric of a namespace
    # named explicitly that the list above does not know: examined as levels, at their Average
    known = {ns for ns, *_ in SIGNALS}
    extra = ["files"] if not namespaces else [ns for ns in namespaces if ns not in known]
    # every ListMetrics at once on AWS (its quota still holds), in this order
    found = overlap(lambda a: source.list_metrics(*a), [(ns, metric) for ns, metric, *_ in wanted]
                    + [(ns,) for ns in extra], source_workers(source), "ListMetrics calls", probe_first=False)
    for (ns, metric, stat, kind), ms in zip(wanted, found):
        for m in ms:
            dims = " ".join(f"{v}" for _, v in m.dimensions)
            label = f"{ns.split('/')[-1]} {metric} {stat}" + (f" [{dims}]" if dims else "")
            q = MetricQuery(m.namespace, m.metric, m.dimensions, stat, period, label=label)
            qs.append(q)
            kinds[label] = kind
    for ns, ms in zip(extra, found[len(wanted):]):
        for m in ms:
            dims = " ".join(f"{v}" for _, v in m.dimensions)
            label = (m.metric if ns == "files" else f"{ns.split('/')[-1]} {m.metric} Average") + (
                f" [{dims}]" if dims else "")
            if label in kinds:
                continue
            qs.append(MetricQuery(m.namespace, m.metric, m.dimensions, "Average", period, label=label))
            kinds[label] = "level"
    # short readable labels (an Amplify table is "Requests", not "Requests-aqnq…-NONE"); the query keeps the
    # full identity (dimensions), shown in the provenance and the evidence manifest
    short = short_labels({q.label: q.label for q in qs})
    qs = [replace(q, label=short[q.label]) for q in qs]
    kinds = {short[k]: v for k, v in kinds.items()}
    return qs, kinds


@dataclass
class Onset:
    signal: str
    kind: str
    onset: pd.Timestamp | None
    recovered: pd.Timestamp | None
    baseline: float
    peak: float
    strength_at_onset: float
    max_z: float


def detect_onsets(df: pd.DataFrame, kinds: dict[str, str], baseline_end: pd.Timestamp,
                  search_start: pd.Timestamp, search_end: pd.Timestamp, z: float = Z,
                  reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per signal (column of ``df``, 1-minute): baseline, onset, recovery and strength (see module docstring).

    With ``reference`` (the same signals one week earlier, on the same index) the test runs on the difference
    from last week, which removes the daily and weekly seasonality that would otherwise look like a change
    (a morning traffic ramp is not an incident)."""
    rows = []
    idx = df.index
    base_mask = idx < baseline_end
    search = (idx >= search_start) & (idx < search_end)
    for col in df.columns:
        kind = kinds.get(col, "level")
        raw = df[col].to_numpy(dtype=float)
        if kind == "count":
            raw = np.nan_to_num(raw, nan=0.0)
        x = raw
        if reference is not None and col in reference and reference[col].notna().sum() >= 10:
            ref = reference[col].to_numpy(dtype=float)
            if kind == "count":
                ref = np.nan_to_num(ref, nan=0.0)
            x = raw - ref
        b = x[base_mask]
        b = b[~np.isnan(b)]
        if b.size < 10:
            continue
        med = float(np.median(b))
        mad = float(np.median(np.abs(b - med))) * 1.4826
        rb = raw[base_mask]
        rb = rb[np.isfinite(rb)]
        integer_valued = rb.size > 0 and bool(np.all(rb == np.round(rb)))
        # a count, or a gauge reported in whole units, moves in steps of 1: one step is not an excursion
        floor = 0.5 if kind == "count" or integer_valued else max(0.02 * abs(med), 1e-9)
        sd = max(mad, float(np.std(b)) * 0.5, floor)
        zs = (x - med) / sd
        # an excursion must also leave the range the baseline itself visited (spiky gauges, sparse counts)
        ceiling = float(np.quantile(b, 0.995))
        hi = (np.nan_to_num(zs, nan=0.0) >= z) & (np.nan_to_num(x, nan=-np.inf) > ceiling)
        sustained = hi & (np.r_[hi[1:], False] | np.r_[hi[2:], False, False])  # 2 of 3 starting here
        cand = np.flatnonzero(sustained & search)
        onset = rec = None
        s_at = 0.0
        peak = float(np.nanmax(raw[search])) if search.any() and not np.all(np.isnan(raw[search])) else np.nan
        raw_base = raw[base_mask]
        raw_med = float(np.nanmedian(raw_base)) if np.isfinite(raw_base).any() else 0.0
        if cand.size:
            i = cand[0]
            elevated = np.nan_to_num(zs, nan=0.0) >= z / 2
            j = i
            while j - 1 >= 0 and elevated[j - 1] and search[j - 1]:
                j -= 1
            onset = idx[j]
            rf = 0.5 if kind == "count" else max(0.02 * abs(raw_med), 1e-9)
            s_at = float(np.log((abs(raw[j]) + rf) / (abs(raw_med) + rf))) if not np.isnan(raw[j]) else 0.0
            # recovery: first minute after the onset that starts 5 minutes back within z/2
            calm = ~elevated
            run = pd.Series(calm[i:]).rolling(5).sum().to_numpy()
            k = np.flatnonzero(run >= 5)
            rec = idx[i + k[0] - 4] if k.size else None
        rows.append(Onset(col, kind, onset, rec, raw_med, peak, s_at, float(np.nanmax(zs[search])) if search.any()
                          else 0.0))
    out = pd.DataFrame([o.__dict__ for o in rows])
    if out.empty:
        return pd.DataFrame(columns=list(Onset.__dataclass_fields__))
    return out


def rank_leads(onsets: pd.DataFrame, primary: str | None, tie=pd.Timedelta(minutes=2)) -> pd.DataFrame:
    """Signals that left their baseline, earliest first (ties: the harder move first), with their lag behind the
    primary symptom: the "where to look first" table."""
    d = onsets[onsets["onset"].notna()].copy()
    if d.empty:
        return d.assign(rank=[], lag_minutes=[])
    # onsets within two periods of each other cannot be ordered at 1-minute resolution (one noisy minute can
    # precede a real onset): they form one group, ordered by how hard each signal moved in its onset minute
    d = d.sort_values("onset").reset_index(drop=True)
    gap = d["onset"].diff() > tie
    d["group"] = gap.cumsum()
    d = d.sort_values(["group", "strength_at_onset"], ascending=[True, False]).drop(columns="group")
    d = d.reset_index(drop=True)
    d.insert(0, "rank", np.arange(1, len(d) + 1))
    ref = d.loc[d["signal"] == primary, "onset"]
    ref_t = ref.iloc[0] if len(ref) else d["onset"].iloc[0]
    d["lag_minutes"] = (d["onset"] - ref_t).dt.total_seconds() / 60
    d["change"] = [f"{b:.3g} → {p:.3g}" for b, p in zip(d["baseline"], d["peak"])]
    return d


# ---------------------------------------------------------------------------------------------------- logs
def error_signatures(logs: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                     redact_personal_data: bool = True) -> pd.DataFrame:
    """Error lines grouped into templates by drain3 (a maintained log-template miner): per signature, counts
    before ``start`` and during ``[start, end)``, ordered by how much more often they occur during.

    Templates are mined from the original lines, and personal data is redacted from what is shown (the templates)
    afterwards unless ``redact_personal_data`` is false: privacy never changes which lines group together
    (redacting first rewrote block ids and other numbers as personal data and split or merged templates — the
    loghub grouping accuracy through this function fell from 0.93 to 0.63)."""
    from drain3 import TemplateMiner  # lazy: drain3 loads only when log lines are mined
    from drain3.template_miner_config import TemplateMinerConfig

    err = logs[logs.get("level", pd.Series(dtype=str)).eq("error")] if len(logs) else logs
    if err.empty:
        return pd.DataFrame(columns=["signature", "template", "before", "during", "ratio", "first_seen"])
    text = (err["error.name"].fillna("").astype(str) + ": " + err["error.message"].fillna("").astype(str)) if \
        "error.name" in err else err["message"].astype(str)
    if "error.name" in err:  # the seed's winston JSON: the error's name and message are the text to mine
        cfg = TemplateMinerConfig()
        cfg.profiling_enabled = False
        tm = TemplateMiner(config=cfg)
        ids = [tm.add_log_message(t)["cluster_id"] for t in text]
        templates = {c.cluster_id: c.get_template() for c in tm.drain.clusters}
    else:  # raw lines of any format: split the header, mask the variables, then mine (rtanalytics.templates)
        mined = mine(text.tolist(), raw=True)
        ids = mined["template_id"].tolist()
        templates = dict(zip(mined["template_id"], mined["template"]))
    if redact_personal_data:  # what is shown: a constant email or token kept in a template is redacted there
        keys = list(templates)
        templates = dict(zip(keys, redact(pd.Series([templates[k] for k in keys], dtype=object)).tolist()))
    d = pd.DataFrame({"timestamp": err["timestamp"].to_numpy(), "signature": ids})
    d["when"] = np.where(d["timestamp"] < start, "before", np.where(d["timestamp"] < end, "during", "after"))
    tab = d.pivot_table(index="signature", columns="when", values="timestamp", aggfunc="count", fill_value=0)
    for c in ("before", "during"):
        if c not in tab:
            tab[c] = 0
    first = d.groupby("signature")["timestamp"].min()
    dur_h = max((end - start).total_seconds() / 3600, 1 / 60)
    before_h = max((start - d["timestamp"].min()).total_seconds() / 3600, 1 / 60) if (d["when"] == "before").any() \
        else 1.0
    out = pd.DataFrame({"signature": tab.index, "template": [templates[i] for i in tab.index],
                        "before": tab["before"].to_numpy(), "during": tab["during"].to_numpy(),
                        "first_seen": first.reindex(tab.index).to_numpy()})
    out["ratio"] = ((out["during"] / dur_h) + 1e-9) / ((out["before"] / before_h) + 1 / before_h)
    out = out.sort_values(["during", "ratio"], ascending=False).reset_index(drop=True)
    out.attrs["assignments"] = d[["timestamp", "signature"]]  # each error line's signature, for counts over time
    return out


def signature_counts(signatures: pd.DataFrame, bin="5min", top: int = 5) -> pd.DataFrame:
    """Error lines per ``bin`` for the ``top`` signatures (columns named by their templates)."""
    a = signatures.attrs.get("assignments")
    if a is None or a.empty:
        return pd.DataFrame()
    keep = list(signatures["signature"].head(top))
    names = dict(zip(signatures["signature"], signatures["template"].str.slice(0, 60)))
    a = a[a["signature"].isin(keep)]
    c = a.assign(timestamp=pd.to_datetime(a["timestamp"], utc=True)).pivot_table(
        index=pd.Grouper(key="timestamp", freq=bin), columns="signature", values="timestamp", aggfunc="count",
        fill_value=0)
    c = c.reindex(columns=[k for k in keep if k in c.columns])  # most frequent during the incident first
    c = c.asfreq(bin, fill_value=0)  # bins without errors are zeros, not gaps a step line would bridge
    return c.rename(columns=names)


def log_bursts(logs: pd.DataFrame, baseline_end: pd.Timestamp, z: float = Z) -> pd.DataFrame:
    """Minutes where error lines per minute jump above their baseline (robust z): the timeline's log bursts."""
    if logs.empty:
        return pd.DataFrame(columns=["start", "end", "errors"])
    err = logs[logs["level"] == "error"]
    per_min = err.set_index("timestamp").resample("1min").size()
    full = pd.date_range(logs["timestamp"].min().floor("min"), logs["timestamp"].max().floor("min"), freq="1min")
    per_min = per_min.reindex(full, fill_value=0)
    b = per_min[per_min.index < baseline_end]
    med = float(b.median()) if len(b) else 0.0
    sd = max(float((b - med).abs().median()) * 1.4826, 1.0)
    hot = ((per_min - med) / sd) >= z
    d = np.diff(np.r_[0, hot.to_numpy().astype(int), 0])
    rows = []
    for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
        rows.append({"start": full[s], "end": full[e - 1] + pd.Timedelta(minutes=1),
                     "errors": int(per_min.iloc[s:e].sum())})
    return pd.DataFrame(rows, columns=["start", "end", "errors"])


# ------------------------------------------------------------------------------------------------ timeline
def timeline(leads: pd.DataFrame, alarms: pd.DataFrame, events: pd.DataFrame, bursts: pd.DataFrame,
             signatures: pd.DataFrame, start, end) -> pd.DataFrame:
    """The events frame: ``start, end, kind, source, severity, summary, evidence`` in time order."""
    rows = []
    for r in events.itertuples() if len(events) else []:
        if r.kind == "incident":
            continue
        rows.append({"start": r.start, "end": r.end, "kind": r.kind, "source": r.source, "severity": r.severity,
                     "summary": r.summary, "evidence": getattr(r, "version", "")})
    for r in alarms.itertuples() if len(alarms) else []:
        rows.append({"start": r.timestamp, "end": pd.NaT, "kind": "alarm", "source": "cloudwatch",
                     "severity": "critical" if r.to_state == "ALARM" else "info",
                     "summary": f"{r.alarm}: {r.from_state} → {r.to_state}", "evidence": r.reason})
    for r in leads.itertuples() if len(leads) else []:
        rows.append({"start": r.onset, "end": r.recovered, "kind": "change-point", "source": "metrics",
                     "severity": "warning", "summary": f"{r.signal} left its baseline (#{r.rank})",
                     "evidence": f"{r.change}; max z {r.max_z:.1f}"})
    for r in bursts.itertuples() if len(bursts) else []:
        rows.append({"start": r.start, "end": r.end, "kind": "log-burst", "source": "logs", "severity": "warning",
                     "summary": f"{r.errors} error lines", "evidence": ""})
    for r in signatures.head(3).itertuples() if len(signatures) else []:
        if r.during and pd.notna(r.first_seen) and r.first_seen >= start:
            rows.append({"start": r.first_seen, "end": pd.NaT, "kind": "log-signature", "source": "logs",
                         "severity": "warning", "summary": f"new error signature ({r.during} during)",
                         "evidence": r.template})
    df = pd.DataFrame(rows, columns=["start", "end", "kind", "source", "severity", "summary", "evidence"])
    df["start"] = pd.to_datetime(df["start"], utc=True)
    df["end"] = pd.to_datetime(df["end"], utc=True)
    return df.sort_values("start", kind="stable").reset_index(drop=True)


@dataclass
class PostmortemTimes:
    start: pd.Timestamp | None
    detected: pd.Timestamp | None
    mitigated: pd.Timestamp | None
    resolved: pd.Timestamp | None
    reasoning: dict = field(default_factory=dict)

    def durations(self) -> dict:
        def m(a, b):
            return (b - a).total_seconds() / 60 if a is not None and b is not None else None

        return {"time_to_detect_min": m(self.start, self.detected), "time_to_mitigate_min": m(self.start,
                self.mitigated), "time_to_resolve_min": m(self.start, self.resolved)}


def postmortem_times(leads: pd.DataFrame, alarms: pd.DataFrame, primary: str | None) -> PostmortemTimes:
    """Start: the first signal's onset; detected: the first alarm to ALARM at or after it; mitigated: the primary
    symptom back within its baseline; resolved: every moved signal back. Each with its reasoning."""
    why = {}
    if leads.empty:
        return PostmortemTimes(None, None, None, None, {"start": "no signal left its baseline"})
    first = leads.iloc[0]
    start = leads["onset"].min()
    why["start"] = f"{first['signal']} left its baseline at {start:%H:%M}Z (the earliest of {len(leads)} signals)"
    det = None
    if len(alarms):
        a = alarms[(alarms["to_state"] == "ALARM") & (alarms["timestamp"] >= start - pd.Timedelta(minutes=5))]
        if len(a):
            det = a.iloc[0]["timestamp"]
            why["detected"] = f"{a.iloc[0]['alarm']} went to ALARM at {det:%H:%M}Z"
    if det is None:
        why["detected"] = "no alarm went to ALARM: the incident was not detected by the alarms"
    prim = leads[leads["signal"] == primary] if primary else leads.head(1)
    prim = prim if len(prim) else leads.head(1)
    mit = prim.iloc[0]["recovered"]
    why["mitigated"] = (f"{prim.iloc[0]['signal']} back within its baseline for 5 minutes from {mit:%H:%M}Z"
                        if pd.notna(mit) else f"{prim.iloc[0]['signal']} had not recovered by the end of the window")
    rec = leads["recovered"]
    res = rec.max() if rec.notna().all() else None
    why["resolved"] = (f"every one of the {len(leads)} signals back within baseline by {res:%H:%M}Z" if res is not None
                       else "some signals had not recovered by the end of the window")
    return PostmortemTimes(start, det, mit if pd.notna(mit) else None, res, why)


def escape_frame(df: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Text columns HTML-escaped, for renderers that do not escape (pandas' Styler does not by default)."""
    out = df.copy()
    for c in columns or [c for c in df.columns if df[c].dtype == object or str(df[c].dtype) == "string"]:
        out[c] = out[c].map(lambda v: html.escape(v) if isinstance(v, str) else v)
    return out


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&~^=:\"'])")


def md_escape(text, limit: int | None = 200) -> str:
    """Any string from data made inert in Markdown: every CommonMark punctuation character backslash-escaped
    (so ``<script>`` cannot open a tag, ``[x](javascript:...)`` and ``![img](...)`` cannot form a link or an image,
    ``&amp;`` cannot become an entity), line breaks folded, and the text shortened to ``limit``. Readable as
    plain text too: the backslashes only mark what was escaped."""
    s = " ".join(str(text).split())
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", s)


def markdown(title: str, times: PostmortemTimes, impact: dict, tl: pd.DataFrame, leads: pd.DataFrame,
             signatures: pd.DataFrame) -> str:
    """A Markdown summary and timeline to paste into a postmortem document. Every string that comes from data
    (titles, signal and alarm names, reasons, templates, evidence) goes through :func:`md_escape`."""
    def t(x):
        return f"{x:%Y-%m-%d %H:%M}Z" if x is not None and pd.notna(x) else "—"

    def minutes(x):  # a time not observed (no alarm fired, never back within baseline) is a dash, not "None"
        return "—" if x is None or not np.isfinite(x) else f"{x:.0f}"

    cell = md_escape
    d = times.durations()
    r = times.reasoning
    lines = [f"# {md_escape(title, None)}", "", "## Summary", "",
             f"- **Start:** {t(times.start)} — {cell(r.get('start', ''), None)}",
             f"- **Detected:** {t(times.detected)} — {cell(r.get('detected', ''), None)}",
             f"- **Mitigated:** {t(times.mitigated)} — {cell(r.get('mitigated', ''), None)}",
             f"- **Resolved:** {t(times.resolved)} — {cell(r.get('resolved', ''), None)}",
             f"- **Time to detect / mitigate / resolve:** {minutes(d['time_to_detect_min'])} / "
             f"{minutes(d['time_to_mitigate_min'])} / {minutes(d['time_to_resolve_min'])} minutes"
             " (— : not observed)", ""]
    lines += ["## Impact", ""] + [f"- **{cell(k)}:** {cell(v)}" for k, v in impact.items()] + [""]
    if len(leads):
        lines += ["## Where to look first", "", "| # | signal | onset | lag (min) | change |", "|---|---|---|---|---|"]
        lines += [f"| {x.rank} | {cell(x.signal)} | {t(x.onset)} | {x.lag_minutes:g} | {cell(x.change)} |"
                  for x in leads.head(8).itertuples()]
        lines.append("")
    if len(signatures):
        lines += ["## Top error signatures", "", "| during | before | template |", "|---|---|---|"]
        lines += [f"| {x.during} | {x.before} | {cell(x.template)} |" for x in signatures.head(5).itertuples()]
        lines.append("")
    lines += ["## Timeline", "", "| time (UTC) | kind | what | evidence |", "|---|---|---|---|"]
    lines += [f"| {t(x.start)} | {cell(x.kind)} | {cell(x.summary)} | {cell(x.evidence)} |" for x in tl.itertuples()]
    return "\n".join(lines) + "\n"
