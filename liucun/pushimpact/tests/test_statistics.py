"""The statistics of push impact against scipy's own distributions and a published worked example."""

from __future__ import annotations

import pytest
from scipy import stats

from liucun.pushimpact.statistics import dispersion, excess_p_value, holm, rate_difference


def test_poisson_tail_is_at_least_the_observed_count() -> None:
    assert excess_p_value(12, 5.0) == pytest.approx(1 - stats.poisson.cdf(11, 5.0))
    assert excess_p_value(0, 5.0) == 1.0
    assert excess_p_value(3, 0.0) == 0.0


def test_overdispersed_baselines_use_a_negative_binomial_of_the_same_mean_and_variance() -> None:
    n, p = 5.0 / (3.0 - 1.0), 1.0 / 3.0
    assert stats.nbinom.mean(n, p) == pytest.approx(5.0) and stats.nbinom.var(n, p) == pytest.approx(15.0)
    assert excess_p_value(12, 5.0, 3.0) == pytest.approx(stats.nbinom.sf(11, n, p))
    assert excess_p_value(12, 5.0, 3.0) > excess_p_value(12, 5.0)


def test_dispersion_test_rejects_spread_beyond_poisson_only() -> None:
    calm = dispersion([[10, 11, 9, 10], [20, 22, 19, 21]])
    assert calm.df == 6 and calm.statistic == pytest.approx(0.2 + 0.2439, abs=1e-3)
    assert calm.factor == 1.0
    wild = dispersion([[2, 30, 5, 25], [40, 3, 35, 1]])
    assert wild.p_value is not None and wild.p_value < 0.001
    assert wild.factor == pytest.approx(wild.statistic / 6)
    assert dispersion([[4]]).p_value is None


def test_holm_matches_the_step_down_definition() -> None:
    # Holm (1979): sorted p times (m - rank), made monotone, capped at 1, returned in the given order.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_holdout_difference_matches_newcombes_worked_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II example (a): 56/70 vs 48/80, method 10.
    found = rate_difference(70, 56, 80, 48)
    assert found is not None
    assert found.difference == pytest.approx(0.2)
    assert (round(found.low, 4), round(found.high, 4)) == (0.0524, 0.3339)
    assert rate_difference(0, 0, 10, 1) is None
    assert rate_difference(10, 11, 10, 1) is None
