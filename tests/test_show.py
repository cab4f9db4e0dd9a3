"""rt.show: the reports' figures shown without plotly's renderer registry (nbformat, jsonschema), and the same
output as an analyst's fig.show() after rt.setup_notebook()."""

import json
import subprocess
import sys

PROBE = r"""
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
import plotly.graph_objects as go
import rtanalytics as rt

InteractiveShell.instance()
rt.setup_notebook()
x = list(range(5000))
fig = go.Figure(go.Scatter(x=x, y=[(i * 7919) % 101 for i in x], mode="lines",
                           name="</script><script>alert(1)</script>")).update_layout(title="<img src=x onerror=alert(2)>")
with capture_output() as shown:
    rt.show(fig)
before = {"renderers": "plotly.io._renderers" in sys.modules, "nbformat": "nbformat" in sys.modules}
with capture_output() as plain:
    fig.show()  # an analyst's: plotly's registry loads now, with rt's renderers as its default
import plotly.io as pio
ours, theirs = shown.outputs[0].data, plain.outputs[0].data
print(json.dumps({"before": before, "default": pio.renderers.default, "keys": sorted(ours), "same_keys": sorted(ours) == sorted(theirs),
                  "same_json": ours["application/vnd.plotly.v1+json"] == theirs["application/vnd.plotly.v1+json"],
                  "points": len(json.dumps(ours["application/vnd.plotly.v1+json"])),
                  "plotlyjs_once": ("window.Plotly" in ours["text/html"], "window.Plotly" in theirs["text/html"]),
                  "raw_markup": any(m in ours["text/html"] for m in ("</script><script>alert", "<img src=x"))}))
"""


def test_show_needs_no_renderer_registry_and_matches_fig_show():
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["before"] == {"renderers": False, "nbformat": False}
    assert out["default"] == "rt_plotly+rt_offline"  # set when plotly loaded its registry
    assert out["keys"] == ["application/vnd.plotly.v1+json", "text/html"] and out["same_keys"]
    assert out["same_json"]  # the same decimated figure either way
    assert out["points"] < 100_000  # 5,000 points decimated, not sent whole
    assert out["plotlyjs_once"] == [True, False]  # plotly.js inlined with the first figure only
    assert out["raw_markup"] is False  # labels from data reach the page as JSON-escaped text, never as markup
