"""Atomic writes and run folders: a reader never sees a half-written report, index or pointer."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


@contextlib.contextmanager
def locked(path: Path):
    """An exclusive advisory lock on ``path`` (released by the OS if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def prune(report_dir: Path, keep: int) -> list[Path]:
    """Delete the oldest runs of a report beyond ``keep``; never the latest good run (``latest.json``) and never
    a run still being written (``.*.partial``)."""
    if not report_dir.is_dir():
        return []
    try:
        latest = json.loads((report_dir / "latest.json").read_text())["run_id"]
    except (OSError, ValueError, KeyError):
        latest = None
    runs = sorted((p for p in report_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: (p.name.split("-", 1)[0], p.stat().st_mtime_ns), reverse=True)  # runs of one
    # second (the run id's time) by when they landed: the id's random suffix says nothing of their order
    gone = []
    for p in runs[keep:]:
        if p.name == latest:
            continue
        shutil.rmtree(p, ignore_errors=True)
        gone.append(p)
    return gone
