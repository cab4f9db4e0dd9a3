"""One formatting layer for every report: values in the units people read, tables without the pandas index,
missing values as an em dash with a footnote, and the headline block that opens each report.

``setup_notebook()`` registers :func:`table` as the HTML formatter of every DataFrame and Series a report
shows, so a notebook displays ``report.scores`` and gets the same formatting as a hand-styled table. Every
string that reaches HTML here is escaped (values come from data: log lines, alarm reasons, labels).

Column kinds are inferred from the column's name and values (see :func:`infer_kind`); a report can name them
(``units={"value": "s"}``) where the name does not say.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .names import short_labels, short_name  # noqa: F401  (re-exported)

import numpy as np
import pandas as pd

DASH = "—"

#: what an em dash means in a column, where it means something more precise than "not available"
NA_MEANING = {
    "exhausted_by": "not running out at the last 24 hours' burn rate",
    "alert_expected": "not within the forecast horizon", "limit_expected": "not within the forecast horizon",
    "earliest": "not within the forecast horizon", "latest": "not within the forecast horizon",
    "mtta_minutes": "nothing to acknowledge (no ALARM in the window)",
    "longest_outage_start": "no outage in the window", "longest_outage_minutes": "no outage in the window",
    "retention_days": "never expires", "retention": "never expires",
    "detection_minutes": "not detected", "reset_minutes": "not detected or not reset",
    "first_seen": "not seen", "score": "not scored (no data in the window)",
}

_RATIO_NAMES = re.compile(r"(^|_)(attainment|availability|remaining|budget_remaining|precision|recall|coverage|share|"
                          r"fraction|objective|target|quote_rate|project_rate|conversion|success_ratio|ratio|sli)($|_)")
_PCT_NAMES = re.compile(r"(%|(^|_)pct($|_)|percent)")
_COUNT_NAMES = re.compile(r"(count|requests|errors|pages|incidents|alarms|episodes|events|lines|total|good|bad|"
                          r"invocations|throttles|n_|number|widgets|datapoints|calls|users|sessions|quotes|projects|"
                          r"before|during|notifications|findings|bytes|records)", re.I)


def _dur_unit(name: str) -> float | None:
    """Seconds per unit when the column's name says it is a duration."""
    n = name.lower().strip()
    if re.search(r"(^|_| )(minutes|mins?)($|_| |\))", n) or n.endswith("_min"):
        return 60.0
    if re.search(r"(^|_| )(hours|h)($|\))", n) or n.endswith("_hours"):
        return 3600.0
    if re.search(r"(^|_| )days($|_)", n):
        return 86400.0
    if re.search(r"(_ms$|\(ms\)|(^|_)ms($|_)|milliseconds)", n):
        return 0.001
    if re.search(r"(_s$|\(s\)|(^|_)seconds($|_)|_s_|duration_s|latency_s)", n):
        return 1.0
    return None


# ----- single values ------------------------------------------------------------------------------------------

def _missing(v) -> bool:
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        return bool(pd.isna(v)) if np.ndim(v) == 0 else False
    except (TypeError, ValueError):
        return False


def fmt_pct(ratio, digits: int | None = None, already_pct: bool = False) -> str:
    """0.99937 → '99.94 %' (enough digits that a value short of 100 % never prints as 100 %)."""
    if _missing(ratio):
        return DASH
    p = float(ratio) if already_pct else float(ratio) * 100
    if not math.isfinite(p):
        return DASH
    if digits is None:
        if 99 <= p < 100:
            digits = next((d for d in (2, 3, 4) if round(p, d) < 100), 4)
        elif abs(p) >= 10:
            digits = 1
        elif p == 0:
            digits = 0
        else:
            digits = 2
    return f"{p:,.{digits}f} %"


def fmt_duration(seconds) -> str:
    """Seconds as people read them: 330 ms, 12.4 s, 15.8 min, 5 h 12 min, 3 d 4 h."""
    if _missing(seconds):
        return DASH
    if isinstance(seconds, pd.Timedelta):
        seconds = seconds.total_seconds()
    s = float(seconds)
    if not math.isfinite(s):
        return DASH
    sign, s = ("-" if s < 0 else ""), abs(s)
    if s == 0:
        return "0 s"
    if s < 1:
        return f"{sign}{s * 1000:.3g} ms"
    if s < 60:
        return f"{sign}{s:.3g} s"
    if s < 3600:
        return f"{sign}{s / 60:.1f} min"
    if s < 2 * 86400:
        h, m = divmod(int(round(s / 60)), 60)
        return f"{sign}{h} h {m} min" if m else f"{sign}{h} h"
    d, h = divmod(int(round(s / 3600)), 24)
    return f"{sign}{d} d {h} h" if h else f"{sign}{d} d"


def fmt_count(n) -> str:
    if _missing(n):
        return DASH
    return f"{float(n):,.0f}"


def fmt_number(x) -> str:
    """Four significant digits, thousands separated, never scientific notation for everyday magnitudes."""
    if _missing(x):
        return DASH
    x = float(x)
    if not math.isfinite(x):
        return DASH
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:.4g}"
    if a >= 1e-4:
        return f"{x:.3g}" if "e" not in f"{x:.3g}" else f"{x:.6f}".rstrip("0")
    return f"{x:.2e}"


def fmt_time(ts, date_only: bool = False) -> str:
    """A UTC instant to the minute: '2026-11-27 15:30 UTC' (a date when every value is midnight)."""
    if _missing(ts):
        return DASH
    try:
        t = pd.Timestamp(ts)
    except (TypeError, ValueError):
        return html.escape(str(ts))
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d") if date_only else t.strftime("%Y-%m-%d %H:%M UTC")


def _fmt_time_s(ts) -> str:
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_value(v, kind: str = "auto") -> str:
    try:
        return _fmt_value(v, kind)
    except (TypeError, ValueError, OverflowError):  # a word where a number was expected ("unknown"): as text
        return html.escape(str(v))


def _fmt_value(v, kind: str = "auto") -> str:
    """One value, HTML-escaped, by kind (``pct`` for ratios, ``pct_number``, ``s``/``min``/``ms``/``h``/``d``,
    ``count``, ``number``, ``time``, ``date``, ``text``, ``mapping``, ``bool``; ``auto`` guesses)."""
    if isinstance(v, (dict, list, tuple)):
        return fmt_mapping(v)
    if _missing(v):
        return DASH
    if kind == "auto":
        if isinstance(v, (bool, np.bool_)):
            kind = "bool"
        elif isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "tzinfo"):
            kind = "time"
        elif isinstance(v, pd.Timedelta):
            kind = "s"
        elif isinstance(v, (int, np.integer)):
            kind = "count"
        elif isinstance(v, (float, np.floating)):
            kind = "number"
        else:
            kind = "text"
    if kind == "pct":
        return fmt_pct(v)
    if kind == "pct_number":
        return fmt_pct(v, already_pct=True)
    if kind in _UNIT_SECONDS:
        secs = v.total_seconds() if isinstance(v, pd.Timedelta) else float(v) * _UNIT_SECONDS[kind]
        return fmt_duration(secs)
    if kind == "count":
        return fmt_count(v)
    if kind == "number":
        return fmt_number(v)
    if kind == "time":
        return fmt_time(v)
    if kind == "time_s":
        return _fmt_time_s(v)
    if kind == "date":
        return fmt_time(v, date_only=True)
    if kind == "bool":
        return "yes" if bool(v) else "no"
    return html.escape(str(v))


_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def fmt_mapping(v) -> str:
    """A dict as 'key: value · key: value' (each value formatted), a list as 'a, b'; never Python syntax."""
    if isinstance(v, dict):
        return " · ".join(f"{html.escape(str(k))}: {fmt_value(x)}" for k, x in v.items()) or DASH
    return ", ".join(fmt_value(x) for x in v) or DASH


# ----- columns and tables -------------------------------------------------------------------------------------

def infer_kind(name: Any, s: pd.Series) -> str:
    """The display kind of a column from its name and values."""
    n = str(name).lower()
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        t = s.dropna()
        if len(t) and (t.dt.tz_convert("UTC") if t.dt.tz is not None else t).dt.normalize().eq(
                (t.dt.tz_convert("UTC") if t.dt.tz is not None else t)).all() and len(t) > 1:
            return "date"
        if n in ("time", "timestamp") and len(t) and (t.dt.second != 0).any():
            return "time_s"  # log lines: the second matters
        return "time"
    if pd.api.types.is_timedelta64_dtype(s):
        return "s"
    if s.dtype == object:
        vals = s.dropna()
        if len(vals) and vals.map(lambda x: isinstance(x, (dict, list, tuple))).any():
            return "mapping"
        if len(vals) and vals.map(lambda x: isinstance(x, pd.Timestamp)).all():
            return "time"
        if len(vals) and vals.map(lambda x: isinstance(x, (int, float, np.number)) and not isinstance(x, bool)).all():
            s = pd.to_numeric(vals)
        else:
            return "text"
    if not pd.api.types.is_numeric_dtype(s):
        return "text"
    finite = s[np.isfinite(s.astype(float))] if len(s) else s
    if _PCT_NAMES.search(n):
        return "pct_number"
    if _RATIO_NAMES.search(n) and (len(finite) == 0 or finite.abs().max() <= 1.0 + 1e-9 or "remaining" in n) and (
            "target" not in n or (len(finite) and finite.min() > 0)):
        return "pct"
    unit = _dur_unit(n)
    if unit is not None:
        return {0.001: "ms", 1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "d"}[unit]
    if pd.api.types.is_integer_dtype(s):
        return "count"
    if len(finite) and np.all(np.mod(finite.astype(float), 1) == 0) and (_COUNT_NAMES.search(n) or
                                                                       finite.abs().max() >= 1000):
        return "count"
    return "number"


def _formatter(kind: str) -> Callable[[Any], str]:
    return lambda v: fmt_value(v, kind)


def table(df, units: dict | None = None, na: dict | None = None, index: bool | None = None,
          caption: str = "", max_rows: int | None = None):
    """``df`` (a DataFrame or Series) as a pandas Styler: every column formatted by kind, HTML-escaped, the
    pandas index hidden (a meaningful index — named, or not 0..n-1 — becomes the first column), missing values
    as an em dash explained below the table. ``units`` names a column's kind where its name does not say;
    ``na`` what an em dash means per column (defaults: :data:`NA_MEANING`)."""
    if isinstance(df, pd.Series):
        df = df.to_frame(name=df.name if df.name is not None else "value")
    df = df if max_rows is None else df.head(max_rows)
    if index is None:
        index = not (isinstance(df.index, pd.RangeIndex) and df.index.name is None)
    if index:
        df = df.reset_index()
    if isinstance(df.columns, pd.MultiIndex):
        df = df.copy()
        df.columns = [" ".join(str(x) for x in c if str(x)) for c in df.columns]
    if not df.columns.is_unique:
        df = df.loc[:, ~df.columns.duplicated()]
    units = units or {}
    kinds = {c: units.get(c) or infer_kind(c, df[c]) for c in df.columns}
    fmts = {c: _formatter(k) for c, k in kinds.items()}
    if not len(df.columns):
        return df.style.hide(axis="index")
    st = df.style.format(fmts).hide(axis="index")
    st = st.format_index(lambda c: html.escape(str(c)), axis=1)
    notes = []
    meanings = {**NA_MEANING, **(na or {})}
    # an empty column maps to its own dtype (datetime64 has no .any()): ask the values, not the mapped series
    missing_cols = [c for c in df.columns if len(df) and bool(np.asarray(df[c].map(_missing), dtype=bool).any())]
    if missing_cols:
        specific = [(c, meanings[str(c)]) for c in missing_cols if str(c) in meanings]
        generic = [c for c in missing_cols if str(c) not in meanings]
        parts = [f"in {c}: {m}" for c, m in specific]
        if generic:
            parts.append("elsewhere: no value (not available for this row, or not computed; see the notes)")
        notes.append(f"{DASH} " + "; ".join(parts))
    if caption:
        notes.insert(0, caption)
    if notes:
        st = st.set_caption(html.escape(" · ".join(notes)))
    st = st.set_table_styles([{"selector": "caption", "props": "caption-side: bottom; text-align: left; "
                                                               "color: #666; font-size: .85em; padding-top: 4px"},
                              {"selector": "td", "props": "white-space: nowrap"},
                              {"selector": "th", "props": "white-space: nowrap"}], overwrite=False)
    text_cols = [c for c, k in kinds.items() if k in ("text", "mapping")]
    if text_cols:  # text reads from the left and may wrap when long; numbers and times never wrap
        long = [c for c in text_cols if df[c].astype(str).str.len().max() > 40]
        st = st.set_properties(subset=text_cols, **{"text-align": "left"})
        if long:
            st = st.set_properties(subset=long, **{"white-space": "normal", "min-width": "14em"})
        idx = [list(df.columns).index(c) for c in text_cols]
        st = st.set_table_styles([{"selector": f"th.col_heading.col{i}", "props": "text-align: left"}
                                  for i in idx], overwrite=False)
    return st


def _frame_html(obj) -> str:
    try:
        return table(obj).to_html()
    except Exception:  # never lose a table to a formatting fault: pandas' own escaping HTML
        return obj.to_frame().to_html() if isinstance(obj, pd.Series) else obj.to_html()


def register_formatters() -> None:
    """Make every DataFrame and Series a report displays go through :func:`table` (in IPython only)."""
    try:
        # lazy: IPython only inside a kernel (the command imports this module and never displays)
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    f = ip.display_formatter.formatters["text/html"]
    f.for_type(pd.DataFrame, _frame_html)
    f.for_type(pd.Series, _frame_html)


# ----- the headline block -------------------------------------------------------------------------------------

def kpi_kind(unit: str) -> tuple[str, str]:
    """(kind, suffix) for a value in a catalog unit ('%', 's', 'ms', 'req/h', …)."""
    return {"%": ("pct_number", ""), "s": ("s", ""), "ms": ("ms", "")}.get(unit, ("number", unit))


TONE_COLOURS = {"good": "#2e7d32", "warn": "#ef6c00", "bad": "#c62828", None: "#37474f", "": "#37474f"}
STATUS_TONE = {"ok": "good", "partial": "warn", "no-data": "bad", "failed": "bad"}


@dataclass
class Headline:
    """One figure of a report's headline: ``value`` raw (for the index's trends), ``kind`` how to show it,
    ``tone`` good/warn/bad, ``better`` up/down (whether a rise is good), ``detail`` a short second line."""

    key: str
    label: str
    value: Any
    kind: str = "auto"
    tone: str | None = None
    better: str | None = None
    detail: str = ""
    suffix: str = ""

    @property
    def text(self) -> str:
        t = fmt_value(self.value, self.kind) if self.kind != "text" else (
            DASH if _missing(self.value) else html.escape(str(self.value)))
        return t + (f" {html.escape(self.suffix)}" if self.suffix and t != DASH else "")

    def as_dict(self) -> dict:
        v = self.value
        if isinstance(v, (pd.Timestamp,)):
            v = v.isoformat()
        elif isinstance(v, (np.generic,)):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        return {"key": self.key, "label": self.label, "value": v, "kind": self.kind, "tone": self.tone,
                "better": self.better, "text": html.unescape(self.text), "detail": self.detail}


@dataclass
class HeadlineBlock:
    """The first thing every report shows: status, window and the figures that matter."""

    status: str
    status_line: str
    figures: list = field(default_factory=list)
    window: str = ""

    def _repr_html_(self) -> str:
        e = html.escape
        colour = TONE_COLOURS[STATUS_TONE.get(self.status, "warn")]
        cards = "".join(
            f"<div class='rt-fig' style='border-top:3px solid {TONE_COLOURS.get(f.tone, '#37474f')}'>"
            f"<div class='rt-fig-label'>{e(f.label)}</div>"
            f"<div class='rt-fig-value' style='color:{TONE_COLOURS.get(f.tone, '#222')}'>{f.text}</div>"
            + (f"<div class='rt-fig-detail'>{e(f.detail)}</div>" if f.detail else "") + "</div>"
            for f in self.figures)
        return ("<div class='rt-headline' data-status='" + e(self.status, quote=True) + "' style='font-family:"
                "system-ui,sans-serif;margin:4px 0 16px'>"
                f"<div class='rt-status' style='display:flex;gap:10px;align-items:baseline;flex-wrap:wrap'>"
                f"<span style='background:{colour};color:#fff;border-radius:4px;padding:2px 10px;font-weight:700'>"
                f"{e(self.status.upper())}</span><span style='color:#333'>{e(self.status_line)}</span></div>"
                + (f"<div style='color:#666;font-size:.85em;margin-top:4px'>{e(self.window)}</div>" if self.window
                   else "")
                + "<div class='rt-figs' style='display:flex;flex-wrap:wrap;gap:10px;margin-top:10px'>" + cards
                + "</div></div>"
                "<style>.rt-fig{background:#fafafa;border-radius:4px;padding:8px 12px;min-width:9em;flex:0 1 auto}"
                ".rt-fig-label{color:#555;font-size:.8em}.rt-fig-value{font-size:1.45em;font-weight:650;"
                "white-space:nowrap}.rt-fig-detail{color:#666;font-size:.75em;max-width:16em}"
                "@media (max-width:600px){.rt-fig{flex:1 1 40%;min-width:0;padding:6px 8px}"
                ".rt-fig-value{font-size:1.2em}.rt-fig-detail{max-width:none}}</style>")

    def __repr__(self) -> str:  # plain text (a terminal, nbval): the same facts
        figs = "; ".join(f"{f.label}: {html.unescape(f.text)}" for f in self.figures)
        return f"{self.status.upper()} {self.status_line}\n{self.window}\n{figs}"


def window_text(window) -> str:
    """'Window analysed: 2026-11-20 00:00 UTC → 2026-11-27 00:00 UTC (7 d)'."""
    if window is None:
        return ""
    start, end = window.start, window.end
    return (f"Window analysed: {fmt_time(start)} → {fmt_time(end)} "
            f"({fmt_duration((end - start).total_seconds())})")


# ----- short labels -------------------------------------------------------------------------------------------

# resource names as people say them: rtanalytics/names.py (the analytics use them too)
