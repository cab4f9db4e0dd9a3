"""Score log templates on loghub's eight labelled systems, on the raw lines: the bare function
(:func:`rtanalytics.templates.mine`), the path the incident report takes (:func:`rtanalytics.forensics.
error_signatures`, every line an error line, privacy on as the report runs), and held out.

Held out (leave one system out): the header split is learned per file (no format is written for any system),
so it has nothing to leave out. What *was* chosen by looking at these systems — drain's similarity threshold,
how many spellings make a slot a value (:func:`rtanalytics.templates.learn_slots`) and the list of variable
masks — is chosen again for each system S from the other seven alone (the settings with the best mean there; then backward elimination: a mask goes when none of the seven loses more than 0.002
without it), and S is scored with those choices. ``heldout_mean`` is that figure: what a system nobody looked
at gets.

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


SIM_GRID = (0.3, 0.4, 0.5, 0.6)
SLOT_GRID = (0, 5, 10, 20)  # 0: no values learned from the file


def _scores(data, settings) -> dict:
    return {s: grouping_accuracy(mine(lines, settings)["template_id"], truth) for s, lines, truth in data}


def held_out(data) -> dict:
    """Leave one system out: for each system S, everything that was chosen by looking at the data is chosen
    again from the other seven only — drain's similarity threshold and the spellings that make a slot a value
    (the grid's best mean there), then the masks (backward elimination: a mask goes when none of the seven
    loses more than 0.002 without it) — and S is scored with those choices.
    Returns ``{S: (accuracy, settings chosen, masks kept, masks dropped)}``."""
    masks = list(T._MASKS)
    grid = [T.MiningSettings(sim_th=x, slot_values=k) for x in SIM_GRID for k in SLOT_GRID]
    every = [_scores(data, g) for g in grid]  # all masks: each system under each setting, once
    default = T.MiningSettings()
    out = {}
    try:
        for k, (s, lines, truth) in enumerate(data):
            others = data[:k] + data[k + 1:]
            names = [o for o, _, _ in others]
            i = max(range(len(grid)), key=lambda j: (round(sum(every[j][o] for o in names), 6),
                                                     grid[j] == default))  # a tie keeps the default
            cfg, base, keep = grid[i], every[i], list(range(len(masks)))
            for m in reversed(range(len(masks))):
                trial = [j for j in keep if j != m]
                T._MASKS = [masks[j] for j in trial]
                sc = _scores(others, cfg)
                if all(sc[o] >= base[o] - 0.002 for o in sc):
                    keep = trial
            T._MASKS = [masks[j] for j in keep]
            out[s] = (grouping_accuracy(mine(lines, cfg)["template_id"], truth),
                      f"sim_th {cfg.sim_th}, slot_values {cfg.slot_values}", len(keep), len(masks) - len(keep))
    finally:
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
    ho = held_out(data)
    for (system, lines, truth), base in zip(data, bases):
        out = fmt[system]
        print(f"{system:10s} accuracy={full[system]:.4f} report={rep[system]:.4f} heldout={ho[system][0]:.4f} "
              f"({ho[system][1]}, {ho[system][2]} masks chosen without it, {ho[system][3]} dropped) "
              f"baseline={base:.4f} "
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
