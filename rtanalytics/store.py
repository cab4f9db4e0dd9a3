"""SQLite stores shared by concurrent writers (the ledger, the health history)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect(path: Path | str, schema: str) -> sqlite3.Connection:
    """Open (creating) a store in WAL mode with a 30 s busy timeout, so concurrent writers wait instead of
    failing, and make sure its table exists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(schema)
    return con
