"""The frames the package trades in (see DESIGN.md, "Frames").

* **metrics** — wide: ``DatetimeIndex`` named ``timestamp`` (UTC), one float column per query label. Missing
  periods are NaN (or absent rows), never zero.
* **alarm history** — ``timestamp, alarm, from_state, to_state, reason``.
* **logs** — ``timestamp, log_group, stream, level, message`` plus parsed structured fields.
* **events** — ``start, end, kind, source, severity, summary`` (plus free-form evidence columns).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .timewindow import UTC

ALARM_HISTORY_COLUMNS = ["timestamp", "alarm", "from_state", "to_state", "reason"]
LOG_COLUMNS = ["timestamp", "log_group", "stream", "level", "message"]
EVENT_COLUMNS = ["start", "end", "kind", "source", "severity", "summary"]


def utc_index(values, name: str = "timestamp") -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(values)
    idx = idx.tz_localize(UTC) if idx.tz is None else idx.tz_convert(UTC)
    return idx.rename(name)


def metrics_frame(columns: dict[str, np.ndarray] | None = None, index=None) -> pd.DataFrame:
    """A wide metrics frame with a UTC ``timestamp`` index and float64 columns."""
    idx = utc_index(index if index is not None else [])
    df = pd.DataFrame({k: np.asarray(v, dtype="float64") for k, v in (columns or {}).items()}, index=idx)
    df.columns.name = "label"
    return df


def check_metrics_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Raise ``ValueError`` unless ``df`` honours the metrics-frame contract; return it."""
    if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
        raise ValueError("metrics frame needs a tz-aware DatetimeIndex")
    if str(df.index.tz) != "UTC":
        raise ValueError(f"metrics frame index must be UTC, not {df.index.tz}")
    if df.index.name != "timestamp":
        raise ValueError("metrics frame index must be named 'timestamp'")
    if not df.index.is_monotonic_increasing:
        raise ValueError("metrics frame index must be sorted")
    bad = [c for c in df.columns if not pd.api.types.is_float_dtype(df[c])]
    if bad:
        raise ValueError(f"metrics frame columns must be float: {bad}")
    return df


def to_long(df: pd.DataFrame, dropna: bool = True) -> pd.DataFrame:
    """Wide metrics frame → ``timestamp, label, value`` sorted by timestamp then column order (missing values
    dropped unless ``dropna=False``)."""
    nrows, ncols = df.shape
    vals = df.to_numpy(dtype="float64").ravel(order="C")
    # the instants as UTC datetime64 values, repeated per column (not a Timestamp object per row: 20x slower)
    idx = utc_index(df.index)
    stamps = pd.DatetimeIndex(np.repeat(idx.tz_localize(None).to_numpy(), ncols)).tz_localize(UTC)
    out = pd.DataFrame({"timestamp": stamps,
                        "label": np.tile(np.asarray([str(c) for c in df.columns], dtype=object), nrows),
                        "value": vals})
    if dropna:
        out = out[~np.isnan(vals)]
    return out.reset_index(drop=True)


def from_long(long: pd.DataFrame, labels: Iterable[str] | None = None) -> pd.DataFrame:
    """``timestamp, label, value`` → wide metrics frame (columns in ``labels`` order when given)."""
    if long.empty:
        return metrics_frame({k: [] for k in (labels or [])})
    wide = long.pivot_table(index="timestamp", columns="label", values="value", aggfunc="first", dropna=False)
    wide.index = utc_index(wide.index)
    wide = wide.sort_index().astype("float64")
    if labels is not None:
        wide = wide.reindex(columns=list(labels))
    wide.columns.name = "label"
    return wide


def empty_alarm_history() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns, UTC]" if c == "timestamp" else "object")
                         for c in ALARM_HISTORY_COLUMNS})


def empty_events() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns, UTC]" if c in ("start", "end") else "object")
                         for c in EVENT_COLUMNS})


def empty_logs() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns, UTC]" if c == "timestamp" else "object")
                         for c in LOG_COLUMNS})
