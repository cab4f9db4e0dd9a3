"""Score the capacity forecasts on NAB's real series, through the path the capacity report takes.

Data: ``../shared/realdata/nab`` (or ``$RTANALYTICS_REALDATA/nab``). For each series: the report's path — the
series written to a folder, read back by the ``files`` source at 5-minute periods (Average, as a capacity item
is queried), then :func:`rtanalytics.capacity.backtest` with the report's default holdout (14 days; the same
figure the report's "forecast accuracy" table shows) — beside the bare function on the raw series (its own
irregular spacing). Metric: MAPE of the forecast over the holdout, the seasonal-naive baseline's MAPE in the
same run, *skill* (1 - MAPE / naive MAPE: above 0 beats naive) and interval coverage (nominal 0.95). A series
too short to hold out 14 days and fit is listed with the report's own reason.

Last line: ``series= scored= report_mape= naive_mape= report_skill= report_coverage= bare_scored= bare_mape=``
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_anomaly import load, nab_dir  # noqa: E402

from rtanalytics import capacity as C  # noqa: E402
from rtanalytics.queries import MetricQuery  # noqa: E402
from rtanalytics.sources.files import FilesSource  # noqa: E402
from rtanalytics.timewindow import TimeWindow  # noqa: E402


def main() -> int:
    d = nab_dir()
    if d is None:
        print("realdata/nab not found: set RTANALYTICS_REALDATA (skipped)")
        return 0
    data = list(load(d))
    rep, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for key, s, _ in data:
            name = key.replace("/", "__").removesuffix(".csv")
            pd.DataFrame({"timestamp": s.index.tz_localize(None), "value": s.to_numpy()}).to_csv(
                Path(tmp) / f"{name}.csv", index=False)
        src = FilesSource(Path(tmp))
        for key, s, _ in data:
            name = key.replace("/", "__").removesuffix(".csv")
            w = TimeWindow(s.index.min().floor("300s"), s.index.max().ceil("300s") + pd.Timedelta("5min"))
            series = src.metrics([MetricQuery("NAB", name, {}, "Average", 300, label=name)], w)[name]
            series.name = name
            line = f"{key:55s} days={(s.index.max() - s.index.min()).days:3d}"
            try:
                r = C.backtest(series)
                rep.append(r)
                line += (f" report: mape={r['mape_pct']:.1f} naive={r['naive_mape_pct']:.1f} skill={r['skill']:.2f} "
                         f"coverage={r['coverage']:.2f}")
            except ValueError as e:
                line += f" report: not scored ({str(e).split(': ', 1)[-1]})"
            try:
                b = C.backtest(s.rename(name))
                bare.append(b)
                line += f"  bare: mape={b['mape_pct']:.1f}"
            except ValueError:
                line += "  bare: not scored"
            print(line)

    def mean(rows, k):
        v = [r[k] for r in rows if np.isfinite(r[k])]
        return sum(v) / len(v) if v else float("nan")

    print(f"series={len(data)} scored={len(rep)} report_mape={mean(rep, 'mape_pct'):.1f} "
          f"naive_mape={mean(rep, 'naive_mape_pct'):.1f} report_skill={mean(rep, 'skill'):.2f} "
          f"report_coverage={mean(rep, 'coverage'):.2f} bare_scored={len(bare)} bare_mape={mean(bare, 'mape_pct'):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
