"""The ledger: every run's key figures, appended to SQLite, so trends outlive CloudWatch's downsampling.

``outputs/ledger.sqlite``, table ``figures(report, run_id, finished, status, key, value, text)``: numeric
figures in ``value``, others in ``text``. SQLite in WAL mode with a busy timeout tolerates concurrent report
runs appending at once. ``read_ledger()`` (also ``rt.ledger()``) gives it back as one frame.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..settings import default_outputs
from ..store import connect, read

SCHEMA = """CREATE TABLE IF NOT EXISTS figures (report TEXT NOT NULL, run_id TEXT NOT NULL, finished TEXT NOT NULL,
status TEXT NOT NULL, key TEXT NOT NULL, value REAL, text TEXT, PRIMARY KEY (report, run_id, key))"""


def _connect(path: Path):
    return connect(path, SCHEMA)


def append(outputs: Path, summary: dict) -> int:
    """Add one run's figures (idempotent per report, run and key); returns rows written."""
    rows = []
    for k, v in (summary.get("figures") or {}).items():
        num = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        rows.append((summary["report"], summary["run_id"], summary["finished"], summary["status"], k, num,
                     None if num is not None else (None if v is None else str(v))))
    rows.append((summary["report"], summary["run_id"], summary["finished"], summary["status"], "duration_s",
                 float(summary.get("duration_s") or 0.0), None))
    con = _connect(Path(outputs) / "ledger.sqlite")
    try:
        with con:
            con.executemany("INSERT OR REPLACE INTO figures VALUES (?,?,?,?,?,?,?)", rows)
    finally:
        con.close()
    return len(rows)


def read_ledger(outputs: Path | str | None = None, report: str | None = None) -> pd.DataFrame:
    """All figures (or one report's) as ``report, run_id, finished, status, key, value, text``."""
    cols = ["report", "run_id", "finished", "status", "key", "value", "text"]
    return read(Path(outputs or default_outputs()) / "ledger.sqlite", SCHEMA, "figures", cols, "finished",
                {"report": report}, "finished, key")


def trends(outputs: Path, report: str, last: int = 12) -> pd.DataFrame:
    """Numeric figures of a report's last ``last`` good runs, one column per figure (for the index)."""
    df = read_ledger(outputs, report)
    df = df[df["status"].isin(["ok", "partial"]) & df["value"].notna()]
    if df.empty:
        return pd.DataFrame()
    wide = df.pivot_table(index="finished", columns="key", values="value", aggfunc="last").sort_index()
    return wide.tail(last)
