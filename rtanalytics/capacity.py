"""Capacity planning: forecasts with prediction intervals, time to threshold, growth scenarios, honest backtests.

Model: dynamic harmonic regression — ordinary least squares on a linear trend plus Fourier terms for the daily
(4 harmonics) and weekly (3 harmonics) cycles, fitted with statsmodels' ``OLS`` and its ``get_prediction`` for
prediction intervals. Why this and not ETS or (S)ARIMA: at 5-minute resolution the seasonal periods are 288
and 2,016 points, which seasonal ETS/ARIMA cannot fit in reasonable time (and cannot combine two seasonalities);
Fourier terms capture both with 14 coefficients, fit 200 series x 90 days in seconds, and statsmodels gives
intervals that account for coefficient uncertainty. Residuals of such series are autocorrelated, so nominal
intervals can be too narrow: the backtest reports the actual coverage so a reader knows how far to trust them.
Values are modelled on a log1p scale so forecasts stay non-negative and growth is multiplicative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DAY, WEEK = 86400.0, 7 * 86400.0


def design(index: pd.DatetimeIndex, t0: pd.Timestamp, daily: int = 4, weekly: int = 3) -> np.ndarray:
    """Trend + Fourier terms for ``index`` (seconds since ``t0``)."""
    t = (index.as_unit("ns").asi8 - pd.Timestamp(t0).value) / 1e9
    cols = [np.ones_like(t), t / WEEK]
    for k in range(1, daily + 1):
        cols += [np.sin(2 * np.pi * k * t / DAY), np.cos(2 * np.pi * k * t / DAY)]
    for k in range(1, weekly + 1):
        cols += [np.sin(2 * np.pi * k * t / WEEK), np.cos(2 * np.pi * k * t / WEEK)]
    return np.column_stack(cols)


@dataclass
class Forecast:
    name: str
    history: pd.Series
    mean: pd.Series
    lower: pd.Series
    upper: pd.Series
    weekly_growth: float  # multiplicative growth of the level per week (from the trend)


def forecast(series: pd.Series, horizon, alpha: float = 0.05, name: str = "") -> Forecast:
    """Fit the model to ``series`` (NaN dropped) and forecast ``horizon`` ahead on the same period grid."""
    import statsmodels.api as sm

    from .timewindow import parse_duration

    s = series.dropna()
    if len(s) < 24:
        raise ValueError(f"{name or series.name}: too little data to forecast ({len(s)} points)")
    step = series.index[1] - series.index[0] if len(series) > 1 else pd.Timedelta(minutes=5)
    t0 = series.index[0]
    y = np.log1p(np.clip(s.to_numpy(dtype=float), 0, None))
    fit = sm.OLS(y, design(s.index, t0)).fit()
    fut = pd.date_range(series.index[-1] + step, series.index[-1] + parse_duration(horizon), freq=step)
    pred = fit.get_prediction(design(fut, t0)).summary_frame(alpha=alpha)
    back = np.expm1
    return Forecast(name or str(series.name), series, pd.Series(back(pred["mean"].to_numpy()), index=fut),
                    pd.Series(np.clip(back(pred["obs_ci_lower"].to_numpy()), 0, None), index=fut),
                    pd.Series(back(pred["obs_ci_upper"].to_numpy()), index=fut), float(np.exp(fit.params[1]) - 1))


def crossing(series: pd.Series, level: float) -> pd.Timestamp | None:
    """First time ``series`` reaches ``level`` (None if never)."""
    hit = np.flatnonzero(series.to_numpy() >= level)
    return series.index[hit[0]] if hit.size else None


def time_to_threshold(f: Forecast, level: float, growth: float = 1.0) -> dict:
    """When the forecast (scaled by ``growth``) reaches ``level``: earliest (upper bound), expected (mean) and
    latest (lower bound) crossing; ``None`` means not within the horizon."""
    return {"earliest": crossing(f.upper * growth, level), "expected": crossing(f.mean * growth, level),
            "latest": crossing(f.lower * growth, level)}


def backtest(series: pd.Series, holdout="14d", alpha: float = 0.05) -> dict:
    """Fit on all but the last ``holdout``, forecast it, and score: MAPE (over periods with a non-zero actual)
    and the share of actuals inside the prediction interval (nominal ``1 - alpha``)."""
    from .timewindow import parse_duration

    cut = series.index[-1] - parse_duration(holdout)
    train, test = series[series.index <= cut], series[series.index > cut]
    f = forecast(train, parse_duration(holdout), alpha)
    a = test.reindex(f.mean.index)
    ok = a.notna()
    nz = ok & (a.abs() > 0)
    mape = float((np.abs(a[nz] - f.mean[nz]) / np.abs(a[nz])).mean() * 100) if nz.any() else float("nan")
    cover = float(((a[ok] >= f.lower[ok]) & (a[ok] <= f.upper[ok])).mean()) if ok.any() else float("nan")
    return {"mape_pct": mape, "coverage": cover, "nominal": 1 - alpha, "holdout": str(holdout), "points": int(ok.sum())}


def headroom(rows: list[dict]) -> pd.DataFrame:
    """The headroom table sorted by urgency (earliest expected crossing of the alert level, then of the limit)."""
    df = pd.DataFrame(rows)
    far = pd.Timestamp.max.tz_localize("UTC")
    key = df["alert_expected"].fillna(far) if "alert_expected" in df else pd.Series(far, index=df.index)
    df = df.assign(_k=key).sort_values(["_k", "headroom_pct"], ascending=[True, True]).drop(columns="_k")
    return df.reset_index(drop=True)
