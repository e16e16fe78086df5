"""On random histories the report's Liucun side equals a brute-force count of the event store, its
differences are WeChat's figures minus those, and every lost unfollow a sync found is a sync's find."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from liucun.analytics.periods import ReportQuery
from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.events.models import Event
from liucun.readmodels import runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.tests.support import add_event, wipe_events
from liucun.reconcile.models import WeChatDay
from liucun.reconcile.reports import build
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 7, 1, 14, tzinfo=UTC)  # 22:00 in Shanghai: the minutes below cross China midnights
SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST, LAST = date(2026, 7, 1), date(2026, 7, 5)

events_strategy = st.lists(
    st.tuples(
        st.integers(0, 4),  # fan
        st.sampled_from([FOLLOW, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED]),
        st.integers(0, 4 * 24 * 60),  # minute
        st.sampled_from(["", "a"]),  # the QR scene of a follow
    ),
    max_size=25,
)
wechat_strategy = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 20)), min_size=5, max_size=5
)
pulled_strategy = st.lists(st.booleans(), min_size=5, max_size=5)


def brute_force() -> dict[date, Counter[str]]:
    per_day: dict[date, Counter[str]] = {}
    for event in Event.objects.all():
        day = event.wechat_time.astimezone(SHANGHAI).date()
        column = {FOLLOW: "new", UNFOLLOW: "unfollows", UNFOLLOW_RECONCILED: "reconciled"}[event.kind]
        per_day.setdefault(day, Counter())[column] += 1
    return per_day


@random_histories(30)
@given(events=events_strategy, wechat=wechat_strategy, pulled=pulled_strategy)
def test_the_liucun_side_is_the_event_store_and_differences_add_up(
    events: list[tuple[int, str, int, str]], wechat: list[tuple[int, int, int]], pulled: list[bool]
) -> None:
    wipe_events()
    account = make_account()
    for fan, kind, minute, scene in events:
        add_event(account, f"oFan{fan}", kind, BASE + timedelta(minutes=minute), scene)
    for i, ((new, cancel, cumulate), is_pulled) in enumerate(zip(wechat, pulled, strict=True)):
        if is_pulled:
            WeChatDay.objects.create(
                account=account,
                day=FIRST + timedelta(days=i),
                new_user=new,
                cancel_user=cancel,
                cumulate_user=cumulate,
                pulled_at=timezone.now(),
            )
    # Each example starts the read model from nothing: its ids start again from 1.
    DailyFollowsConsumer().reset()
    ConsumerState.objects.filter(name=DailyFollowsConsumer.name).delete()
    runner.run(DailyFollowsConsumer(), grace=timedelta(0))

    report = build(account, ReportQuery(FIRST, LAST, "day", None, {"view": "day"}))
    truth = brute_force()
    following = 0
    since = min(truth) if truth else None
    lost_total = found_total = 0
    for row in report.rows:
        day: date = row["day"]
        counts = truth.get(day, Counter())
        following += counts["new"] - counts["unfollows"] - counts["reconciled"]
        assert (row["liucun_new"], row["liucun_unfollows"], row["reconciled_unfollows"]) == (
            counts["new"],
            counts["unfollows"],
            counts["reconciled"],
        )
        assert row["liucun_following"] == following
        index = (day - FIRST).days
        if not pulled[index]:
            assert row["status"] in ("not_pulled", "not_published") and row["wechat_new"] is None
            continue
        new, cancel, cumulate = wechat[index]
        assert (row["new_difference"], row["unfollow_difference"], row["cumulate_difference"]) == (
            new - counts["new"],
            cancel - counts["unfollows"],
            cumulate - following,
        )
        if since is None or day < since:
            assert row["status"] == "before_liucun"
            continue
        lost_unfollows = max(0, cancel - counts["unfollows"])
        lost_total += lost_unfollows
        found = report.meta["days"].get(day.isoformat(), {}).get("unfollows_found_by", [])
        assert sum(n for _, n in found) <= lost_unfollows
        assert all(date.fromisoformat(d) >= day for d, _ in found)
        found_total += sum(n for _, n in found)
        if row["status"] == "match":
            assert row["new_difference"] == row["unfollow_difference"] == row["cumulate_difference"] == 0
    assert found_total <= min(lost_total, sum(c["reconciled"] for c in truth.values()))
