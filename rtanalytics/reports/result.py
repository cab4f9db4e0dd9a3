"""What every report's result object shares: provenance, status (ok or partial), and handing itself to the
runner (the msticnb pattern: ``run(...) -> Result``; the notebook narrates the result)."""

from __future__ import annotations

import pandas as pd

from ..sources.evidence import provenance, provenance_frame


class ReportResult:
    src = None

    @property
    def provenance(self) -> dict:
        """What the result was computed from (see :func:`rtanalytics.sources.evidence.provenance`)."""
        return provenance(self.src) if self.src is not None else {}

    def provenance_table(self):
        return provenance_frame(self.provenance).style.format(escape="html").hide(axis="index")

    @property
    def status(self) -> str:
        """``partial`` when some data could not be had (the notes say which), else ``ok``."""
        return "ok" if self.provenance.get("complete", True) else "partial"

    def missing_data(self) -> pd.DataFrame:
        """Queries (and time slices) whose data could not be had, with the cause; empty when complete."""
        return pd.DataFrame(self.provenance.get("problems", []), columns=["query", "start", "end", "reason"])

    def all_notes(self) -> list[str]:
        own = list(getattr(self, "notes", None) or [])
        return own + [f"missing data: {p['query']} {p['start']}..{p['end']}: {p['reason']}"
                      for p in self.provenance.get("problems", [])]

    def publish(self) -> None:
        """Hand key figures, status, notes and provenance to the runner (a report notebook's last cell)."""
        from .glue import report_summary

        report_summary(self.summary(), self.status, self.all_notes(), self.provenance)
