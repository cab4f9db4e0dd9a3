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


_PROBE = """<script>
window.addEventListener('load', function () { setTimeout(function () {
  var d = document.documentElement, w = window.innerWidth, wide = [];
  document.querySelectorAll('body *').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > w + 1 && r.width > 0 && wide.length < 8) {
      var inScroller = false, p = e.parentElement;
      while (p) { var o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') {
        inScroller = true; break; } p = p.parentElement; }
      if (!inScroller) wide.push(e.tagName + '.' + (e.className && e.className.baseVal === undefined ? e.className : ''));
    }
  });
  var outs = Array.prototype.filter.call(document.querySelectorAll('.jp-OutputArea-output'), function (e) {
    return e.innerText.trim() || e.querySelector('svg, img'); });
  var first = outs.length ? outs[0] : null;
  var r = {scrollWidth: d.scrollWidth, innerWidth: w, title: document.title, overflowing: wide,
           text: document.body.innerText,
           headline_first: !!(first && first.querySelector('.rt-headline')),
           headline: !!document.querySelector('.rt-headline'),
           charts: document.querySelectorAll('.main-svg').length};
  if (window.parent !== window) { window.parent.postMessage(JSON.stringify(r), '*'); return; }
  var pre = document.createElement('pre'); pre.id = 'rt-probe'; pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
}, 300); });
</script>"""

# headless Chromium's window is never narrower than 500 px: a phone is a 390 px iframe, whose viewport (and
# media queries) is then really 390 px wide; the probe inside posts its figures to the host page
_HOST = """<!DOCTYPE html><html><body style="margin:0"><iframe src="{src}" style="border:0;width:{w}px;height:{h}px">
</iframe><script>window.addEventListener('message', function (ev) {{ var pre = document.createElement('pre');
pre.id = 'rt-probe'; pre.textContent = ev.data; document.body.appendChild(pre); }});</script></body></html>"""


def probe(page: Path, width: int = 1400, height: int = 900) -> dict:
    """Open ``page`` in headless Chromium at ``width`` px (scripts run, network off) and measure it: page
    overflow (``scrollWidth`` against the viewport, and the elements sticking out of it outside any scrolling
    box), the visible text, the ``<title>``, whether the first output is the headline block, charts drawn."""
    import json
    import re

    text = page.read_text(encoding="utf-8")
    tmp = page.with_name(f".probe-{width}-{page.name}")
    tmp.write_text(text.replace("</body>", _PROBE + "</body>") if "</body>" in text else text + _PROBE,
                   encoding="utf-8")
    host = None
    target = tmp
    if width < 500:
        host = page.with_name(f".probe-host-{width}-{page.name}")
        host.write_text(_HOST.format(src=tmp.name, w=width, h=height), encoding="utf-8")
        target = host
    try:
        with tempfile.TemporaryDirectory() as prof:
            r = subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={prof}",
                                f"--window-size={max(width, 500)},{height}", "--dump-dom", target.resolve().as_uri()],
                               check=True, capture_output=True, text=True, timeout=180)
    finally:
        tmp.unlink(missing_ok=True)
        if host is not None:
            host.unlink(missing_ok=True)
    m = re.search(r'<pre id="rt-probe">(.*?)</pre>', r.stdout, re.S)
    if not m:
        raise RuntimeError(f"the page probe did not run in {page}")
    import html as _html

    return json.loads(_html.unescape(m.group(1)))


def latest_report(outputs: Path = ROOT / "outputs", report: str = "kpis") -> Path:
    import json

    run_id = json.loads((outputs / report / "latest.json").read_text())["run_id"]
    return outputs / report / run_id / "report.html"


def screenshot_all(outputs: Path = ROOT / "outputs", docs: Path = ROOT / "docs" / "screenshots",
                   width: int = 1400, height: int = 1200) -> list[Path]:
    """A screenshot of the latest run of every report (and the index) into ``docs`` (``make screenshot``)."""
    import json

    docs.mkdir(parents=True, exist_ok=True)
    shots = [screenshot(outputs / "index.html", docs / "index.png", width, 900)]
    for d in sorted(p for p in outputs.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        runs = sorted((r for r in d.iterdir() if (r / "summary.json").is_file()), key=lambda r: r.name)
        if not runs:
            continue
        run = runs[-1]
        if (d / "latest.json").is_file():
            run = d / json.loads((d / "latest.json").read_text())["run_id"]
        shots.append(screenshot(run / "report.html", docs / f"{d.name}.png", width, height))
    return shots


if __name__ == "__main__":
    if sys.argv[1:2] == ["--all"]:
        for p in screenshot_all():
            print(p)
        sys.exit(0)
    page = Path(sys.argv[1]) if len(sys.argv) > 1 else latest_report()
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "screenshots" / "kpis.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    print(screenshot(page, out, height=1500))
