"""Plotly figure builders, one module per report domain. Figures only: no data access, no I/O."""

from __future__ import annotations

import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer

STATUS_COLORS = {"ok": "#2e7d32", "warning": "#ef6c00", "alert": "#c62828", "no data": "#757575",
                 "failed": "#c62828", "partial": "#ef6c00"}


class OfflineHtmlRenderer(MimetypeRenderer):
    """``text/html`` for nbconvert that works offline: plotly.js inlined with the first figure of the kernel
    session, no MathJax or anything else from a CDN (plotly's own ``notebook`` renderer links MathJax from a
    CDN for every figure)."""

    plotlyjs_sent = False  # class-wide: plotly copies renderer objects for every figure

    def to_mimebundle(self, fig_dict):
        from plotly.io import to_html

        html = to_html(fig_dict, include_plotlyjs=not OfflineHtmlRenderer.plotlyjs_sent, include_mathjax=False, full_html=False,
                       default_width="100%", default_height=525, validate=False,
                       config={"displaylogo": False})
        OfflineHtmlRenderer.plotlyjs_sent = True
        return {"text/html": html}


pio.renderers["rt_offline"] = OfflineHtmlRenderer()


def use_offline_renderer() -> None:
    """Render figures so they show in JupyterLab (plotly mimetype) and survive nbconvert's HTML export offline
    (plotly's default ``plotly_mimetype`` alone is dropped by nbconvert without a warning)."""
    pio.renderers.default = "plotly_mimetype+rt_offline"
