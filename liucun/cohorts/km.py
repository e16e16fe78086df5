"""Kaplan-Meier with weights, exponential Greenwood bands, and the multivariate log-rank test, in numpy.

The reports fit a few hundred weighted rows per channel; lifelines does the same through pandas at
tens of milliseconds a fit, which a year of eight channels could not afford per view. The numbers are
lifelines' own definitions (checked against it in tests/test_km.py): S(t) = prod(1 - d/n) over event
times <= t; bands exp(-exp(log(-log S) -/+ z sqrt(sum d / (n (n - d))) / log S)), 1 where S = 1; the median
is the first time S <= 0.5 (None: not reached); log-rank as lifelines' multivariate_logrank_test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    timeline: np.ndarray  # 0 and every distinct duration, ascending
    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    followed_up: float  # the longest duration: the estimate says nothing beyond it
    median: float | None


def _tables(
    durations: np.ndarray, observed: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times, weighted deaths at each, and the weighted number at risk just before each."""
    times, inverse = np.unique(durations, return_inverse=True)
    deaths = np.bincount(inverse, weights=weights * observed, minlength=len(times))
    leaving = np.bincount(inverse, weights=weights, minlength=len(times))
    at_risk = leaving[::-1].cumsum()[::-1]
    return times, deaths, at_risk


def kaplan_meier(durations: list[int], observed: list[int], weights: list[int], alpha: float = 0.05) -> Curve:
    from scipy.stats import norm

    d_arr, e_arr, w_arr = (np.asarray(x, dtype=float) for x in (durations, observed, weights))
    times, deaths, at_risk = _tables(d_arr, e_arr, w_arr)
    if times[0] != 0:
        times = np.concatenate(([0.0], times))
        deaths = np.concatenate(([0.0], deaths))
        at_risk = np.concatenate(([at_risk[0]], at_risk))
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.cumprod(1.0 - deaths / at_risk)
        variance = deaths / (at_risk * (at_risk - deaths))
        variance[~np.isfinite(variance)] = 0.0
        spread = norm.ppf(1 - alpha / 2) * np.sqrt(np.cumsum(variance))
        log_s = np.log(estimate)
        low = np.exp(-np.exp(np.log(-log_s) - spread / log_s))
        high = np.exp(-np.exp(np.log(-log_s) + spread / log_s))
    low[np.isnan(low)] = 1.0
    high[np.isnan(high)] = 1.0
    below = np.nonzero(estimate <= 0.5)[0]
    return Curve(
        timeline=times,
        estimate=estimate,
        low=low,
        high=high,
        followed_up=float(d_arr.max()),
        median=float(times[below[0]]) if len(below) else None,
    )


def value_at(curve: Curve, values: np.ndarray, t: float) -> float | None:
    """A step function's value at t (None beyond the longest follow-up)."""
    if t > curve.followed_up:
        return None
    return float(values[max(0, int(np.searchsorted(curve.timeline, t, side="right")) - 1)])


@dataclass(frozen=True)
class LogRank:
    statistic: float
    p_value: float
    degrees_of_freedom: int


def logrank(durations: list[int], observed: list[int], weights: list[int], groups: list[str]) -> LogRank:
    """Do the groups' survival curves differ? The multivariate log-rank test over every event time."""
    from scipy.stats import chi2

    names = sorted(set(groups))
    d_arr, e_arr, w_arr = (np.asarray(x, dtype=float) for x in (durations, observed, weights))
    g_arr = np.asarray([names.index(g) for g in groups])
    times = np.unique(d_arr)
    index = np.searchsorted(times, d_arr)
    k = len(names)
    deaths = np.zeros((len(times), k))
    leaving = np.zeros((len(times), k))
    np.add.at(deaths, (index, g_arr), w_arr * e_arr)
    np.add.at(leaving, (index, g_arr), w_arr)
    at_risk = leaving[::-1].cumsum(axis=0)[::-1]
    n = at_risk.sum(axis=1)
    d = deaths.sum(axis=1)
    used = (d > 0) & (n > 1)
    n, d, at_risk, deaths = n[used], d[used], at_risk[used], deaths[used]
    expected = at_risk * (d / n)[:, None]
    scale = (d * (n - d) / (n - 1) / n)[:, None, None]
    share = at_risk / n[:, None]
    covariance = (
        scale * (np.eye(k)[None] * at_risk[:, :, None] - at_risk[:, :, None] * share[:, None, :])
    ).sum(axis=0)
    difference = (deaths - expected).sum(axis=0)
    statistic = float(difference[:-1] @ np.linalg.pinv(covariance[:-1, :-1]) @ difference[:-1])
    return LogRank(statistic, float(chi2.sf(statistic, k - 1)), k - 1)
