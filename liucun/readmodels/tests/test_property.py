"""Random histories, fed in random slices with restarts and rebuilds (set-based or replayed) in between,
always give the rows a brute-force count of the event table gives; a rebuild from zero gives them again,
set-based and replayed alike, down to the per-fan cursors incremental runs carry on from."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Max
from hypothesis import given
from hypothesis import strategies as st

from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.events.models import Event
from liucun.readmodels import runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.models import ConsumerState, FollowFanCursor
from liucun.readmodels.tests.support import add_event, table, wipe_events
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

# 14:00 UTC is 22:00 in Shanghai: three days of minutes cross several China midnights.
BASE = datetime(2026, 7, 1, 14, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")

events_strategy = st.lists(
    st.tuples(
        st.integers(0, 1),  # account
        st.integers(0, 3),  # fan
        st.sampled_from([FOLLOW, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED, "text"]),
        st.integers(0, 3 * 24 * 60),  # minute
        st.sampled_from(["", "a", "b"]),  # the QR scene of a follow
    ),
    max_size=30,
)
# After each slice of events: (batch size, batches before stopping (0: to the end), rebuild first and how)
runs_strategy = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 3), st.sampled_from(["", "bulk", "replay"])),
    min_size=1,
    max_size=6,
)


def brute_force(accounts: list[int]) -> list[tuple]:
    """Walk each fan's follows and unfollows in time order and count, straight from the event table."""
    counts: Counter[tuple] = Counter()
    per_fan: dict[tuple[int, str], list[Event]] = {}
    for event in Event.objects.filter(kind__in=[FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED]).order_by("id"):
        per_fan.setdefault((event.account_id, event.openid), []).append(event)
    for (account_id, _openid), fan_events in per_fan.items():
        fan_events.sort(key=lambda e: (e.wechat_time, e.id))
        channel = ""
        for i, event in enumerate(fan_events):
            day = event.wechat_time.astimezone(SHANGHAI).date()
            if event.kind == FOLLOW:
                key = event.payload.get("EventKey", "")
                channel = key[len("qrscene_") :] if key.startswith("qrscene_") else ""
                column = 3 if i == 0 else 4
            else:
                column = 5 if event.kind == UNFOLLOW else 6
            counts[account_id, day, channel, column] += 1
    rows: dict[tuple, list[int]] = {}
    for (account_id, day, channel, column), n in counts.items():
        rows.setdefault((account_id, day, channel), [0, 0, 0, 0])[column - 3] += n
    assert set(a for a, _d, _c in rows) <= set(accounts)
    return sorted((*key, *values) for key, values in rows.items())


@pytest.fixture
def accounts() -> list:
    return [make_account(), make_account()]


@random_histories(40)
@given(history=events_strategy, runs=runs_strategy, cuts=st.lists(st.integers(0, 30), max_size=5))
def test_incremental_runs_equal_a_rebuild_and_a_brute_force_count(accounts, history, runs, cuts) -> None:
    wipe_events()
    runner.rebuild(DailyFollowsConsumer())  # empty tables and a watermark at zero for this example
    ConsumerState.objects.all().delete()
    bounds = sorted({0, len(history), *(min(c, len(history)) for c in cuts)})
    slices = [history[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    for i, events in enumerate(slices):
        for account_i, fan, kind, minute, channel in events:
            add_event(accounts[account_i], f"o{fan}", kind, BASE + timedelta(minutes=minute), channel)
        batch, batches, rebuild_first = runs[i % len(runs)]
        if rebuild_first:
            # Stopped after `batches`: incremental runs carry on from a set-based fill or a part replay.
            runner.rebuild(DailyFollowsConsumer(), batch=batch, bulk=rebuild_first == "bulk")
        # A fresh consumer object each time: nothing may live in memory between runs.
        runner.run(DailyFollowsConsumer(), batch=batch, max_batches=batches or None)
    runner.run(DailyFollowsConsumer())

    expected = brute_force([a.pk for a in accounts])
    assert table() == expected
    incremental_cursors = cursors()
    replayed = runner.rebuild(DailyFollowsConsumer(), batch=3, bulk=False)
    assert replayed.bulk is None
    assert (table(), cursors()) == (expected, incremental_cursors)
    filled = runner.rebuild(DailyFollowsConsumer(), batch=3)
    head = Event.objects.aggregate(head=Max("id"))["head"] or 0
    assert (filled.bulk is not None and filled.bulk.upto, filled.watermark, filled.events) == (head, head, 0)
    assert (table(), cursors()) == (expected, incremental_cursors)


def cursors() -> list[tuple]:
    return sorted(
        FollowFanCursor.objects.values_list("account_id", "openid", "last_at", "last_event_id", "channel")
    )
