"""Times and windows: everything UTC and tz-aware.

Accepted time expressions (``parse_time``):

* ``now``; ``today`` and ``yesterday`` (00:00 UTC of that day);
* relative to now: ``-7d``, ``-90m``, ``now-1h30m``, ``now+5m``, or a bare duration ``24h`` meaning "24 hours ago";
* absolute: ISO 8601 (``2026-11-01``, ``2026-11-01T06:00``, ``2026-11-01T06:00:00+02:00``); a time without an
  offset is taken as UTC.

Durations (``parse_duration``) use the units ``s m h d w`` and may be combined (``1h30m``), or are plain seconds.
Relative expressions are resolved once, against one ``now``, at the start of a run (see
``rtanalytics.reports.params``), and the resolved instants are recorded in the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd

UTC = timezone.utc

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DUR_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)([smhdw]))+$")
_PART_RE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_REL_RE = re.compile(r"^(?:now)?\s*([+-])\s*([0-9smhdw.]+)$")

TIME_HELP = "'now', 'today', 'yesterday', '-7d', 'now-1h', '24h' (ago), or ISO 8601 like 2026-11-01T06:00Z"


def utcnow() -> pd.Timestamp:
    """The current instant, tz-aware UTC (resolved per call, never at import)."""
    return pd.Timestamp.now(tz=UTC)


def parse_duration(text: str | int | float | timedelta) -> pd.Timedelta:
    """Parse ``"5m"``, ``"1h30m"``, ``"7d"``, ``"300"`` or a number of seconds into a positive Timedelta."""
    if isinstance(text, timedelta):
        td = pd.Timedelta(text)
    elif isinstance(text, (int, float)) and not isinstance(text, bool):
        td = pd.Timedelta(seconds=float(text))
    else:
        s = str(text).strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", s):
            td = pd.Timedelta(seconds=float(s))
        elif _DUR_RE.fullmatch(s):
            td = pd.Timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in _PART_RE.findall(s)))
        else:
            raise ValueError(f"not a duration: {text!r} (use e.g. '300', '5m', '1h30m', '7d')")
    if td <= pd.Timedelta(0):
        raise ValueError(f"duration must be positive: {text!r}")
    return td


def to_utc(value) -> pd.Timestamp:
    """Any timestamp-like value as a tz-aware UTC Timestamp (naive values are taken as UTC)."""
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        raise ValueError(f"not a time: {value!r}")
    return ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)


def parse_time(text, now: pd.Timestamp | None = None) -> pd.Timestamp:
    """Resolve a time expression (see module docstring) against ``now`` into a UTC Timestamp."""
    if isinstance(text, (datetime, pd.Timestamp)):
        return to_utc(text)
    now = to_utc(now) if now is not None else utcnow()
    s = str(text).strip().lower()
    if not s:
        raise ValueError(f"empty time (use {TIME_HELP})")
    if s == "now":
        return now
    if s == "today":
        return now.floor("D")
    if s == "yesterday":
        return now.floor("D") - pd.Timedelta(days=1)
    m = _REL_RE.fullmatch(s)
    if m:
        sign, dur = m.groups()
        delta = parse_duration(dur)
        return now + delta if sign == "+" else now - delta
    if _DUR_RE.fullmatch(s):
        return now - parse_duration(s)
    try:
        return to_utc(str(text).strip())
    except (ValueError, TypeError):
        raise ValueError(f"not a time: {text!r} (use {TIME_HELP})") from None


@dataclass(frozen=True)
class TimeWindow:
    """A half-open UTC interval ``[start, end)``."""

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self):
        object.__setattr__(self, "start", to_utc(self.start))
        object.__setattr__(self, "end", to_utc(self.end))
        if not self.start < self.end:
            raise ValueError(f"window start {self.start.isoformat()} is not before end {self.end.isoformat()}")

    @classmethod
    def parse(cls, start="-7d", end="now", now=None) -> "TimeWindow":
        now = to_utc(now) if now is not None else utcnow()
        return cls(parse_time(start, now), parse_time(end, now))

    @property
    def duration(self) -> pd.Timedelta:
        return self.end - self.start

    def aligned(self, period_s: int) -> "TimeWindow":
        """The smallest window aligned to whole periods (epoch-aligned, as CloudWatch aligns) that covers this one."""
        p = pd.Timedelta(seconds=int(period_s))
        start = self.start.floor(p)
        end = self.end.ceil(p)
        return TimeWindow(start, end if end > start else start + p)

    def __str__(self) -> str:
        return f"{self.start.isoformat()} .. {self.end.isoformat()}"


def report_window(start="-7d", end="now", now=None) -> tuple["TimeWindow", list[str]]:
    """A report's window and what was changed about it: an end past ``now`` is clipped to ``now`` (minutes that
    have not happened hold no data — read as silence they would average in as zero traffic) and a note says so;
    a window that starts after ``now`` is refused, naming ``start``."""
    now = to_utc(now) if now is not None else utcnow()
    s, e = parse_time(start, now), parse_time(end, now)
    if s >= now:
        raise ValueError(f"start {s.isoformat()} is in the future (now is {now:%Y-%m-%d %H:%M} UTC): a report "
                         "reads what has happened")
    notes = []
    if e > now:
        notes.append(f"the window's end {e:%Y-%m-%d %H:%M} UTC is in the future: the window ends now "
                     f"({now:%Y-%m-%d %H:%M} UTC) — minutes that have not happened are not counted")
        e = now
    return TimeWindow(s, e), notes


def period_seconds(value) -> int:
    """A CloudWatch period in seconds: 1, 5, 10, 20, 30 or any multiple of 60 (``'5m'``, ``300``, ``'1h'``).
    Whether CloudWatch still keeps that resolution for a window's age is :mod:`rtanalytics.retention`'s job."""
    secs = parse_duration(value).total_seconds()
    if secs != int(secs) or not (int(secs) in (1, 5, 10, 20, 30) or int(secs) % 60 == 0):
        raise ValueError(f"period {value!r} is {secs:g} s; CloudWatch accepts 1, 5, 10, 20, 30 or a multiple of 60")
    return int(secs)
