"""The retention grid, survival and channel quality over the API, on histories whose answers are known."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from liucun.analytics.periods import ReportQuery, today, week_of
from liucun.cohorts.models import BIN_STARTS
from liucun.cohorts.retention import build_retention
from liucun.cohorts.tests.support import Stay, operator_of, record, report
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def _ages(row: dict, last: int) -> list:
    return [row[f"age_{k}"] for k in range(last + 1)]


def test_retention_by_day_counts_each_cohort_only_at_ages_all_its_fans_reached() -> None:
    account = make_account()
    t = today()
    record(
        account,
        [
            Stay(t - timedelta(days=10), "a", 2),  # gone within a day: 0 whole days
            Stay(t - timedelta(days=10), "a", 30),  # 1 whole day
            Stay(t - timedelta(days=10), "b", 121),  # 5 whole days
            Stay(t - timedelta(days=10), "a", None),
            Stay(t - timedelta(days=1), "b", 1, hour=1),
            Stay(t - timedelta(days=1), "b", None),
            Stay(t, "a", None, hour=0),
        ],
    )
    client = operator_of(account)
    params = {"start": t - timedelta(days=10), "end": t, "granularity": "day"}
    body = report(client, account, "retention", **params)
    rows = {r["cohort"]: r for r in body["rows"]}
    assert len(body["rows"]) == 11
    oldest = rows[(t - timedelta(days=10)).isoformat()]
    assert oldest["fans"] == 4
    # Ages 0..9 are reached by every fan of day T-10 (day T-10 + 1 + 9 = today); 10 and later are not.
    assert _ages(oldest, 11) == [1.0, 0.75, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, None, None]
    assert rows[(t - timedelta(days=1)).isoformat()]["fans"] == 2
    assert _ages(rows[(t - timedelta(days=1)).isoformat()], 1) == [1.0, None]
    assert _ages(rows[t.isoformat()], 1) == [1.0, None]
    assert _ages(rows[(t - timedelta(days=5)).isoformat()], 1) == [None, None]  # nobody: no share
    assert body["meta"]["fans_by_age"][:3] == [7, 4, 4]
    assert body["meta"]["mean_by_age"][1] == 0.75
    chart = build_retention(account, ReportQuery(t - timedelta(days=10), t, "day")).chart
    assert chart is not None
    assert chart["series"][0]["type"] == "heatmap"
    # [age, cohort row, percent]: reached cells only, so T-10's ages 0..9 and age 0 of T-1 and T.
    assert sorted(chart["series"][0]["data"])[:3] == [[0, 0, 100.0], [0, 9, 100.0], [0, 10, 100.0]]
    assert len(chart["series"][0]["data"]) == 12

    only_a = report(client, account, "retention", **params, channel="a")
    assert [(r["cohort"], r["fans"]) for r in only_a["rows"] if r["fans"]] == [
        ((t - timedelta(days=10)).isoformat(), 3),
        (t.isoformat(), 1),
    ]
    assert _ages(only_a["rows"][0], 2) == [1.0, 2 / 3, 1 / 3]


def test_retention_by_week_counts_whole_weeks_stayed() -> None:
    account = make_account()
    t = today()
    monday = week_of(t) - timedelta(days=21)
    record(
        account,
        [
            Stay(monday, "", 3),
            Stay(monday, "", 240),  # 10 days: week 1, not week 2
            Stay(monday + timedelta(days=6), "", 20 * 24),
            Stay(monday, "", None),
        ],
    )
    body = report(operator_of(account), account, "retention", start=monday, end=t, granularity="week")
    assert [r["cohort"] for r in body["rows"]] == [
        (monday + timedelta(days=7 * i)).isoformat() for i in range(4)
    ]
    first = body["rows"][0]
    assert first["fans"] == 4
    # Week 3 needs Sunday + 1 + 21 days <= today: never true three weeks after that Monday.
    assert _ages(first, 3) == [1.0, 0.75, 0.5, None]
    assert [c["key"] for c in body["columns"]][:3] == ["cohort", "fans", "age_0"]
    assert len(body["columns"]) == 2 + 13


def test_survival_matches_kaplan_meier_and_log_rank_fitted_fan_by_fan() -> None:
    account = make_account()
    t = today()
    rng = random.Random(13)
    stays = []
    for n in range(90):
        channel = ("store", "giveaway", "")[n % 3]
        scale = 40 if channel == "giveaway" else 600
        hours = rng.expovariate(1 / scale) if rng.random() < 0.7 else None
        day = t - timedelta(days=rng.randint(1, 80))
        if hours is not None and day + timedelta(hours=10 + hours) >= t:
            hours = None  # still following today
        stays.append(Stay(day, channel, hours))
    record(account, stays)
    body = report(operator_of(account), account, "survival", start=t - timedelta(days=80), end=t)

    durations: dict[str, list[int]] = {}
    observed: dict[str, list[int]] = {}
    for stay in stays:
        # Past 30 days the rollup keeps stays in bins: an unfollow at its bin's end, a censoring at its start.
        if stay.hours is None:
            value, seen = max(b for b in BIN_STARTS if b <= (t - stay.day).days - 1), 0
        else:
            value, seen = min(b for b in (*BIN_STARTS, 9999) if b > stay.hours // 24), 1
        durations.setdefault(stay.channel, []).append(value)
        observed.setdefault(stay.channel, []).append(seen)
    rows = {r["channel"]: r for r in body["rows"]}
    assert set(rows) == {"store", "giveaway", ""}
    for channel, row in rows.items():
        kmf = KaplanMeierFitter().fit(durations[channel], observed[channel])
        assert row["fans"] == 30 and row["unfollowed"] == sum(observed[channel])
        median = float(kmf.median_survival_time_)
        assert row["median_days"] == (None if np.isinf(median) else pytest.approx(median))
        for days in (1, 3, 7, 30):
            if days > max(durations[channel]):
                assert row[f"s_{days}d"] is None
                continue
            assert row[f"s_{days}d"] == pytest.approx(float(kmf.survival_function_at_times(days).iloc[0]))
            band = kmf.confidence_interval_survival_function_.loc[:days].iloc[-1]
            assert (row[f"s_{days}d_low"], row[f"s_{days}d_high"]) == pytest.approx(
                (band.iloc[0], band.iloc[1])
            )
    groups = [c for c in durations for _ in durations[c]]
    expected = multivariate_logrank_test(
        [d for c in durations for d in durations[c]], groups, [e for c in observed for e in observed[c]]
    )
    assert body["meta"]["test"]["p_value"] == pytest.approx(expected.p_value)
    assert body["meta"]["test"]["p_value"] < 0.05
    assert body["findings"][0].startswith("The channels keep fans for significantly different times")


def test_survival_of_four_known_stays() -> None:
    account = make_account()
    t = today()
    record(account, [Stay(t - timedelta(days=20), "x", h) for h in (2, 26, 50, 74)])
    body = report(operator_of(account), account, "survival", start=t - timedelta(days=30), end=t)
    (row,) = body["rows"]
    assert (row["fans"], row["unfollowed"], row["median_days"]) == (4, 4, 2.0)
    assert (row["s_1d"], row["s_3d"], row["s_7d"]) == (pytest.approx(0.75), pytest.approx(0.25), None)
    assert body["meta"]["test"] is None
    assert "half of its fans had unfollowed after 2 days" in body["findings"][0]


def test_channel_quality_flags_the_channel_that_loses_fans_within_days() -> None:
    account = make_account()
    t = today()
    ten_days = t - timedelta(days=10)
    stays = (
        [Stay(ten_days, "giveaway", 1) for _ in range(20)]
        + [Stay(ten_days, "giveaway", 50) for _ in range(10)]
        + [Stay(ten_days, "giveaway", None) for _ in range(10)]
        + [Stay(ten_days, "store", 49) for _ in range(3)]
        + [Stay(ten_days, "store", None) for _ in range(57)]
        + [Stay(t - timedelta(days=40), "", 35 * 24)]
        + [Stay(t - timedelta(days=40), "", None) for _ in range(4)]
        + [Stay(t - timedelta(days=2), "store", 1) for _ in range(5)]  # not yet 3 days: only in gone_1d
    )
    record(account, stays)
    body = report(operator_of(account), account, "channel-quality", start=t - timedelta(days=60), end=t)
    rows = {r["channel"]: r for r in body["rows"]}
    giveaway, store, none = rows["giveaway"], rows["store"], rows[""]
    assert (giveaway["fans"], giveaway["gone_1d"], giveaway["fans_3d"], giveaway["gone_3d"]) == (
        40,
        0.5,
        40,
        0.75,
    )
    assert (store["fans"], store["gone_1d"], store["fans_3d"], store["gone_3d"]) == (65, 5 / 65, 60, 0.05)
    assert (none["fans_30d"], none["retained_30d"], store["fans_30d"], store["retained_30d"]) == (
        5,
        1.0,
        0,
        None,
    )
    assert giveaway["vs_rest"] == pytest.approx(0.75 / (3 / 65))
    assert giveaway["locust"] is True and giveaway["p_value"] < 0.001
    assert store["locust"] is False and none["locust"] is False
    assert none["p_value"] is None  # 5 fans: too few to test
    assert body["meta"]["locust_channels"] == ["giveaway"]
    assert body["meta"]["tested"] == ["giveaway", "store"]
    assert body["findings"] == [
        "giveaway is a locust channel: 75.0% of its fans were gone within 3 days, against 4.6% on the other "
        "channels (p < 0.001 after Holm's correction)."
    ]


def test_channel_quality_flags_nothing_when_channels_lose_alike() -> None:
    account = make_account()
    ten_days = today() - timedelta(days=10)
    stays = [Stay(ten_days, c, 1 if n % 10 == 0 else None) for c in ("a", "b") for n in range(50)]
    record(account, stays)
    body = report(operator_of(account), account, "channel-quality", start=ten_days, end=today())
    assert [r["locust"] for r in body["rows"]] == [False, False]
    assert body["findings"] == [
        "No channel loses its fans within 3 days significantly faster than the others."
    ]
