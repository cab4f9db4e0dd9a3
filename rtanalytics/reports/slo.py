"""The SLO report as a function: ``run(...) -> SloReport``; the notebook only displays its parts."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import backtest as bt
from .. import slo as S
from ..alarms import evaluate_states, load_alarms
from ..catalog import catalog
from ..catalog.openslo import SLO, OpenSLOCatalog, load_openslo
from ..errors import CatalogError, ParameterError
from ..figures import slo as fs
from ..present import Headline, fmt_pct
from ..queries import MetricQuery
from ..retention import oldest_start, serve_period
from ..sources.evidence import RecordingSource, open_source, source_now, unwrap
from ..timewindow import TimeWindow, parse_duration, report_window, to_utc
from .result import ReportResult, comparable


def slo_window(slo: SLO, end: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The SLO's current window ending at ``end``: rolling ``[end - duration, end)``, or the calendar period
    (month, quarter, year; or a fixed duration stepped from ``calendar.startTime``) that contains ``end``."""
    tw = slo.spec.timeWindow[0]
    if tw.isRolling:
        return end - parse_duration(tw.duration), end
    cal = tw.calendar
    tz = cal.timeZone
    local_end = end.tz_convert(tz)
    anchor = pd.Timestamp(cal.startTime).tz_localize(tz) if pd.Timestamp(cal.startTime).tzinfo is None else \
        pd.Timestamp(cal.startTime).tz_convert(tz)
    unit, n = tw.duration[-1], tw.duration[:-1]
    if unit in "MQY" and n.isdigit():
        months = int(n) * {"M": 1, "Q": 3, "Y": 12}[unit]
        k = ((local_end.year - anchor.year) * 12 + local_end.month - anchor.month) // months
        start = anchor + pd.DateOffset(months=k * months)
        if start > local_end:
            start = start - pd.DateOffset(months=months)
    else:
        d = parse_duration(tw.duration)
        start = anchor + d * int((local_end - anchor) / d)
    return start.tz_convert("UTC"), end


def _query(spec, subs, period, label) -> MetricQuery:
    dims = {d.name: string.Template(d.value).safe_substitute(subs) for d in spec.dimensions}
    return MetricQuery(spec.namespace, spec.metricName, dims, spec.stat, period, label=label)


def _kept(history: TimeWindow, period: int, source) -> TimeWindow:
    """``history`` cut to where CloudWatch still keeps ``period`` (a timeslice SLO's slices are fixed: 5-minute
    slices exist for 63 days only)."""
    oldest = oldest_start(period, source_now(source)).ceil(f"{period}s")
    return history if history.start >= oldest else TimeWindow(min(oldest, history.end - pd.Timedelta(
        seconds=period)), history.end)


def _closed(history: TimeWindow, period: int) -> TimeWindow:
    """``history`` ending at the last slice boundary: a slice still open at the end (the current hour, with two
    minutes of requests) is judged when it is complete, never as a bad slice."""
    end = history.end.floor(f"{period}s")
    return history if end >= history.end or end <= history.start else TimeWindow(history.start, end)


def build_sli(slo: SLO, cat: OpenSLOCatalog, source, history: TimeWindow, subs: dict, period: int) -> S.Sli:
    """Fetch the SLO's metrics and build its SLI over ``history`` (from where CloudWatch keeps its period)."""
    ind = cat.indicator(slo)
    obj = slo.spec.objectives[0]
    missing = slo.metadata.annotations.get("rtanalytics/missing-slices", "exclude")
    if ind.ratioMetric is not None:
        rm = ind.ratioMetric
        if slo.spec.budgetingMethod in ("RatioTimeslices", "Timeslices") and obj.timeSliceWindow:
            period = int(parse_duration(obj.timeSliceWindow).total_seconds())
            history = _closed(history, period)
        if rm.raw is not None:  # a precomputed ratio per period (of good events, or of bad ones)
            q = _query(rm.raw.metricSource.spec, subs, period, "raw")
            r = source.metrics([q], _kept(history, period, source))["raw"]
            r = r / 100.0 if r.max(skipna=True) > 1.0 else r  # a percentage
            good = r if rm.rawType == "success" else 1.0 - r
            return S.fraction_sli(r.index, good, period, missing)
        first = rm.good or rm.bad
        qs = [_query(first.metricSource.spec, subs, period, "num"), _query(rm.total.metricSource.spec, subs, period,
                                                                             "total")]
        df = source.metrics(qs, _kept(history, period, source))
        if slo.spec.budgetingMethod == "RatioTimeslices":
            good = df["num"] if rm.good else df["total"] - df["num"].fillna(0)
            if obj.timeSliceTarget is None:  # no per-slice target: the budget is the mean of the slice ratios
                return S.fraction_sli(df.index, good / df["total"].where(df["total"] > 0), period, missing)
            return S.ratio_timeslice_sli(df.index, good, df["total"], obj.timeSliceTarget, period, missing)
        if rm.good:
            return S.occurrences_sli(df.index, good=df["num"], total=df["total"], period_s=period)
        return S.occurrences_sli(df.index, bad=df["num"], total=df["total"], period_s=period)
    if slo.spec.budgetingMethod == "Occurrences":
        raise CatalogError("parameters/slos", f"SLO {slo.metadata.name}", "a thresholdMetric SLI needs "
                           "Timeslices budgeting (Occurrences needs a ratioMetric)")
    if obj.op is None or obj.value is None:
        raise CatalogError("parameters/slos", f"SLO {slo.metadata.name}.objectives[0]", "a thresholdMetric "
                           "objective needs op and value")
    sp = int(parse_duration(obj.timeSliceWindow).total_seconds())
    history = _closed(history, sp)
    q = _query(ind.thresholdMetric.metricSource.spec, subs, sp, "value")
    df = source.metrics([q], _kept(history, sp, source))
    return S.timeslice_sli(df.index, df["value"], obj.op, obj.value, sp, missing)


def exclusion_intervals(spec: list[str], events: pd.DataFrame, after_deploy="30m") -> list[tuple]:
    """``start/end`` ISO intervals, or ``deploys`` (each deploy and the ``after_deploy`` that follows)."""
    out = []
    for item in spec:
        if item == "deploys":
            d = events[events["kind"] == "deploy"] if len(events) else events
            out += [(s, s + parse_duration(after_deploy)) for s in d.get("start", [])]
        else:
            try:
                a, b = item.split("/")
                out.append((to_utc(a), to_utc(b)))
            except ValueError:
                raise ParameterError("exclude", f"cannot read {item!r}",
                                     "'deploys' or ISO intervals START/END like 2026-11-11T18:00Z/2026-11-11T19:00Z")
    return out


@dataclass
class SloReport(ReportResult):
    window: TimeWindow
    slos: dict
    slis: dict
    table: pd.DataFrame
    table_without_exclusions: pd.DataFrame
    budgets: dict
    alerts: pd.DataFrame
    incidents: pd.DataFrame
    comparison: pd.DataFrame
    exclusions: list
    src: RecordingSource | None = None
    notes: list = field(default_factory=list)

    def gaps(self) -> list[str]:
        out = [n for n in self.notes if "stale" in n or "part of the window" in n or "charted from" in n
               or "not computable" in n or "not simulated" in n]
        if "attainment" in self.table:
            out += [f"SLO {r.slo}: no data in its window — attainment and budget unknown"
                    for r in self.table.itertuples() if not np.isfinite(r.attainment)]
        return out

    def has_data(self) -> bool:
        return "attainment" in self.table and bool(np.isfinite(self.table["attainment"].astype(float)).any())

    def burndowns(self) -> dict:
        return {n: S.burndown(self.slis[n], b.target, b.start, b.end) for n, b in self.budgets.items()}

    def burn_heatmap(self, bucket="6h", window="1h") -> pd.DataFrame:
        """Max burn rate over ``window`` within each ``bucket`` of the report window, per SLO."""
        cols = {}
        for n, sli in self.slis.items():
            t = self.budgets[n].target
            br = pd.Series(S.burn_rate(sli, window, t), index=sli.index)
            br = br[(br.index >= self.window.start) & (br.index < self.window.end)]
            cols[n] = br.resample(bucket).max()
        return pd.DataFrame(cols)

    def figures(self) -> dict:
        return {"burndown": fs.burndown_figure(self.burndowns(), self.budgets),
                "heatmap": fs.burn_heatmap(self.burn_heatmap()),
                "alerts": fs.alert_timeline(self.alerts, self.incidents, self.window)}

    def summary(self) -> dict:
        out = {}
        for r in self.table.itertuples():
            out[f"{r.slo}.attainment"] = r.attainment
            out[f"{r.slo}.budget_remaining"] = r.remaining
            out[f"{r.slo}.status"] = r.status
        out["pages"] = int((self.alerts["severity"] == "page").sum()) if len(self.alerts) else 0
        return out

    def headline_figures(self) -> list:
        out = []
        t = self.table
        for r in t.itertuples():
            rem = float(r.remaining) if pd.notna(r.remaining) else np.nan
            tone = None if not np.isfinite(rem) else ("bad" if rem <= 0 else "warn" if rem < 0.25 else "good")
            out.append(Headline(f"{r.slo}.budget_remaining", f"{r.slo} budget left", rem, "pct", tone, "up",
                                f"attainment {_pct(r.attainment)} of {_pct(r.target)}, {r.window}"))
        if "burn_1h" in t and t["burn_1h"].notna().any():
            i = t["burn_1h"].astype(float).idxmax()
            b = float(t.loc[i, "burn_1h"])
            out.append(Headline("fastest_burn", "Burning fastest (1 h)", b, "number",
                                "bad" if b >= 14.4 else "warn" if b >= 1 else "good", "down",
                                str(t.loc[i, "slo"]) if b > 0 else "nothing is burning budget", "×"))
        pages = int((self.alerts["severity"] == "page").sum()) if len(self.alerts) else 0
        out.append(Headline("pages", "Burn-rate pages", pages, "count", "bad" if pages else "good", "down",
                            "multiwindow alerts in the window"))
        return out

    def tables(self) -> dict:
        return {"slos": self.table, "working": self.working(), "alerts": self.alerts, "comparison": self.comparison}

    def working(self) -> pd.DataFrame:
        """Every figure with its good and total counts, window boundaries and formula."""
        return pd.DataFrame([dict(slo=n, **b.row()) for n, b in self.budgets.items()])


def _pct(v) -> str:
    return fmt_pct(v)


def _status(b: S.Budget, is_stale: bool, paging: bool) -> str:
    if is_stale:
        return "stale"
    if b.total == 0:
        return "no data"
    if b.remaining <= 0:
        return "exhausted"
    if b.remaining < 0.25 or paging:
        return "at risk"
    return "ok"


def _table(slos, slis, budgets, alerts, end, stale_flags) -> pd.DataFrame:
    rows = []
    for n, b in budgets.items():
        slo = slos[n]
        burn1h = float(S.burn_rate(slis[n], "1h", b.target)[-1]) if slis[n].good.size else 0.0
        paging = bool(len(alerts) and ((alerts["slo"] == n) & (alerts["severity"] == "page") & (
            alerts["end"].isna())).any())
        tw = slo.spec.timeWindow[0]
        ex = S.exhaustion(b, S.burn_rate(slis[n], "24h", b.target)[-1] if slis[n].good.size else 0.0,
                          tw.duration if tw.isRolling else b.end - b.start)
        rows.append({"slo": n, "objective": slo.metadata.displayName or n, "budgeting": slo.spec.budgetingMethod,
                     "window": tw.duration + (" rolling" if tw.isRolling else " calendar"), "target": b.target,
                     "attainment": b.attainment, "remaining": b.remaining, "minutes_left": b.remaining_minutes,
                     "burn_1h": burn1h, "exhausted_by": ex.floor("min") if ex is not None else None, "status": _status(b, stale_flags[n], paging)})
    return pd.DataFrame(rows)


@comparable
def run(source: str | None = None, environment: str = "demo", start: str = "-30d", end: str = "now",
        slos: list | None = None, exclude: list | None = None, files_path: str = "", evidence_dir: str = "",
        now=None, slo_dir=None) -> SloReport:
    cat = load_openslo(slo_dir or catalog().root / "slos")
    env = catalog().environment(environment)
    subs = env.resources.substitutions()
    src = open_source(source, environment, now=now, files_path=files_path)
    window, clipped = report_window(start, end, now)
    chosen = {n: s for n, s in cat.slos.items() if not slos or n in slos}
    if slos and set(slos) - set(chosen):
        raise ParameterError("slos", f"unknown SLO(s) {sorted(set(slos) - set(chosen))}", ", ".join(cat.slos))
    not_computable = {}
    for n, s_ in list(chosen.items()):
        ok, why = cat.computable(s_)
        if not ok:
            not_computable[n] = why
            chosen.pop(n)
    windows = {n: slo_window(s, window.end) for n, s in chosen.items()}
    h_start = min([w[0] for w in windows.values()] + [window.start]) - pd.Timedelta(days=3)
    history = TimeWindow(h_start.floor("h"), window.end)

    period = serve_period(60, history.start, source_now(src))  # the finest CloudWatch keeps for the history
    events = src.events(TimeWindow(h_start, window.end))
    intervals = exclusion_intervals(list(exclude or []), events)
    no_deploys = "deploys" in (exclude or []) and not (events["kind"] == "deploy").any() if len(events) else \
        "deploys" in (exclude or [])
    slis_raw = {n: build_sli(s, cat, src, history, subs, period) for n, s in chosen.items()}
    slis = {n: S.exclude(sli, intervals) for n, sli in slis_raw.items()} if intervals else slis_raw
    now_ts = to_utc(now) if now is not None else window.end
    stale_flags = {n: S.stale(sli, min(now_ts, window.end),
                              chosen[n].metadata.annotations.get("rtanalytics/stale-after",
                                                                 f"{max(30, 3 * sli.period_s // 60)}m"))
                   for n, sli in slis_raw.items()}

    def analyse(n):  # one SLO's budgets, alert episodes and table burn rates, on its own SLIs (one thread each)
        s = chosen[n]
        target = s.spec.objectives[0].target
        conds = cat.burn_conditions(s)
        rules = [S.BurnRule(c.metadata.name, c.spec.severity, c.spec.condition.lookbackWindow,
                            S.short_window(c.spec.condition.lookbackWindow), c.spec.condition.threshold,
                            c.spec.condition.alertAfter) for c in conds if c.spec.condition.op in ("gt", "gte")]
        unsim = [f"{n}: alert condition {c.metadata.name} fires when the burn rate is "
                 f"{c.spec.condition.op} {c.spec.condition.threshold:g} — listed, not simulated (burn-rate "
                 "alerts here fire on a burn rate at or above a threshold)"
                 for c in conds if c.spec.condition.op not in ("gt", "gte")]
        a = S.burn_alerts(slis[n], target, rules)
        a = a[(a["start"] >= window.start) & (a["start"] < window.end)]
        for sli in {id(slis[n]): slis[n], id(slis_raw[n]): slis_raw[n]}.values():
            for w in ("1h", "24h") if sli.good.size else ():  # what the table reads: cached on the SLI
                S.burn_rate(sli, w, target)
        return (S.budget(slis[n], target, *windows[n]), S.budget(slis_raw[n], target, *windows[n]),
                a.assign(slo=n), unsim)

    analysed = dict(zip(chosen, S.map_slos(analyse, chosen)))
    budgets = {n: r[0] for n, r in analysed.items()}
    budgets_raw = {n: r[1] for n, r in analysed.items()}
    alerts = [r[2] for r in analysed.values()]
    unsimulated: list[str] = [u for r in analysed.values() for u in r[3]]
    alerts = pd.concat(alerts, ignore_index=True) if alerts else pd.DataFrame(
        columns=["rule", "severity", "start", "end", "slo"])
    table = _table(chosen, slis, budgets, alerts, window.end, stale_flags)
    table_raw = _table(chosen, slis_raw, budgets_raw, alerts, window.end, stale_flags)
    inner = unwrap(src)
    incidents = src.incidents(window) if hasattr(inner, "incidents") else pd.DataFrame(
        columns=["id", "incident", "start", "end"])
    comparison = compare_alerting(alerts, incidents, src, window, load_alarms(environment=environment))
    if evidence_dir:
        src.save_bundle(evidence_dir)
    notes = list(clipped) + [f"{n}: no data has arrived for {chosen[n].metadata.annotations.get('rtanalytics/stale-after', '30m+')}"
             f" — flagged stale, not counted as good" for n, f in stale_flags.items() if f]
    for n, sli in slis_raw.items():
        if len(sli.index) and sli.index[0] > windows[n][0]:
            notes.append(f"{n}: its {sli.period_s // 60}-minute slices exist in CloudWatch only from "
                         f"{sli.index[0]:%Y-%m-%d %H:%M} UTC, after the start of its window — attainment and budget "
                         "cover part of the window")
        elif len(sli.index) and sli.index[0] > window.start:
            notes.append(f"{n}: charted from {sli.index[0]:%Y-%m-%d %H:%M} UTC, where CloudWatch's "
                         f"{sli.period_s // 60}-minute data begins")
    notes += unsimulated
    if no_deploys:
        notes.append("exclude deploys: the source reported no deploy in the history"
                     + (f" ({'; '.join(events.attrs['searched'])} searched)" if events.attrs.get("searched") else
                        " — it may record none (a files export without events): nothing was excluded"))
    notes += [f"SLO {n}: {why}" for n, why in not_computable.items()]
    return SloReport(window, chosen, slis, table, table_raw, budgets, alerts, incidents, comparison, intervals, src,
                     notes)


def compare_alerting(alerts: pd.DataFrame, incidents: pd.DataFrame, src, window: TimeWindow, alarms) -> pd.DataFrame:
    """Which incidents the burn-rate pages and the seed's static alarms catch, how fast, with how many false
    pages (grace 30 minutes after an incident)."""
    rows = []
    pages = alerts[alerts["severity"] == "page"] if len(alerts) else alerts
    eps = pages[["start", "end"]].sort_values("start") if len(pages) else pd.DataFrame(columns=["start", "end"])
    per_inc, per_ep = bt.match(eps.reset_index(drop=True), incidents)
    rows.append({"approach": "SLO burn-rate pages (multiwindow)", "pages": len(eps),
                 "false_pages": int((~per_ep["true_alarm"]).sum()) if len(per_ep) else 0,
                 "incidents": len(per_inc), "caught": int(per_inc["detected"].sum()) if len(per_inc) else 0,
                 "mean_detection_minutes": float(per_inc["detection_minutes"].mean()) if len(per_inc) else np.nan})
    series = bt.alarm_series(alarms, src, TimeWindow(window.start - pd.Timedelta(hours=6), window.end))

    all_eps = []
    for a in alarms:
        s = series[a.AlarmName]
        e = bt.episodes(evaluate_states(a, s.to_numpy(dtype=float)), s.index + pd.Timedelta(seconds=a.Period))
        all_eps.append(e[e["start"] >= window.start])
    eps2 = pd.concat(all_eps, ignore_index=True).sort_values("start") if all_eps else eps
    per_inc2, per_ep2 = bt.match(eps2.reset_index(drop=True), incidents)
    rows.append({"approach": "seed's static alarms (all)", "pages": len(eps2),
                 "false_pages": int((~per_ep2["true_alarm"]).sum()) if len(per_ep2) else 0,
                 "incidents": len(per_inc2), "caught": int(per_inc2["detected"].sum()) if len(per_inc2) else 0,
                 "mean_detection_minutes": float(per_inc2["detection_minutes"].mean()) if len(per_inc2) else np.nan})
    return pd.DataFrame(rows)
