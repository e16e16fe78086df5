"""Random histories, fed in random slices with restarts and rebuilds, give the growth and unfollow-rate
reports a brute-force walk of the event table gives: new follows, unfollows, net, following at the end of
every day (all channels, each QR scene, no scene) and the daily unfollow rate."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liucun.analytics.following import FollowingConsumer, following_lines
from liucun.analytics.growth import build_growth, build_unfollow_rate
from liucun.analytics.models import FollowingChange
from liucun.analytics.periods import ReportQuery
from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.events.models import Event
from liucun.fans.models import Fan
from liucun.readmodels import runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.tests.support import add_event, wipe_events
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

# 14:00 UTC is 22:00 in Shanghai: four days of minutes cross several China midnights.
BASE = datetime(2026, 7, 1, 14, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = [date(2026, 6, 30) + timedelta(days=i) for i in range(7)]
LIFECYCLE = (FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED)

events_strategy = st.lists(
    st.tuples(
        st.integers(0, 1),  # account
        st.integers(0, 4),  # fan
        st.sampled_from([FOLLOW, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED, "text"]),
        st.integers(0, 4 * 24 * 60),  # minute
        st.sampled_from(["", "a", "b"]),  # the QR scene of a follow
    ),
    max_size=30,
)
runs_strategy = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 3), st.booleans()), min_size=1, max_size=6
)


def _day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def _scene(event: Event) -> str:
    key = event.payload.get("EventKey", "")
    return key[len("qrscene_") :] if key.startswith("qrscene_") else ""


class Truth:
    """Brute force from the event table: each fan's follows and unfollows walked in time order."""

    def __init__(self, account_id: int) -> None:
        per_fan: dict[str, list[Event]] = {}
        for event in Event.objects.filter(account_id=account_id, kind__in=LIFECYCLE).order_by("id"):
            per_fan.setdefault(event.openid, []).append(event)
        self.fans = {
            openid: sorted(events, key=lambda e: (e.wechat_time, e.id)) for openid, events in per_fan.items()
        }
        self.new: Counter[tuple[date, str]] = Counter()  # (day, scene of the follow)
        self.unfollows: Counter[tuple[date, str]] = Counter()  # (day, scene of the latest follow before)
        for events in self.fans.values():
            latest = ""
            for event in events:
                if event.kind == FOLLOW:
                    latest = _scene(event)
                    self.new[_day(event.wechat_time), latest] += 1
                else:
                    self.unfollows[_day(event.wechat_time), latest] += 1

    def state_at_end(self, openid: str, day: date | None) -> tuple[bool, str]:
        """(following, channel of the period) after the fan's events up to the end of `day` (None: all)."""
        events = self.fans[openid]
        following, channel = events[0].kind != FOLLOW, ""  # a first unfollow: they followed before
        for event in events:
            if day is not None and _day(event.wechat_time) > day:
                break
            if event.kind == FOLLOW:
                if not following:
                    channel = _scene(event)
                following = True
            else:
                following, channel = False, ""
        return following, channel

    def following_at_end(self, day: date, channel: str | None, found_by_sync: int) -> int:
        n = found_by_sync if channel in (None, "") else 0
        for openid in self.fans:
            following, scene = self.state_at_end(openid, day)
            n += following and (channel is None or scene == channel)
        return n


def _catch_up_and_rebuild(history, runs, cuts, accounts) -> None:
    bounds = sorted({0, len(history), *(min(c, len(history)) for c in cuts)})
    slices = [history[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    for i, events in enumerate(slices):
        for account_i, fan, kind, minute, channel in events:
            add_event(accounts[account_i], f"o{fan}", kind, BASE + timedelta(minutes=minute), channel)
        batch, batches, rebuild_first = runs[i % len(runs)]
        if rebuild_first:
            runner.rebuild(FollowingConsumer(), batch=batch)
        runner.run(FollowingConsumer(), batch=batch, max_batches=batches or None)
    runner.run(FollowingConsumer())
    runner.run(DailyFollowsConsumer())


def _rows() -> list[tuple]:
    return sorted(FollowingChange.objects.values_list("account_id", "day", "channel", "gained", "lost"))


@random_histories(40)
@given(
    history=events_strategy,
    runs=runs_strategy,
    cuts=st.lists(st.integers(0, 30), max_size=5),
    found_by_sync=st.integers(0, 2),
    granularity=st.sampled_from(["day", "week"]),
)
def test_reports_equal_a_brute_force_walk_of_the_events(
    history, runs, cuts, found_by_sync, granularity
) -> None:
    wipe_events()
    Fan.objects.all().delete()
    runner.rebuild(FollowingConsumer())
    runner.rebuild(DailyFollowsConsumer())
    ConsumerState.objects.all().delete()
    accounts = [make_account(), make_account()]
    _catch_up_and_rebuild(history, runs, cuts, accounts)
    incremental = _rows()
    runner.rebuild(FollowingConsumer(), batch=3)
    assert _rows() == incremental

    account = accounts[0]
    truth = Truth(account.pk)
    # The fans table as the callback code leaves it, and fans the follower sync found (no event at all).
    for openid in truth.fans:
        Fan.objects.create(account=account, openid=openid, is_following=truth.state_at_end(openid, None)[0])
    for i in range(found_by_sync):
        Fan.objects.create(account=account, openid=f"sync{i}", is_following=True)

    lines = following_lines(account.pk)
    for channel in (None, "", "a", "b"):
        expected = [truth.following_at_end(day, channel, found_by_sync) for day in DAYS]
        assert lines.series(DAYS, channel) == expected, channel
        assert [lines.at_end(day, channel) for day in DAYS] == expected, channel

    for channel in (None, "", "a"):
        query = ReportQuery(DAYS[1], DAYS[-1], granularity, channel)
        growth = build_growth(account, query)
        rate = build_unfollow_rate(account, query)
        for bucket, row, rate_row in zip(query.buckets(), growth.rows, rate.rows, strict=True):
            days = [d for d in DAYS if bucket.first <= d <= bucket.last]
            new = sum(n for (d, s), n in truth.new.items() if d in days and channel in (None, s))
            lost = sum(n for (d, s), n in truth.unfollows.items() if d in days and channel in (None, s))
            end = truth.following_at_end(bucket.last, channel, found_by_sync)
            assert (row["day"], row["new"], row["unfollows"], row["net"], row["cumulative"]) == (
                bucket.first,
                new,
                lost,
                new - lost,
                end,
            )
            start = truth.following_at_end(bucket.first - timedelta(days=1), channel, found_by_sync)
            assert (rate_row["unfollows"], rate_row["following_start"]) == (lost, start)
            assert rate_row["rate"] == (lost / start / len(days) if start else None)
