"""What every report's result object shares: provenance, status, and handing itself to the runner (the
msticnb pattern: ``run(...) -> Result``; the notebook narrates the result).

Status (see the README, "What ``ok`` means"):

* ``ok`` — every figure the report shows was computed from complete data: the source answered every query
  completely (no throttling past retries, no PartialData, no retention-tier gap, no failed log or alarm-history
  call) and the analysis had enough data for each figure it reports;
* ``partial`` — some figure could not be computed, or was computed from incomplete data; :meth:`all_notes`
  says which and why (the source's problems, then the report's own gaps);
* ``no-data`` — nothing the report exists to show could be computed (an empty export folder, a window
  before any data).

Only ``ok`` runs become a report's "latest good" run.
"""

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

    def gaps(self) -> list[str]:
        """Figures this report could not compute, or computed from too little data, in words. Reports add
        their own (a KPI without data, a forecast without history); an empty list means none."""
        return []

    def has_data(self) -> bool:
        """False when nothing the report exists to show could be computed (status ``no-data``)."""
        return True

    @property
    def status(self) -> str:
        """``ok``, ``partial`` or ``no-data`` (see the module docstring)."""
        if not self.has_data():
            return "no-data"
        if not self.provenance.get("complete", True) or self.gaps():
            return "partial"
        return "ok"

    def missing_data(self) -> pd.DataFrame:
        """Queries (and time slices) whose data could not be had, with the cause; empty when complete."""
        return pd.DataFrame(self.provenance.get("problems", []), columns=["query", "start", "end", "reason"])

    def all_notes(self) -> list[str]:
        own = list(getattr(self, "notes", None) or [])
        own += [n for n in self.provenance.get("source_notes", []) if n not in own]
        gaps = [g for g in self.gaps() if g not in own]
        return own + gaps + [f"missing data: {p['query']} {p['start']}..{p['end']}: {p['reason']}"
                             for p in self.provenance.get("problems", [])]

    def status_line(self) -> str:
        """One sentence for the top of a report: the status, the source and environment, and why if not ok."""
        prov = self.provenance
        src, env = prov.get("source", "?"), prov.get("environment") or "?"
        st = self.status
        label = f"Status: {st.upper()} — {src} source, environment {env}"
        if src == "demo":
            label += " (SIMULATED data from the embedded demo, not a real account)"
        if st == "ok":
            return label + ": every figure below was computed from complete data."
        n_prob, n_gap = len(prov.get("problems", [])), len(self.gaps())
        why = []
        if n_prob:
            why.append(f"{n_prob} quer{'y' if n_prob == 1 else 'ies'}/slice{'s' if n_prob != 1 else ''} of data "
                       "could not be had")
        if n_gap:
            why.append(f"{n_gap} figure{'s' if n_gap != 1 else ''} could not be computed from complete data")
        return label + ": " + ("; ".join(why) or "no data in the window") + " (see 'Missing data' below)."

    def data_notes(self):
        """What is missing and why, as a table (the report's gaps, then each query or call the source could
        not answer); says so in a sentence when nothing is missing."""
        rows = [{"what": "figure", "detail": g} for g in self.gaps()]
        rows += [{"what": f"{p.get('kind', 'data')}: {p['query']}",
                  "detail": f"{p['start'][:16]}..{p['end'][:16]}: {p['reason']}"}
                 for p in self.provenance.get("problems", [])]
        if not rows:
            print("Nothing missing: every figure above was computed from complete data.")
            return None
        return pd.DataFrame(rows).style.format(escape="html").hide(axis="index")

    def publish(self) -> None:
        """Hand key figures, status, notes and provenance to the runner (a report notebook's last cell)."""
        from .glue import report_summary

        report_summary(self.summary(), self.status, self.all_notes(), self.provenance)
