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

import functools
import html
import inspect
from pathlib import Path

import numpy as np
import pandas as pd

from ..present import HeadlineBlock, fmt_value, table, window_text
from ..sources.evidence import provenance, provenance_frame
from ..timewindow import TimeWindow, parse_time
from .glue import report_summary


def parse_compare(spec: str, window=None):
    """``previous`` / ``last-week`` / ``START/END`` → the comparison window for ``window`` (a ``TimeWindow``),
    or None for an empty spec. Without ``window`` it only checks the spec."""
    spec = (spec or "").strip()
    if not spec:
        return None
    if spec in ("previous", "last-week"):
        if window is None:
            return None
        shift = (window.end - window.start) if spec == "previous" else pd.Timedelta(days=7)
        return TimeWindow(window.start - shift, window.end - shift)
    if "/" in spec:
        a, b = spec.split("/", 1)
        try:
            start, end = parse_time(a.strip()), parse_time(b.strip())
        except ValueError as e:
            raise ValueError(f"compare {spec!r}: {e}") from None
        if not start < end:
            raise ValueError(f"compare {spec!r}: start is not before end")
        return TimeWindow(start, end)
    raise ValueError(f"compare {spec!r}: use previous, last-week or START/END (ISO 8601)")


def comparable(func):
    """Decorate a report's ``run()``: the result remembers how it was made, so :meth:`ReportResult.compare` can
    compute the same report over another window with the same parameters."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        res = func(*args, **kwargs)
        try:
            object.__setattr__(res, "_rerun", (func, args, kwargs))
        except (AttributeError, TypeError):
            pass
        return res

    return wrapper


class ReportResult:
    src = None

    @property
    def provenance(self) -> dict:
        """What the result was computed from (see :func:`rtanalytics.sources.evidence.provenance`)."""
        return provenance(self.src) if self.src is not None else {}

    def provenance_table(self):
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

        return table(pd.DataFrame(rows))

    def headline_figures(self) -> list:
        """The two to five figures that matter, as :class:`rtanalytics.present.Headline` (reports override)."""
        return []

    def analysed_window(self):
        """The window the report actually analysed (a ``TimeWindow``), for the headline and the index."""
        return getattr(self, "window", None)

    def headline_block(self):
        """The block every report opens with: status, what it means, the window analysed and the figures."""
        return HeadlineBlock(self.status, self.status_line(), self.headline_figures(),
                             window_text(self.analysed_window()))

    def compare(self, spec: str):
        """The same report over another window (``previous``, ``last-week`` or ``START/END``), its headline
        figures side by side with this window's: the change and whether it is better or worse (each figure
        declares which way is good). None for an empty spec."""
        mine = self.analysed_window()
        other_w = parse_compare(spec, mine)
        if other_w is None:
            return None
        call = getattr(self, "_rerun", None)
        if call is None or mine is None:
            print(f"This report cannot be recomputed over another window ({type(self).__name__}).")
            return None
        func, args, kwargs = call
        accepted = inspect.signature(func).parameters
        kw = {k: v for k, v in {**kwargs, "start": other_w.start.isoformat(), "end": other_w.end.isoformat(),
                                "evidence_dir": "", "probe": False}.items() if k in accepted}
        other = func(*args, **kw)
        theirs = {f.key: f for f in other.headline_figures()}
        rows = []
        for f in self.headline_figures():
            o = theirs.get(f.key)
            a, b = f.value, o.value if o is not None else None
            change, verdict = None, ""
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
                    and np.isfinite(a) and np.isfinite(b):
                change = a - b
                if change and f.better in ("up", "down"):
                    verdict = "better" if (change > 0) == (f.better == "up") else "worse"
                elif change == 0:
                    verdict = "same"
            rows.append({"figure": f.label, "this window": html.unescape(f.text),
                         "compared window": html.unescape(o.text) if o is not None else None,
                         "change": (("+" if change > 0 else "") + fmt_value(change, f.kind)) if change else (
                             "0" if change == 0 else None),
                         "verdict": verdict or None})
        self.comparison_window = other_w
        self.compared = other

        frame = pd.DataFrame(rows)
        st = table(frame, units={c: "text" for c in frame.columns},
                   caption=f"this: {window_text(mine)}; compared: {window_text(other_w)} (status {other.status})",
                   na={"compared window": "not computable in that window", "change": "not a number, or no "
                       "value in one of the windows", "verdict": "no direction declared, or no change"})
        colours = {"better": "color: #2e7d32; font-weight: 600", "worse": "color: #c62828; font-weight: 600"}
        return st.map(lambda v: colours.get(v, ""), subset=["verdict"])

    def tables(self) -> dict:
        """The report's main tables by name (DataFrames), saved beside the report (reports override)."""
        return {}

    def save_tables(self, output_dir: str) -> list[str]:
        """Each of :meth:`tables` as ``tables/NAME.csv`` and ``tables/NAME.parquet`` in ``output_dir`` (the run's
        folder), for analysts to take into their own notebooks; returns the files written (relative)."""
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
