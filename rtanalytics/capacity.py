"""Capacity planning: forecasts with prediction intervals, time to threshold, growth scenarios, honest backtests.

Model: dynamic harmonic regression — ordinary least squares on a linear trend plus Fourier terms for the daily
(4 harmonics) and weekly (3 harmonics) cycles, fitted by least squares with prediction intervals
(:func:`ols_forecast`: statsmodels' ``OLS`` / ``get_prediction`` figures, checked equal in the tests). Why this and not ETS or (S)ARIMA: at 5-minute resolution the seasonal periods are 288
and 2,016 points, which seasonal ETS/ARIMA cannot fit in reasonable time (and cannot combine two seasonalities);
Fourier terms capture both with 14 coefficients, fit 200 series x 90 days in seconds, and the intervals
account for coefficient uncertainty. Residuals of such series are autocorrelated, so nominal
intervals can be too narrow: the backtest reports the actual coverage so a reader knows how far to trust them.
Values are modelled on a log1p scale so forecasts stay non-negative and growth is multiplicative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .timewindow import parse_duration

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
    weekly_growth: float  # multiplicative growth of the level per week (from the trend); NaN under two weeks
    method: str = "trend + daily/weekly cycles"  # or "seasonal naive + trend" (see :func:`forecast`)
    why: str = ""  # how the method was chosen


def ols_forecast(X: np.ndarray, y: np.ndarray, X_new: np.ndarray, alpha: float = 0.05):
    """Ordinary least squares of ``y`` on ``X`` and, at ``X_new``, the mean and the ``1 - alpha`` prediction
    interval of a new observation — what statsmodels' ``OLS(...).fit().get_prediction().summary_frame()`` gives
    (``mean``, ``obs_ci_lower``, ``obs_ci_upper``), computed with one QR decomposition and a t quantile, without
    importing statsmodels (1.7 s of the report's time). Returns ``(params, mean, lower, upper)``."""
    from scipy.special import stdtrit  # lazy: scipy.special only for a forecast's interval

    n, p = X.shape
    q, r = np.linalg.qr(X)
    params = np.linalg.solve(r, q.T @ y)
    resid = y - X @ params
    dof = n - p
    s2 = float(resid @ resid) / dof
    w = X_new @ np.linalg.inv(r)  # rows: R^-T x0, so x0' (X'X)^-1 x0 is the squared row norm
    se = np.sqrt(s2 * (1.0 + np.einsum("ij,ij->i", w, w)))
    mean = X_new @ params
    half = stdtrit(dof, 1 - alpha / 2) * se
    return params, mean, mean - half, mean + half


#: history a forecast needs before it chooses its method on its own last week (a week to fit, a week to judge)
CHOOSE_AFTER = pd.Timedelta(days=14)
VALIDATE = pd.Timedelta(days=7)


def _mape(actual: pd.Series, predicted: pd.Series) -> float:
    a = actual.reindex(predicted.index)
    nz = a.notna() & (a.abs() > 0) & predicted.notna()
    return float((np.abs(a[nz] - predicted[nz]) / np.abs(a[nz])).mean() * 100) if nz.any() else float("nan")


def _model_forecast(series: pd.Series, horizon, alpha: float, name: str) -> Forecast:
    s = series.dropna()
    step = series.index[1] - series.index[0] if len(series) > 1 else pd.Timedelta(minutes=5)
    t0 = series.index[0]
    y = np.log1p(np.clip(s.to_numpy(dtype=float), 0, None))
    fut = pd.date_range(series.index[-1] + step, series.index[-1] + parse_duration(horizon), freq=step)
    params, mean, lower, upper = ols_forecast(design(s.index, t0), y, design(fut, t0), alpha)
    back = np.expm1
    span = s.index[-1] - s.index[0]
    # a trend fitted on less than two weekly cycles is confounded with the weekly cycle: not reported as growth
    growth = float(np.exp(params[1]) - 1) if span >= pd.Timedelta(days=14) else float("nan")
    return Forecast(name or str(series.name), series,
                    pd.Series(np.clip(back(mean), 0, None), index=fut),  # never below zero
                    pd.Series(np.clip(back(lower), 0, None), index=fut),
                    pd.Series(np.clip(back(upper), 0, None), index=fut), growth)


def _season(s: pd.Series) -> pd.Timedelta:
    """The season a seasonal forecast repeats: a week, or a day when the history is shorter than two weeks."""
    return pd.Timedelta(days=7) if s.index[-1] - s.index[0] >= pd.Timedelta(days=14) else pd.Timedelta(days=1)


def _drifted(series: pd.Series, index: pd.DatetimeIndex, weekly_growth: float) -> pd.Series:
    """The last season repeated (:func:`seasonal_naive`) and grown by ``weekly_growth`` per week ahead (none when
    the growth is unknown): the seasonal-naive forecast with the level's own trend. (The median of the last
    three seasons instead was tried: NAB MAPE 106.5 against 102.3, dropped.)"""
    g = weekly_growth if np.isfinite(weekly_growth) else 0.0
    ahead = (index - series.dropna().index[-1]) / pd.Timedelta(days=7)
    return seasonal_naive(series, index) * np.power(1.0 + g, np.asarray(ahead, dtype=float))


def _naive_forecast(series: pd.Series, model: Forecast, alpha: float) -> Forecast:
    """The last season grown by the model's trend (:func:`_drifted`), its interval the ``alpha`` quantiles of
    the history's own season-to-season changes."""
    idx = model.mean.index
    mean = _drifted(series, idx, model.weekly_growth)
    s = series.dropna()
    season = _season(s)
    change = (s - s.shift(freq=season).reindex(s.index)).dropna()
    lo, hi = (np.quantile(change, [alpha / 2, 1 - alpha / 2]) if len(change) else (np.nan, np.nan))
    return Forecast(model.name, series, mean.clip(lower=0), (mean + lo).clip(lower=0), (mean + hi).clip(lower=0),
                    model.weekly_growth, "seasonal naive + trend")


def forecast(series: pd.Series, horizon, alpha: float = 0.05, name: str = "") -> Forecast:
    """Forecast ``horizon`` ahead on the same period grid (NaN dropped), with the method the series itself
    prefers: a trend with daily and weekly cycles (OLS on the log of the values) — or, when that model did
    worse on the series' own last week (fitted on what came before it) than repeating the last season grown by
    the same trend, that seasonal forecast (its shape the last season's, its growth the model's: a capacity
    forecast still projects the trend). Chosen on history alone, never on what is forecast; under 14
    days of history the model is used (too little to judge it). ``method`` and ``why`` say which and why."""
    s = series.dropna()
    if len(s) < 24:
        raise ValueError(f"{name or series.name}: too little data to forecast ({len(s)} points)")
    model = _model_forecast(series, horizon, alpha, name)
    if s.index[-1] - s.index[0] < CHOOSE_AFTER:
        model.why = "under 14 days of history: too little to judge the model against the seasonal baseline"
        return model
    cut = series.index[-1] - VALIDATE
    fit, judge = series[series.index <= cut], series[series.index > cut]
    fitted = _model_forecast(fit, VALIDATE, alpha, name)
    m_err = _mape(judge, fitted.mean)
    n_err = _mape(judge, _drifted(fit, judge.index, fitted.weekly_growth))
    if np.isfinite(m_err) and np.isfinite(n_err) and n_err < m_err:
        out = _naive_forecast(series, model, alpha)
        out.why = (f"on the last 7 days the model missed by {m_err:.1f} % and repeating the last season (with "
                   f"the trend) by {n_err:.1f} %: the seasonal forecast is used")
        return out
    model.why = (f"on the last 7 days the model missed by {m_err:.1f} %, repeating the last season (with "
                 f"the trend) by {n_err:.1f} %")
    return model


def crossing(series: pd.Series, level: float) -> pd.Timestamp | None:
    """First time ``series`` reaches ``level`` (None if never)."""
    hit = np.flatnonzero(series.to_numpy() >= level)
    return series.index[hit[0]] if hit.size else None


def time_to_threshold(f: Forecast, level: float, growth: float = 1.0) -> dict:
    """When the forecast (scaled by ``growth``) reaches ``level``: earliest (upper bound), expected (mean) and
    latest (lower bound) crossing; ``None`` means not within the horizon."""
    return {"earliest": crossing(f.upper * growth, level), "expected": crossing(f.mean * growth, level),
            "latest": crossing(f.lower * growth, level)}


def seasonal_naive(train: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """The plain baseline a forecast must beat: each future point is the value one season earlier (a week, or a
    day when the history is shorter than two weeks), the last season repeated over the horizon."""
    s = train.dropna()
    season = _season(s)
    k = np.ceil((index - s.index[-1]) / season)
    ref = index - pd.to_timedelta(k * season.value, unit="ns")
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(minutes=5)
    vals = s.reindex(ref, method="nearest", tolerance=step)
    return pd.Series(vals.to_numpy(dtype=float), index=index)


def backtest(series: pd.Series, holdout="14d", alpha: float = 0.05) -> dict:
    """Fit on all but the last ``holdout``, forecast it, and score against what happened: MAPE (over periods
    with a non-zero actual), the share of actuals inside the prediction interval (nominal ``1 - alpha``), and
    the same MAPE for the seasonal-naive baseline (:func:`seasonal_naive`) with the model's *skill*
    ``1 - MAPE_model / MAPE_naive`` (above 0: better than naive; at or below 0: do not trust the forecast).

    Raises ``ValueError`` saying why when it cannot score (too little history before the holdout, or no
    non-zero actual in it) — never an infinite or meaningless score."""
    h = parse_duration(holdout)
    s = series.dropna()
    # the fit before the holdout needs what a forecast needs (a week: the weekly cycle); on 2 days its weekly
    # terms are unidentified and the forecast explodes (NAB's 16-day series: MAPE in the thousands, overflow)
    if s.empty or s.index[-1] - s.index[0] < h + pd.Timedelta(days=7):
        have = (s.index[-1] - s.index[0]) if len(s) else pd.Timedelta(0)
        raise ValueError(f"{series.name}: {have.days} days of history cannot hold out {holdout} and still fit "
                         "(needs the holdout plus 7 days)")
    cut = series.index[-1] - h
    train, test = series[series.index <= cut], series[series.index > cut]
    f = forecast(train, h, alpha)
    a = test.reindex(f.mean.index)
    ok = a.notna()
    nz = ok & (a.abs() > 0)
    if not nz.any():
        raise ValueError(f"{series.name}: no non-zero value in the last {holdout}: a percentage error is undefined")
    mape = float((np.abs(a[nz] - f.mean[nz]) / np.abs(a[nz])).mean() * 100)
    naive = seasonal_naive(train, f.mean.index)
    nn = nz & naive.notna()
    naive_mape = float((np.abs(a[nn] - naive[nn]) / np.abs(a[nn])).mean() * 100) if nn.any() else float("nan")
    skill = 1 - mape / naive_mape if np.isfinite(naive_mape) and naive_mape > 0 else float("nan")
    cover = float(((a[ok] >= f.lower[ok]) & (a[ok] <= f.upper[ok])).mean()) if ok.any() else float("nan")
    return {"mape_pct": mape, "naive_mape_pct": naive_mape, "skill": skill, "coverage": cover,
            "nominal": 1 - alpha, "holdout": str(holdout), "points": int(ok.sum()), "method": f.method}


def headroom(rows: list[dict]) -> pd.DataFrame:
    """The headroom table sorted by urgency (earliest expected crossing of the alert level, then of the limit)."""
    df = pd.DataFrame(rows)
    far = pd.Timestamp("2262-01-01", tz="UTC")  # after any crossing; representable at any resolution
    key = df["alert_expected"].fillna(far) if "alert_expected" in df else pd.Series(far, index=df.index)
    df = df.assign(_k=key).sort_values(["_k", "headroom_pct"], ascending=[True, True]).drop(columns="_k")
    return df.reset_index(drop=True)
