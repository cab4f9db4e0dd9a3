"""The KPI report as a function: ``run(...) -> KpiReport``; the notebook only displays its parts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..catalog import catalog
from ..figures.kpis import kpi_group_figure, status_table_style
from ..kpis import evaluate_kpis
from ..present import Headline, kpi_kind
from ..sources.evidence import RecordingSource, open_source, served_period, source_now
from ..timewindow import TimeWindow, period_seconds, report_window
from .result import ReportResult, comparable


@dataclass
class KpiReport(ReportResult):
    window: TimeWindow
    table: pd.DataFrame
    series: pd.DataFrame
    figures: dict = field(default_factory=dict)
    source: str = "demo"
    environment: str = "demo"
    src: RecordingSource | None = None
    notes: list = field(default_factory=list)

    @property
    def headline(self) -> str:
        counts = self.table["status"].value_counts()
        parts = [f"{counts.get(s, 0)} {s}" for s in ("alert", "warning", "ok", "no data") if counts.get(s, 0)]
        return (f"{len(self.table)} KPIs over {self.window} ({self.source} source, {self.environment}): "
                + ", ".join(parts))

    def gaps(self) -> list[str]:
        out = [f"KPI {r.kpi}: no data in the window — its status is unknown, not ok"
               for r in self.table.itertuples() if r.status == "no data"]
        out += [f"KPI {r.kpi}: computed from incomplete data (see below) — {r.value:.6g} may be wrong"
                for r in self.table.itertuples() if r.status != "no data" and not r.complete]
        return out

    def has_data(self) -> bool:
        return bool(len(self.table)) and bool((self.table["status"] != "no data").any())

    def summary(self) -> dict:
        figs = {f"{r.kpi}": r.value for r in self.table.itertuples()}
        figs |= {f"{r.kpi}.status": r.status for r in self.table.itertuples()}
        figs["kpis_in_alert"] = int((self.table["status"] == "alert").sum())
        return figs

    def headline_figures(self) -> list:
        tone = {"ok": "good", "warning": "warn", "alert": "bad", "no data": "bad"}
        better = {"availability": "up", "throughput": "up"}
        out = []
        for r in self.table.itertuples():
            if r.kpi not in ("availability", "response_time", "error_rate", "throughput"):
                continue
            kind, suffix = kpi_kind(r.unit)
            out.append(Headline(r.kpi, r.title, r.value, kind, tone.get(r.status), better.get(r.kpi, "down"),
                                f"target {r.target}, alert {r.alert_threshold} {r.unit}".strip(), suffix))
        n = int((self.table["status"] == "alert").sum())
        out.append(Headline("kpis_in_alert", "KPIs in alert", n, "count", "bad" if n else "good", "down",
                            f"of {len(self.table)}"))
        return out

    def tables(self) -> dict:
        return {"status": self.table, "series": self.series}

    def status_table(self):
        return status_table_style(self.table)


@comparable
def run(source: str | None = None, environment: str = "demo", start: str = "-7d", end: str = "now",
        period: str = "5m", kpis: list[str] | None = None, files_path: str = "", evidence_dir: str = "",
        now=None) -> KpiReport:
    cat = catalog()
    env = cat.environment(environment)
    src = open_source(source, environment, now=now, files_path=files_path)
    window, clipped = report_window(start, end, now)
    p = period_seconds(period)

    served = served_period(src, p, window.start, source_now(src))
    notes = list(clipped)
    if served != p:
        notes.append(f"chart period {p} s is finer than CloudWatch keeps for a window starting "
                     f"{window.start:%Y-%m-%d %H:%M} UTC: using {served} s, the finest it keeps")
        p = served
    table, series = evaluate_kpis(cat.kpis, src, window, env.resources.substitutions(), period=p,
                                  names=list(kpis) if kpis else None)
    rep = KpiReport(window, table, series, source=src.name, environment=environment, src=src, notes=notes)
    if evidence_dir:
        src.save_bundle(evidence_dir)
    for group in dict.fromkeys(table["group"]):
        rep.figures[group] = kpi_group_figure(series, table, cat.kpis, group)
    return rep
