"""Score log templates on loghub's eight labelled systems, on the raw lines: the bare function
(:func:`rtanalytics.templates.mine`), the path the incident report takes (:func:`rtanalytics.forensics.
error_signatures`, every line an error line, privacy on as the report runs), and held out.

Held out: the header split is learned per file (no format is written for any system), so it has nothing to
leave out. The variable masks are a list; each is kept for system S only if removing it hurts some *other*
system (or no system at all): a mask that helps S alone was, in effect, written for S, and S is scored without
it. ``heldout_mean`` is that leave-one-system-out figure.

Data: ``../shared/realdata/loghub`` (or ``$RTANALYTICS_REALDATA/loghub``): for each system ``X_2k.log`` (raw
lines) and ``X_2k.log_structured.csv`` (the ground-truth ``EventId`` of each line). Metric: grouping accuracy
(the loghub benchmark's). Beside it, in the same run, the plain baseline: drain3 with its defaults on the raw
lines, no header split and no masking. Published reference (Drain with a hand-written header format and
masking regexes per system): HDFS 0.9975, Linux 0.69, Zookeeper 0.9665, Spark 0.92, OpenStack 0.7325,
Proxifier 0.5265, BGL 0.9625, HealthApp 0.78 (mean 0.82).

Last line: ``systems= mean_accuracy= min_accuracy= report_mean= report_min= heldout_mean= heldout_min=
baseline_mean= drain_published_mean=0.82 lines= seconds=``
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rtanalytics import templates as T  # noqa: E402
from rtanalytics.forensics import error_signatures  # noqa: E402
from rtanalytics.templates import grouping_accuracy, mine  # noqa: E402

PUBLISHED = {"HDFS": 0.9975, "Linux": 0.69, "Zookeeper": 0.9665, "Spark": 0.92, "OpenStack": 0.7325,
             "Proxifier": 0.5265, "BGL": 0.9625, "HealthApp": 0.78}


def loghub_dir() -> Path | None:
    base = Path(os.environ.get("RTANALYTICS_REALDATA", ROOT.parent / "shared" / "realdata"))
    d = base / "loghub"
    return d if d.is_dir() else None


def load(d: Path):
    for system in sorted(PUBLISHED):
        f = d / system / f"{system}_2k.log"
        if not f.exists():
            continue
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
        truth = pd.read_csv(d / system / f"{system}_2k.log_structured.csv")["EventId"]
        yield system, lines[: len(truth)], truth


def baseline(lines) -> list:
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    c = TemplateMinerConfig()
    c.profiling_enabled = False
    tm = TemplateMiner(config=c)
    return [tm.add_log_message(x)["cluster_id"] for x in lines]


def through_report(lines, truth) -> float:
    """Grouping accuracy of the incident report's error signatures (privacy on, its default)."""
    logs = pd.DataFrame({"timestamp": pd.date_range("2026-11-20T10:00Z", periods=len(lines), freq="s"),
                         "level": "error", "message": lines})
    sig = error_signatures(logs, logs["timestamp"].iloc[0], logs["timestamp"].iloc[-1] + pd.Timedelta("1s"))
    return grouping_accuracy(sig.attrs["assignments"]["signature"].to_numpy(), truth)


def held_out(data, full: dict) -> dict:
    """Leave-one-system-out accuracy for the masks (see the module docstring)."""
    masks = list(T._MASKS)
    need = []
    for k in range(len(masks)):
        T._MASKS = masks[:k] + masks[k + 1:]
        need.append({s for s, lines, truth in data
                     if grouping_accuracy(mine(lines)["template_id"], truth) < full[s] - 0.002})
    out = {}
    for s, lines, truth in data:
        T._MASKS = [m for m, nd in zip(masks, need) if not nd or nd - {s}]
        out[s] = (grouping_accuracy(mine(lines)["template_id"], truth), len(masks) - len(T._MASKS))
    T._MASKS = masks
    return out


def main() -> int:
    d = loghub_dir()
    if d is None:
        print("realdata/loghub not found: set RTANALYTICS_REALDATA (skipped)")
        return 0
    t0 = time.perf_counter()
    data = list(load(d))
    full, rep, bases, n, fmt = {}, {}, [], 0, {}
    for system, lines, truth in data:
        out = mine(lines)
        full[system] = grouping_accuracy(out["template_id"], truth)
        fmt[system] = out
        rep[system] = through_report(lines, truth)
        bases.append(grouping_accuracy(baseline(lines), truth))
        n += len(lines)
    ho = held_out(data, full)
    for (system, lines, truth), base in zip(data, bases):
        out = fmt[system]
        print(f"{system:10s} accuracy={full[system]:.4f} report={rep[system]:.4f} heldout={ho[system][0]:.4f} "
              f"(without {ho[system][1]} mask(s) only it needs) baseline={base:.4f} "
              f"published_drain={PUBLISHED[system]:.4f} header={out.attrs.get('format')!r} "
              f"matched={out.attrs.get('matched', 0):.3f} templates={out['template_id'].nunique()} "
              f"true_templates={truth.nunique()}")
    secs = time.perf_counter() - t0
    acc, r, h = list(full.values()), list(rep.values()), [v[0] for v in ho.values()]
    print(f"systems={len(acc)} mean_accuracy={sum(acc) / len(acc):.4f} min_accuracy={min(acc):.4f} "
          f"report_mean={sum(r) / len(r):.4f} report_min={min(r):.4f} heldout_mean={sum(h) / len(h):.4f} "
          f"heldout_min={min(h):.4f} baseline_mean={sum(bases) / len(bases):.4f} drain_published_mean=0.82 "
          f"lines={n} seconds={secs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
