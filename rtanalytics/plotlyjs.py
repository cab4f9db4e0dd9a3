"""The shared plotly.js every report page loads: ``outputs/_assets/plotly-<version>.min.js``.

Kept apart from :mod:`rtanalytics.figures` (which imports plotly's renderers) so the runner can write it
without that import before it starts a report's kernel."""

from __future__ import annotations

import os
from pathlib import Path

from .reports.publish import atomic_write_text


def plotlyjs_asset_name() -> str:
    """The shared plotly.js file's name, versioned: a new plotly.js never overwrites what old reports load."""
    from plotly.offline import get_plotlyjs_version  # lazy: plotly's offline bundle only when the asset is written

    return f"plotly-{get_plotlyjs_version()}.min.js"


def write_plotlyjs_asset(outputs, run_dir=None) -> str:
    """``outputs/_assets/plotly-<version>.min.js`` (written once, atomically); returns the path relative to a
    run's folder (``outputs/REPORT/RUN/``, or ``run_dir`` when given: a fleet's runs are deeper), as its
    report.html references it."""
    from plotly.offline import get_plotlyjs  # lazy: plotly's offline bundle only when the asset is written

    name = plotlyjs_asset_name()
    path = Path(outputs) / "_assets" / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, get_plotlyjs())
    if run_dir is not None:
        return Path(os.path.relpath(path, run_dir)).as_posix()
    return f"../../_assets/{name}"
