"""Random histories, fed in random slices with restarts and rebuilds in between, always give the cells a
brute-force walk of the event table gives, and a rebuild from zero gives them again."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liucun.cohorts.consumer import StaysConsumer
from liucun.cohorts.models import BIN_COLUMNS, BIN_STARTS, CohortStays
from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.events.models import Event
from liucun.readmodels import runner
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.tests.support import add_event, wipe_events
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

# 14:00 UTC is 22:00 in Shanghai: days of minutes cross several China midnights.
BASE = datetime(2026, 7, 1, 14, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")

events_strategy = st.lists(
    st.tuples(
        st.integers(0, 1),  # account
        st.integers(0, 3),  # fan
        st.sampled_from([FOLLOW, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED, "text"]),
        # Minutes over 50 days, mostly in the first five: stays of hours, days and binned weeks.
        st.one_of(st.integers(0, 5 * 24 * 60), st.integers(0, 50 * 24 * 60)),
        st.sampled_from(["", "a", "b"]),  # the QR scene of a follow
    ),
    max_size=30,
)
# After each slice of events: (batch size, batches before stopping (0: to the end), rebuild first?)
runs_strategy = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 3), st.booleans()), min_size=1, max_size=6
)


def table() -> list[tuple]:
    return sorted(
        CohortStays.objects.values_list("account_id", "cohort_day", "channel", "fans", *BIN_COLUMNS)
    )


def brute_force() -> list[tuple]:
    """Each fan's follows and unfollows in time order, as periods, straight from the event table."""
    fans: Counter[tuple] = Counter()
    gone: Counter[tuple] = Counter()
    per_fan: dict[tuple[int, str], list[Event]] = {}
    for event in Event.objects.filter(kind__in=[FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED]):
        per_fan.setdefault((event.account_id, event.openid), []).append(event)
    for (account_id, _openid), fan_events in per_fan.items():
        fan_events.sort(key=lambda e: (e.wechat_time, e.id))
        start: datetime | None = None
        scene = ""
        for event in fan_events:
            if event.kind == FOLLOW and start is None:
                start, key = event.wechat_time, event.payload.get("EventKey", "")
                scene = key.removeprefix("qrscene_")
            elif event.kind != FOLLOW and start is not None:
                whole_days = int((event.wechat_time - start) / timedelta(days=1))
                cohort = (account_id, start.astimezone(SHANGHAI).date(), scene)
                fans[cohort] += 1
                gone[(*cohort, max(b for b in BIN_STARTS if b <= whole_days))] += 1
                start = None
        if start is not None:
            fans[account_id, start.astimezone(SHANGHAI).date(), scene] += 1
    return sorted((*cohort, n, *(gone[(*cohort, b)] for b in BIN_STARTS)) for cohort, n in fans.items())


@pytest.fixture
def accounts() -> list:
    return [make_account(), make_account()]


@random_histories(40)
@given(history=events_strategy, runs=runs_strategy, cuts=st.lists(st.integers(0, 30), max_size=5))
def test_incremental_runs_equal_a_rebuild_and_a_brute_force_count(accounts, history, runs, cuts) -> None:
    wipe_events()
    runner.rebuild(StaysConsumer())  # empty tables and a watermark at zero for this example
    ConsumerState.objects.all().delete()
    bounds = sorted({0, len(history), *(min(c, len(history)) for c in cuts)})
    slices = [history[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    for i, events in enumerate(slices):
        for account_i, fan, kind, minute, channel in events:
            add_event(accounts[account_i], f"o{fan}", kind, BASE + timedelta(minutes=minute), channel)
        batch, batches, rebuild_first = runs[i % len(runs)]
        if rebuild_first:
            runner.rebuild(StaysConsumer(), batch=batch)
        # A fresh consumer object each time: nothing may live in memory between runs.
        runner.run(StaysConsumer(), batch=batch, max_batches=batches or None)
    runner.run(StaysConsumer())

    expected = brute_force()
    assert table() == expected
    runner.rebuild(StaysConsumer(), batch=3)
    assert table() == expected
