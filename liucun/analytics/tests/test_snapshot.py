"""Following now from a snapshot: equal to the fans table's count while events flow, without counting it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from liucun.analytics import snapshot
from liucun.analytics.following import following_lines, following_now
from liucun.analytics.models import FollowingSnapshot
from liucun.events.kinds import FOLLOW, UNFOLLOW
from liucun.fans.models import Fan
from liucun.readmodels.runner import run_all
from liucun.readmodels.tests.support import add_event
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def _follow(account, openid: str, at: datetime) -> None:  # type: ignore[no-untyped-def]
    add_event(account, openid, FOLLOW, at, channel="store")
    Fan.objects.update_or_create(account=account, openid=openid, defaults={"is_following": True})


def _unfollow(account, openid: str, at: datetime) -> None:  # type: ignore[no-untyped-def]
    add_event(account, openid, UNFOLLOW, at)
    Fan.objects.filter(account=account, openid=openid).update(is_following=False)


def test_following_now_moves_with_the_read_model_after_a_snapshot_and_never_counts_the_table() -> None:
    account = make_account()
    for n in range(5):
        _follow(account, f"o{n}", T0 + timedelta(hours=n))
    run_all()
    taken = snapshot.take(account.pk)
    assert taken is not None and (taken.following, taken.exact) == (5, True)

    _unfollow(account, "o0", T0 + timedelta(days=1))
    _follow(account, "o9", T0 + timedelta(days=1))
    _unfollow(account, "o1", T0 + timedelta(days=1))
    run_all()
    with CaptureQueriesContext(connection) as captured:
        lines = following_lines(account.pk)
    assert lines.now == 4 == Fan.objects.filter(account=account, is_following=True).count()
    assert not any("fans_fan" in q["sql"] for q in captured.captured_queries)
    assert following_now(account.pk) == 4


def test_a_fan_found_without_an_event_shows_at_the_next_snapshot() -> None:
    account = make_account()
    _follow(account, "o1", T0)
    run_all()
    snapshot.take(account.pk)
    Fan.objects.create(account=account, openid="found-by-sync", is_following=True)
    assert following_now(account.pk) == 1  # until the next snapshot
    snapshot.take(account.pk)
    assert following_now(account.pk) == 2


def test_no_snapshot_counts_the_table_and_a_lagging_read_model_keeps_a_recent_exact_snapshot() -> None:
    account = make_account()
    _follow(account, "o1", T0)
    assert following_now(account.pk) == 1  # nothing folded in, no snapshot: the table's own count
    run_all()
    now = datetime.now(UTC)
    assert snapshot.take(account.pk, now) is not None
    _follow(account, "o2", T0 + timedelta(hours=1))  # not folded in yet: the read model is behind
    assert snapshot.take(account.pk, now + timedelta(minutes=6)) is None
    late = snapshot.take(account.pk, now + snapshot.BEST_EFFORT_AFTER + timedelta(minutes=1))
    assert late is not None and not late.exact


def test_refresh_takes_only_stale_snapshots() -> None:
    accounts = [make_account(), make_account()]
    run_all()
    now = datetime.now(UTC)
    assert snapshot.refresh_all(now) >= 2
    assert snapshot.refresh_all(now + timedelta(minutes=1)) == 0
    assert snapshot.refresh_all(now + snapshot.REFRESH + timedelta(seconds=1)) >= 2
    assert FollowingSnapshot.objects.filter(account__in=accounts).count() == 2
