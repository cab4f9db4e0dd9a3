"""CloudWatch's retention tiers: which periods a query may ask for, and how CloudWatch rounds its start.

From the GetMetricData API reference (``StartTime`` and ``MetricStat.Period``,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html):

========================  ===================================  =========================================
age of StartTime          periods that return data             StartTime rounded down to
========================  ===================================  =========================================
up to 3 hours             1, 5, 10, 20, 30, 60 s or k x 60 s   the second (periods < 60) / the minute
3 hours to 15 days        k x 60 s                             the whole minute
15 to 63 days             k x 300 s                            the 5-minute clock interval
63 to 455 days            k x 3,600 s                          the 1-hour clock interval
older than 455 days       nothing (expired)                    —
========================  ===================================  =========================================

A request that asks for a finer period than its start's tier keeps gets *no datapoints at all* for that
time range — it does not fail. Every query this package sends goes through :func:`check_period` first, so
that a period CloudWatch cannot serve is refused or coarsened with a note, never fetched as silent emptiness.
"""

from __future__ import annotations

import pandas as pd

from .timewindow import to_utc

HIGH_RES_PERIODS = (1, 5, 10, 20, 30)
TIERS = (  # (max age, period unit) from the table above
    (pd.Timedelta(hours=3), 1),
    (pd.Timedelta(days=15), 60),
    (pd.Timedelta(days=63), 300),
    (pd.Timedelta(days=455), 3600),
)
_UNIT_WORDS = {1: "1 s (high resolution)", 60: "1 minute", 300: "5 minutes", 3600: "1 hour"}


def age_of(start, now) -> pd.Timedelta:
    return to_utc(now) - to_utc(start)


def tier_unit(start, now) -> int | None:
    """The period unit CloudWatch keeps for data starting at ``start`` (1, 60, 300, 3600), or ``None`` when it
    is older than 455 days (expired)."""
    age = age_of(start, now)
    for max_age, unit in TIERS:
        if age <= max_age:
            return unit
    return None


def is_valid_period(period: int) -> bool:
    """A period CloudWatch accepts at all: 1, 5, 10, 20, 30, or a positive multiple of 60 seconds."""
    return period in HIGH_RES_PERIODS or (period > 0 and period % 60 == 0)


def check_period(period: int, start, now) -> str | None:
    """Why CloudWatch would return no data for ``period`` with a window starting at ``start`` (asked at
    ``now``), or ``None`` when it can serve it."""
    if not is_valid_period(period):
        return f"period {period} s is not a CloudWatch period (1, 5, 10, 20, 30 s or a multiple of 60 s)"
    unit = tier_unit(start, now)
    if unit is None:
        return f"data starting {to_utc(start):%Y-%m-%d %H:%M} UTC is older than 455 days: CloudWatch has expired it"
    if unit == 1:
        return None
    if period % unit:
        return (f"period {period} s is finer than CloudWatch keeps for data {_age_words(start, now)} old "
                f"(finest: {unit} s, {_UNIT_WORDS[unit]}; CloudWatch returns no datapoints for it)")
    return None


def finest_period(start, now) -> int:
    """The finest period CloudWatch serves for a window starting at ``start``: 60 s up to 15 days (1-minute
    is the finest for standard metrics), then 300 s, then 3,600 s."""
    unit = tier_unit(start, now)
    return max(unit or 3600, 60)


def serve_period(period: int, start, now) -> int:
    """The smallest period ≥ ``period`` that CloudWatch serves for ``start``: rounded up to the tier's unit."""
    unit = tier_unit(start, now) or 3600
    if unit == 1:
        return period if is_valid_period(period) else -(-period // 60) * 60
    return max(unit, -(-int(period) // unit) * unit)


def oldest_start(period: int, now) -> pd.Timestamp:
    """The oldest window start for which CloudWatch still serves ``period`` (e.g. 15 days back for 60 s, 63 days
    for 300 s, 455 days for multiples of 3,600 s; 3 hours for high-resolution periods)."""
    now = to_utc(now)
    for max_age, unit in reversed(TIERS):
        if period % unit == 0:
            return now - max_age
    return now - TIERS[0][0]


def cloudwatch_start(start, now) -> pd.Timestamp:
    """``start`` rounded down as CloudWatch rounds a GetMetricData StartTime for its age (see the table)."""
    start = to_utc(start)
    unit = tier_unit(start, now) or 3600
    return start.floor(f"{max(unit, 60)}s")


def _age_words(start, now) -> str:
    age = age_of(start, now)
    days = age / pd.Timedelta(days=1)
    return f"{days:.1f} days" if days >= 1 else f"{age / pd.Timedelta(hours=1):.1f} hours"
