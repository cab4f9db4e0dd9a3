"""SQLite stores shared by concurrent writers (the ledger, the health history)."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import pandas as pd


def connect(path: Path | str, schema: str) -> sqlite3.Connection:
    """Open (creating) a store in WAL mode with a 30 s busy timeout, so concurrent writers wait instead of
    failing, and make sure its table exists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=30)
    deadline = time.monotonic() + 30
    while True:
        # switching a new file to WAL takes an exclusive lock for which SQLite does not always call the busy
        # handler: several writers creating the store at once see "database is locked" — wait and try again
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(schema)
            return con
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                con.close()
                raise
            time.sleep(0.01 + random.random() * 0.05)


def read(path: Path | str, schema: str, table: str, columns: list[str], time_column: str,
         where: dict | None = None, order_by: str | None = None) -> pd.DataFrame:
    """Rows of ``table`` (equality filters from ``where``, ``None`` values ignored) with ``time_column`` as UTC
    timestamps; an empty frame with ``columns`` when the store does not exist yet."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=columns)
    where = {k: v for k, v in (where or {}).items() if v is not None}
    sql = f"SELECT * FROM {table}" + (" WHERE " + " AND ".join(f"{k} = ?" for k in where) if where else "")
    sql += f" ORDER BY {order_by or time_column}"
    con = connect(path, schema)
    try:
        df = pd.read_sql_query(sql, con, params=tuple(where.values()))
    finally:
        con.close()
    df[time_column] = pd.to_datetime(df[time_column], utc=True, format="ISO8601")
    return df
