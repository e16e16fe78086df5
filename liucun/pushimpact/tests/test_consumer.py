"""The hourly-flows read model: random histories fed in random slices with restarts and rebuilds always
give what a brute-force walk of the event table gives, and a rebuild from zero (set-based or replayed)
gives it again."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.events.models import Event
from liucun.pushimpact.consumer import HourlyFlowsConsumer
from liucun.pushimpact.models import FlowFanCursor, HourlyFlows, HourlyTotals
from liucun.readmodels import runner
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.tests.support import add_event, wipe_events
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 7, 1, 14, tzinfo=UTC)

events_strategy = st.lists(
    st.tuples(
        st.integers(0, 1),  # account
        st.integers(0, 3),  # fan
        st.sampled_from([FOLLOW, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED, "text"]),
        st.integers(0, 6 * 60),  # minute: six hours, so fans' events share and cross hours
        st.sampled_from(["", "a", "b"]),
    ),
    max_size=30,
)
runs_strategy = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 3), st.booleans()), min_size=1, max_size=6
)


def table() -> list[tuple]:
    return sorted(
        HourlyFlows.objects.values_list("account_id", "hour", "channel", "follows", "unfollows", "reconciled")
    )


def totals() -> list[tuple]:
    return sorted(
        HourlyTotals.objects.values_list("account_id", "hour", "follows", "unfollows", "reconciled")
    )


def summed(rows: list[tuple]) -> list[tuple]:
    """The per-channel rows summed over channels: what HourlyTotals must hold."""
    sums: dict[tuple, list[int]] = {}
    for account_id, hour, _channel, *values in rows:
        total = sums.setdefault((account_id, hour), [0, 0, 0])
        for i, v in enumerate(values):
            total[i] += v
    return sorted((*key, *values) for key, values in sums.items() if any(values))


def brute_force() -> list[tuple]:
    counts: Counter[tuple] = Counter()
    per_fan: dict[tuple[int, str], list[Event]] = {}
    for event in Event.objects.filter(kind__in=[FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED]):
        per_fan.setdefault((event.account_id, event.openid), []).append(event)
    for (account_id, _openid), fan_events in per_fan.items():
        channel = ""
        for event in sorted(fan_events, key=lambda e: (e.wechat_time, e.id)):
            hour = int(event.wechat_time.timestamp()) // 3600
            if event.kind == FOLLOW:
                key = event.payload.get("EventKey", "")
                channel = key.removeprefix("qrscene_")
            column = {FOLLOW: 0, UNFOLLOW: 1, UNFOLLOW_RECONCILED: 2}[event.kind]
            counts[account_id, hour, channel, column] += 1
    rows: dict[tuple, list[int]] = {}
    for (account_id, hour, channel, column), n in counts.items():
        rows.setdefault((account_id, hour, channel), [0, 0, 0])[column] += n
    return sorted((*key, *values) for key, values in rows.items())


@pytest.fixture
def accounts() -> list:
    return [make_account(), make_account()]


@random_histories(40)
@given(history=events_strategy, runs=runs_strategy, cuts=st.lists(st.integers(0, 30), max_size=5))
def test_incremental_runs_equal_a_rebuild_and_a_brute_force_count(accounts, history, runs, cuts) -> None:
    wipe_events()
    runner.rebuild(HourlyFlowsConsumer())
    ConsumerState.objects.all().delete()
    bounds = sorted({0, len(history), *(min(c, len(history)) for c in cuts)})
    slices = [history[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    for i, events in enumerate(slices):
        for account_i, fan, kind, minute, channel in events:
            add_event(accounts[account_i], f"o{fan}", kind, BASE + timedelta(minutes=minute), channel)
        batch, batches, rebuild_first = runs[i % len(runs)]
        if rebuild_first:
            runner.rebuild(HourlyFlowsConsumer(), batch=batch)
        runner.run(HourlyFlowsConsumer(), batch=batch, max_batches=batches or None)
    runner.run(HourlyFlowsConsumer())

    expected = brute_force()
    assert table() == expected
    assert totals() == summed(expected)
    cursors = sorted(FlowFanCursor.objects.values_list("account_id", "openid", "last_event_id", "channel"))
    # From zero both ways: set-based (bulk.py) and by replaying every event.
    for bulk in (True, False):
        result = runner.rebuild(HourlyFlowsConsumer(), batch=3, bulk=bulk)
        assert (result.bulk is not None) == bulk
        assert table() == expected
        assert totals() == summed(expected)
        assert (
            sorted(FlowFanCursor.objects.values_list("account_id", "openid", "last_event_id", "channel"))
            == cursors
        )


def test_a_late_unfollow_corrects_its_past_hour_and_keeps_the_follow_channel() -> None:
    account = make_account()
    add_event(account, "o1", FOLLOW, BASE, "store")
    add_event(account, "o1", UNFOLLOW, BASE + timedelta(hours=5))
    runner.run(HourlyFlowsConsumer())
    # Delivered late: an unfollow and a refollow from another channel between the two.
    add_event(account, "o1", UNFOLLOW, BASE + timedelta(hours=1, minutes=10))
    add_event(account, "o1", FOLLOW, BASE + timedelta(hours=2), "poster")
    runner.run(HourlyFlowsConsumer())
    hour = int(BASE.timestamp()) // 3600
    assert table() == [
        (account.pk, hour, "store", 1, 0, 0),
        (account.pk, hour + 1, "store", 0, 1, 0),
        (account.pk, hour + 2, "poster", 1, 0, 0),
        (account.pk, hour + 5, "poster", 0, 1, 0),
    ]
    assert totals() == summed(table())
