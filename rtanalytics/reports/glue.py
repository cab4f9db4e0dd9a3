"""How a notebook hands its key figures to the runner: a display output with a private mimetype.

nbconvert's HTML drops outputs whose only mimetype it does not know, so the figures never clutter the report;
the runner reads them back from the executed notebook (the scrapbook pattern, without the dependency).
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..quota import drain_process_limiter

SUMMARY_MIMETYPE = "application/vnd.rtanalytics.summary+json"


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None  # JSON has no NaN: missing stays missing (null), never 0
    return v


def report_summary(figures: dict[str, Any], status: str = "ok", notes: list[str] | None = None,
                   provenance: dict | None = None, extra: dict | None = None) -> None:
    """Publish the report's key figures (and ``status``: ``ok`` or ``partial``, notes and the data's
    provenance) to the runner."""
    # lazy: IPython only inside a kernel (the command imports this module and never displays)
    from IPython.display import display

    payload = {"figures": _clean(figures), "status": status, "notes": list(notes or []),
               "provenance": _clean(provenance or {})}
    payload |= _clean(extra or {})  # e.g. the headline figures and the window analysed
    json.dumps(payload)  # fail here, in the notebook, if something is not serialisable

    drain_process_limiter()  # in a fleet: the account's API quota leases go back before the kernel ends
    display({SUMMARY_MIMETYPE: payload}, raw=True)


def read_summary(nb) -> dict | None:
    """The last summary a notebook (an nbformat node) published, or ``None``."""
    found = None
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if SUMMARY_MIMETYPE in data:
                found = data[SUMMARY_MIMETYPE]
    return found
