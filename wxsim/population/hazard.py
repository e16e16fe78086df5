"""The unfollow hazard: one formula for the live engine (fan by fan) and the bulk generator (numpy).

Over a step [t0, t1) a following fan's daily hazard is

    (daily_hazard + early) * (1 + min(unanswered_cap, U)) * (1 + min(push_cap, P)) + giveaway

averaged over the step, then spread over it by the messages rhythm (fans leave when they are in
WeChat). `early` decays with the fan's age, `giveaway` lasts giveaway_days for giveaway channels,
U sums decaying grudges for questions unanswered after 48 hours, P sums the pushes the fan received
while they last. Every term is bounded and fades with time; sources and assumptions: docs/wxsim.md.
Both engines call these functions (or their numpy twins, tested to agree) with the same steps.
"""

from __future__ import annotations

import math

import numpy as np

from wxsim.population.scenario import Scenario

DAY = 86400.0
ANSWER_WITHIN = 48 * 3600.0
GRUDGE_HORIZON = 12.0  # grudges older than this many time constants weigh under e^-12: forgotten


def early_average(s: Scenario, a0: float, a1: float) -> float:
    """The early-churn hazard averaged over ages [a0, a1) in days."""
    tau = s.early_churn_days
    if a1 <= a0:
        return s.early_churn_hazard * math.exp(-a0 / tau)
    return s.early_churn_hazard * tau * (math.exp(-a0 / tau) - math.exp(-a1 / tau)) / (a1 - a0)


def giveaway_average(s: Scenario, giveaway: bool, a0: float, a1: float) -> float:
    if not giveaway or a0 >= s.giveaway_days:
        return 0.0
    if a1 <= a0:
        return s.giveaway_daily_hazard
    return s.giveaway_daily_hazard * (min(a1, s.giveaway_days) - a0) / (a1 - a0)


def grudge_average(s: Scenario, expiries: list[float], t0: float, t1: float) -> float:
    """U averaged over [t0, t1): each question expired unanswered at e weighs effect * exp(-(t-e)/tau)."""
    tau = s.unanswered_decay_days * DAY
    span = t1 - t0
    total = 0.0
    for e in expiries:
        if e >= t1:
            continue
        lo = max(t0, e)
        total += math.exp(-(lo - e) / tau) - math.exp(-(t1 - e) / tau)
    return s.unanswered_effect * tau * total / span if span > 0 else 0.0


def push_average(pushes: list[tuple[float, float, float, str]], t0: float, t1: float) -> tuple[float, str]:
    """P averaged over [t0, t1) for received pushes (time, effect, seconds, name); and the heaviest name."""
    span = t1 - t0
    total, top, name = 0.0, 0.0, ""
    for at, effect, seconds, label in pushes:
        overlap = min(t1, at + seconds) - max(t0, at)
        if overlap > 0 and span > 0:
            part = effect * overlap / span
            total += part
            if part > top:
                top, name = part, label
    return total, name


def combine(s: Scenario, *, base: float, early: float, giveaway: float, u: float, p: float) -> float:
    return (base + early) * (1 + min(s.unanswered_cap, u)) * (1 + min(s.push_cap, p)) + giveaway


# --- numpy twins (bulk) ------------------------------------------------------------------------------


def early_averages(s: Scenario, a0: np.ndarray, a1: np.ndarray) -> np.ndarray:
    tau = s.early_churn_days
    span = a1 - a0
    safe = np.where(span > 0, span, 1.0)
    mean = tau * (np.exp(-a0 / tau) - np.exp(-a1 / tau)) / safe
    return s.early_churn_hazard * np.where(span > 0, mean, np.exp(-a0 / tau))


def giveaway_averages(s: Scenario, giveaway: np.ndarray, a0: np.ndarray, a1: np.ndarray) -> np.ndarray:
    span = a1 - a0
    safe = np.where(span > 0, span, 1.0)
    inside = np.where(
        span > 0, np.clip(np.minimum(a1, s.giveaway_days) - a0, 0, None) / safe, a0 < s.giveaway_days
    )
    return np.where(giveaway & (a0 < s.giveaway_days), s.giveaway_daily_hazard * inside, 0.0)


def combines(
    s: Scenario, *, base: np.ndarray, early: np.ndarray, giveaway: np.ndarray, u: np.ndarray, p: np.ndarray
) -> np.ndarray:
    return (base + early) * (1 + np.minimum(s.unanswered_cap, u)) * (1 + np.minimum(s.push_cap, p)) + giveaway
