"""Only following fans carry tags: an unfollow clears them (as WeChat does), and the fan list counts a
tag's fans from its memberships alone, scoped to the account."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from liucun.fans.models import Fan
from liucun.fans.queries import FanFilter, fan_pages, fans
from liucun.fans.state_store import record_fan_event
from liucun.rawsql import Sql
from liucun.tags.models import FanTag, Tag
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def _tagged_fans(account_name: str, count: int) -> tuple[list[Fan], Tag, Tag]:
    account = make_account(name=account_name)
    now = datetime.now(UTC)
    people = [
        Fan.objects.create(account=account, openid=f"o{account.pk}x{i}", is_following=True, followed_at=now)
        for i in range(count)
    ]
    vip = Tag.objects.create(account=account, wechat_id=100, name="VIP", fan_count=count)
    store = Tag.objects.create(account=account, wechat_id=101, name="门店", fan_count=2)
    FanTag.objects.bulk_create([FanTag(fan=f, tag=vip) for f in people])
    FanTag.objects.bulk_create([FanTag(fan=f, tag=store) for f in people[:2]])
    return people, vip, store


def _event(fan: Fan, kind: str) -> None:
    sql = Sql(connection)
    with transaction.atomic():
        cursor = sql.cursor()
        record_fan_event(
            cursor, sql, account_id=fan.account_id, openid=fan.openid, kind=kind,
            at=datetime.now(UTC), now=datetime.now(UTC),
        )  # fmt: skip


def test_an_unfollow_clears_the_fans_tags_and_their_counts() -> None:
    people, vip, store = _tagged_fans("甲", 4)
    _event(people[0], "event.unsubscribe")
    assert not FanTag.objects.filter(fan=people[0]).exists()
    assert FanTag.objects.filter(fan=people[1]).count() == 2  # the others keep theirs
    vip.refresh_from_db()
    store.refresh_from_db()
    assert (vip.fan_count, store.fan_count) == (3, 1)
    _event(people[0], "event.subscribe")  # coming back brings no tag back, as in WeChat
    assert not FanTag.objects.filter(fan=people[0]).exists()


def test_a_message_or_a_repeated_unfollow_clears_nothing() -> None:
    people, vip, _ = _tagged_fans("乙", 3)
    _event(people[1], "text")
    assert FanTag.objects.filter(fan=people[1]).count() == 2
    _event(people[2], "event.unsubscribe")
    _event(people[2], "event.unsubscribe")
    vip.refresh_from_db()
    assert vip.fan_count == 2


def test_the_tag_count_equals_its_pages_and_stays_in_the_account() -> None:
    people, vip, _ = _tagged_fans("丙", 6)
    _event(people[3], "event.unsubscribe")
    account = people[0].account
    for following in (True, None):
        pages = fan_pages(account, FanFilter(following=following, tag=vip.pk))
        assert pages.count() == len(pages[0:50]) == fans(account, FanFilter(tag=vip.pk)).count() == 5
    _, other_vip, _ = _tagged_fans("丁", 2)
    # A tag of another account names no fan of this one, in the count as in the rows.
    leak = fan_pages(account, FanFilter(following=True, tag=other_vip.pk))
    assert leak.count() == 0 and leak[0:50] == []
    # With a second filter the count reads the fans too, and agrees.
    channel = fan_pages(account, FanFilter(following=True, tag=vip.pk, channel=""))
    assert channel.count() == 5
