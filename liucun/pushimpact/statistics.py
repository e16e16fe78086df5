"""The statistics of push impact, kept pure so they can be checked against scipy and published examples.

scipy is imported inside the functions: importing scipy.stats costs about 1.5 s, which the callback
and the console's start should not pay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Overdispersion counts as evident when the baseline windows' spread is beyond Poisson at this level.
DISPERSION_LEVEL = 0.05


def excess_p_value(observed: int, expected: float, dispersion: float = 1.0) -> float:
    """P(X >= observed) when X has mean `expected`: Poisson, or with dispersion > 1 a negative binomial
    of the same mean and variance dispersion x mean (one-sided: only more unfollows than usual count)."""
    return excess_p_values([observed], [expected], dispersion)[0]


def excess_p_values(
    observed: Sequence[int], expected: Sequence[float], dispersion: float = 1.0
) -> list[float]:
    """excess_p_value for many windows in one vectorised call (a year of daily pushes is 730 tests)."""
    if not observed:
        return []
    import numpy as np
    from scipy import stats

    k = np.asarray(observed, dtype=float)
    mu = np.asarray(expected, dtype=float)
    safe = np.where(mu > 0, mu, 1.0)
    if dispersion <= 1.0:
        tail = stats.poisson.sf(k - 1, safe)
    else:
        # Variance phi*mu: n = mu / (phi - 1) successes, success probability 1 / phi.
        tail = stats.nbinom.sf(k - 1, safe / (dispersion - 1.0), 1.0 / dispersion)
    tail = np.where(mu > 0, tail, 0.0)
    return [float(p) for p in np.where(k <= 0, 1.0, tail)]


@dataclass(frozen=True)
class Dispersion:
    statistic: float  # sum over windows of (x - mean)^2 / mean: chi-squared with `df` under Poisson
    df: int
    p_value: float | None  # of the Poisson dispersion test; None without enough windows

    @property
    def factor(self) -> float:
        """Variance / mean of the baseline counts; 1 when Poisson is not rejected."""
        if self.p_value is None or self.p_value >= DISPERSION_LEVEL or self.df == 0:
            return 1.0
        return max(1.0, self.statistic / self.df)


def dispersion(groups: Sequence[Sequence[float]]) -> Dispersion:
    """The Poisson dispersion test pooled over groups (one group: one push's baseline weeks).

    Each group's windows share a mean; under Poisson the sum of (x - mean)^2 / mean over every window is
    chi-squared with (windows - 1) degrees of freedom per group."""
    statistic, df = 0.0, 0
    for values in groups:
        if len(values) < 2:
            continue
        mean = sum(values) / len(values)
        if mean <= 0:
            continue
        statistic += sum((x - mean) ** 2 for x in values) / mean
        df += len(values) - 1
    if df == 0:
        return Dispersion(0.0, 0, None)
    from scipy import stats

    return Dispersion(statistic, df, float(stats.chi2.sf(statistic, df)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (family-wise error) of p-values, in their given order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class Difference:
    difference: float  # recipients' unfollow rate minus held-out fans'
    low: float
    high: float


def _wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return (centre - spread) / denominator, (centre + spread) / denominator


def rate_difference(
    recipients: int, recipients_left: int, holdout: int, holdout_left: int, level: float = 0.95
) -> Difference | None:
    """The causal effect of a push with a random holdout: the difference of unfollow rates between
    recipients and held-out fans, with Newcombe's hybrid score interval (method 10, Newcombe 1998),
    which keeps its coverage for rates near zero where the Wald interval does not."""
    if recipients <= 0 or holdout <= 0:
        return None
    if not (0 <= recipients_left <= recipients and 0 <= holdout_left <= holdout):
        return None
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + level / 2))
    p1, p2 = recipients_left / recipients, holdout_left / holdout
    l1, u1 = _wilson(recipients_left, recipients, z)
    l2, u2 = _wilson(holdout_left, holdout, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, low, high)
