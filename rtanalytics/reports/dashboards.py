"""The dashboards report as a function: ``run(...) -> DashboardsReport``; the notebook only displays it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import dashboards
from ..catalog import catalog
from ..present import Headline, table
from ..sources.evidence import RecordingSource, open_source
from ..timewindow import TimeWindow, report_window
from .result import ReportResult, comparable


@dataclass
class DashboardsReport(ReportResult):
    window: TimeWindow
    views: list
    src: RecordingSource | None = None

    @property
    def notes(self) -> list[str]:
        return [f"dashboard {v.name}, widget {c['widget']}: {c['metric']} is empty as written — {c['why']}; "
                f"corrected: {c['corrected query']}" for v in self.views for c in v.corrections]

    @property
    def headline(self) -> str:
        n_w = sum(len(v.widgets) for v in self.views)
        n_e = sum(len(v.empty) for v in self.views)
        return (f"{len(self.views)} dashboard(s), {n_w} widgets over {self.window}"
                + (f"; {n_e} metric(s) without data" if n_e else ""))

    def gaps(self) -> list[str]:
        return [f"dashboard {v.name}: could not be read — {v.error}" for v in self.views if v.error] + [
            f"dashboard {v.name}: {e} — drawn empty" for v in self.views for e in v.empty]

    def has_data(self) -> bool:
        return any(len(v.queries) > len(v.empty) for v in self.views)

    def queries(self) -> pd.DataFrame:
        frames = [v.queries.assign(dashboard=v.name) for v in self.views if len(v.queries)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def corrections(self):
        """Widgets empty as written, why, and the query that has the data (drawn below)."""
        frames = [v.correction_table().assign(dashboard=v.name) for v in self.views if v.corrections]
        if not frames:
            print("Every widget's metrics match what CloudWatch has.")
            return None

        return table(pd.concat(frames, ignore_index=True))

    def empty_table(self):
        rows = [{"dashboard": v.name, "metric without data": e, "why": "no CloudWatch metric matches it (a wrong "
                 "name or dimensions)"} for v in self.views for e in v.empty]
        rows += [{"dashboard": v.name, "metric without data": e, "why": "the metric exists but sent no datapoint "
                  "in the window (CloudWatch publishes some counts only when non-zero)"}
                 for v in self.views for e in v.quiet]
        rows += [{"dashboard": v.name, "metric without data": c["metric"], "why": "empty as written: see the "
                  "corrected query above"} for v in self.views for c in v.corrections]
        if not rows:
            print("Every metric of every widget has data.")
            return None

        return table(pd.DataFrame(rows))

    def headline_figures(self) -> list:
        s = self.summary()
        return [Headline("dashboards", "Dashboards", s["dashboards"], "count"),
                Headline("widgets", "Widgets", s["widgets"], "count"),
                Headline("metrics_drawing_nothing", "Widget metrics drawing nothing", s["metrics_drawing_nothing"],
                         "count", "warn" if s["metrics_drawing_nothing"] else "good", "down",
                         f"{len(self.notes)} with a corrected query, {s['metrics_quiet']} without datapoints")]

    def tables(self) -> dict:
        frames = [v.correction_table().assign(dashboard=v.name) for v in self.views if v.corrections]
        return {"queries": self.queries(), "corrections": pd.concat(frames, ignore_index=True) if frames else None}

    def summary(self) -> dict:
        return {"dashboards": len(self.views), "widgets": sum(len(v.widgets) for v in self.views),
                "metrics_without_data": sum(len(v.empty) for v in self.views),
                "metrics_quiet": sum(len(v.quiet) for v in self.views),
                "metrics_drawing_nothing": sum(len(v.empty) + len(v.quiet) + len(v.corrections) for v in self.views)}


@comparable
def run(source: str | None = None, environment: str = "demo", start: str = "-24h", end: str = "now",
        files_path: str = "", evidence_dir: str = "", now=None, folder=None) -> DashboardsReport:
    src = open_source(source, environment, now=now, files_path=files_path)
    window, clipped = report_window(start, end, now)
    views = dashboards.render_folder(folder or catalog().root / "dashboards", src, window)
    if evidence_dir:
        src.save_bundle(evidence_dir)
    return DashboardsReport(window, views, src)
