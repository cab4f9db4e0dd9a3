"""Headless Chromium over a rendered report, with networking disabled: a screenshot for docs/, or the DOM after
scripts ran (for tests). Usage: python tools/screenshot.py [REPORT_HTML] [OUT_PNG]"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--disable-quic",
         # no network at all: every host resolves nowhere, so anything remote fails to load
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    return exe


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 2000) -> Path:
    with tempfile.TemporaryDirectory() as prof:
        subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={prof}", f"--screenshot={png}",
                        f"--window-size={width},{height}", page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    return png


def dom_dump(page: Path) -> str:
    with tempfile.TemporaryDirectory() as prof:
        r = subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={prof}", "--dump-dom", page.resolve().as_uri()],
                           check=True, capture_output=True, text=True, timeout=120)
    return r.stdout


def latest_report(outputs: Path = ROOT / "outputs", report: str = "kpis") -> Path:
    import json

    run_id = json.loads((outputs / report / "latest.json").read_text())["run_id"]
    return outputs / report / run_id / "report.html"


if __name__ == "__main__":
    page = Path(sys.argv[1]) if len(sys.argv) > 1 else latest_report()
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "kpi-report.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    print(screenshot(page, out, height=1500))
