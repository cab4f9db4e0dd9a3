"""Score :func:`rtanalytics.templates.mine` on loghub's eight labelled systems, on the raw lines.

Data: ``../shared/realdata/loghub`` (or ``$RTANALYTICS_REALDATA/loghub``): for each system ``X_2k.log`` (raw
lines) and ``X_2k.log_structured.csv`` (the ground-truth ``EventId`` of each line). Metric: grouping accuracy
(the loghub benchmark's). Beside it, in the same run, the plain baseline: drain3 with its defaults on the raw
lines, no header split and no masking. Published reference (Drain with a hand-written header format and
masking regexes per system): HDFS 0.9975, Linux 0.69, Zookeeper 0.9665, Spark 0.92, OpenStack 0.7325,
Proxifier 0.5265, BGL 0.9625, HealthApp 0.78 (mean 0.82).

Last line: ``systems= mean_accuracy= min_accuracy= baseline_mean= drain_published_mean=0.82 lines= seconds=``
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def main() -> int:
    d = loghub_dir()
    if d is None:
        print("realdata/loghub not found: set RTANALYTICS_REALDATA (skipped)")
        return 0
    accs, bases, n = [], [], 0
    t0 = time.perf_counter()
    for system, lines, truth in load(d):
        out = mine(lines)
        acc = grouping_accuracy(out["template_id"], truth)
        base = grouping_accuracy(baseline(lines), truth)
        accs.append(acc)
        bases.append(base)
        n += len(lines)
        print(f"{system:10s} accuracy={acc:.4f} baseline={base:.4f} published_drain={PUBLISHED[system]:.4f} "
              f"header={out.attrs.get('format')} matched={out.attrs.get('matched', 0):.3f} "
              f"templates={out['template_id'].nunique()} true_templates={truth.nunique()}")
    secs = time.perf_counter() - t0
    print(f"systems={len(accs)} mean_accuracy={sum(accs) / len(accs):.4f} min_accuracy={min(accs):.4f} "
          f"baseline_mean={sum(bases) / len(bases):.4f} drain_published_mean=0.82 lines={n} seconds={secs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
