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
        from ..present import table

        return table(provenance_frame(self.provenance))

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
        from ..present import table

        return table(pd.DataFrame(rows))

    def headline_figures(self) -> list:
        """The two to five figures that matter, as :class:`rtanalytics.present.Headline` (reports override)."""
        return []

    def analysed_window(self):
        """The window the report actually analysed (a ``TimeWindow``), for the headline and the index."""
        return getattr(self, "window", None)

    def headline_block(self):
        """The block every report opens with: status, what it means, the window analysed and the figures."""
        from ..present import HeadlineBlock, window_text

        return HeadlineBlock(self.status, self.status_line(), self.headline_figures(),
                             window_text(self.analysed_window()))

    def tables(self) -> dict:
        """The report's main tables by name (DataFrames), saved beside the report (reports override)."""
        return {}

    def save_tables(self, output_dir: str) -> list[str]:
        """Each of :meth:`tables` as ``tables/NAME.csv`` and ``tables/NAME.parquet`` in ``output_dir`` (the run's
        folder), for analysts to take into their own notebooks; returns the files written (relative)."""
        from pathlib import Path

        if not output_dir:
            return []
        folder = Path(output_dir) / "tables"
        written = []
        for name, df in self.tables().items():
            if df is None or not isinstance(df, pd.DataFrame):
                continue
            folder.mkdir(parents=True, exist_ok=True)
            d = _portable(df)
            d.to_csv(folder / f"{name}.csv", index=False)
            d.to_parquet(folder / f"{name}.parquet", index=False)
            written += [f"tables/{name}.csv", f"tables/{name}.parquet"]
        return written

    def publish(self, output_dir: str = "") -> None:
        """Hand key figures, status, notes and provenance to the runner (a report notebook's last cell); with
        ``output_dir`` (the runner's run folder) the main tables are saved there too."""
        from .glue import report_summary

        w = self.analysed_window()
        extra = {"headline": [f.as_dict() for f in self.headline_figures()],
                 "window": {"start": w.start.isoformat(), "end": w.end.isoformat()} if w is not None else None,
                 "tables": self.save_tables(output_dir)}
        report_summary(self.summary(), self.status, self.all_notes(), self.provenance, extra=extra)


def _portable(df: pd.DataFrame) -> pd.DataFrame:
    """A table as CSV and Parquet can hold it: the index as columns when it means something, column names as
    text, and mixed or nested values (dicts, lists, Timestamps among strings) as text; numbers, times and NaN
    stay what they are."""
    d = df.copy()
    d.attrs = {}  # frame metadata (completeness, working frames) is not table data: Parquet would try to keep it
    if not (isinstance(d.index, pd.RangeIndex) and d.index.name is None):
        d = d.reset_index()
    if isinstance(d.columns, pd.MultiIndex):
        d.columns = [" ".join(str(x) for x in c if str(x)) for c in d.columns]
    d.columns = [str(c) for c in d.columns]
    for c in d.columns:
        if d[c].dtype == object:
            kinds = {type(v) for v in d[c].dropna()}
            if kinds and not kinds <= {str}:
                d[c] = d[c].map(lambda v: v if v is None or (isinstance(v, float) and v != v) else
                                (v.isoformat() if hasattr(v, "isoformat") else str(v)))
    return d
