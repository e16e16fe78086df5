"""km.py against lifelines, the independent oracle: weighted rows give what lifelines gives fan by fan."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from liucun.cohorts import km

# (duration, unfollowed?, weight, group). The reports never have an unfollow at 0 (a stay of s whole days
# ends at s + 1); a censoring at 0 they do have (fans who followed today or yesterday).
rows = st.lists(
    st.tuples(st.integers(0, 40), st.booleans(), st.integers(1, 5), st.sampled_from("abc")).map(
        lambda r: (max(r[0], 1) if r[1] else r[0], *r[1:])
    ),
    min_size=1,
    max_size=40,
)


def _expand(data: list[tuple[int, bool, int, str]]) -> tuple[list[int], list[int], list[str]]:
    """The weighted rows as one row per fan, the way lifelines is given them here."""
    durations, observed, groups = [], [], []
    for duration, seen, weight, group in data:
        durations += [duration] * weight
        observed += [int(seen)] * weight
        groups += [group] * weight
    return durations, observed, groups


@settings(max_examples=40, deadline=None)
@given(data=rows)
def test_kaplan_meier_equals_lifelines(data: list[tuple[int, bool, int, str]]) -> None:
    curve = km.kaplan_meier([d for d, *_ in data], [int(e) for _, e, *_ in data], [w for _, _, w, _ in data])
    durations, observed, _groups = _expand(data)
    kmf = KaplanMeierFitter().fit(durations, observed)
    band = kmf.confidence_interval_survival_function_
    for t in sorted({0, *durations, 2.5, 100}):
        if t > max(durations):
            assert km.value_at(curve, curve.estimate, t) is None
            continue
        at = band.loc[:t].iloc[-1]
        assert km.value_at(curve, curve.estimate, t) == pytest.approx(
            float(kmf.survival_function_at_times(t).iloc[0])
        )
        assert km.value_at(curve, curve.low, t) == pytest.approx(float(at.iloc[0]))
        assert km.value_at(curve, curve.high, t) == pytest.approx(float(at.iloc[1]))
    # lifelines multiplies in log space, so a survival of exactly one half can come out a hair above it
    # and its median_survival_time_ says "not reached": the first time at or below one half, tolerantly.
    at_or_below = [t for t, v in kmf.survival_function_.iloc[:, 0].items() if v <= 0.5 + 1e-12]
    assert curve.median == (float(at_or_below[0]) if at_or_below else None)


@settings(max_examples=40, deadline=None)
@given(data=rows)
def test_logrank_equals_lifelines(data: list[tuple[int, bool, int, str]]) -> None:
    durations, observed, groups = _expand(data)
    if len(set(groups)) < 2 or not any(observed):
        return
    ours = km.logrank(
        [d for d, *_ in data],
        [int(e) for _, e, *_ in data],
        [w for _, _, w, _ in data],
        [g for *_, g in data],
    )
    theirs = multivariate_logrank_test(durations, groups, observed)
    assert ours.degrees_of_freedom == theirs.degrees_of_freedom
    assert ours.statistic == pytest.approx(theirs.test_statistic, rel=1e-6, abs=1e-9)
    assert ours.p_value == pytest.approx(theirs.p_value, rel=1e-6, abs=1e-9)
