"""The daily-follows read model: callbacks in, `liucun readmodels run`, exact rows; rebuilds give the same."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.test import Client

from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.readmodels import runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.models import ConsumerState, FollowFanCursor
from liucun.readmodels.tests.support import add_event, table
from liucun.testing.factories import make_account
from liucun.testing.wechat_peer import WeChatPeer

pytestmark = pytest.mark.django_db


def _event_xml(account, openid: str, event: str, at: datetime, key: str = "") -> str:
    key_part = f"<EventKey><![CDATA[{key}]]></EventKey>" if key else ""
    return (
        f"<xml><ToUserName><![CDATA[{account.original_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(at.timestamp())}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{key_part}</xml>"
    )


def _text_xml(account, openid: str, at: datetime, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{account.original_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(at.timestamp())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("readmodels", *args, stdout=out)
    return out.getvalue()


def test_callbacks_become_daily_rows_by_china_day_and_channel() -> None:
    account = make_account(mode="safe")
    peer = WeChatPeer(appid=account.appid, token=account.token, aes_key=account.encoding_aes_key, mode="safe")
    client = Client()
    deliveries = [
        # 23:30 in Shanghai on 1 March, 15:30 UTC: the day is 1 March.
        _event_xml(account, "oFanA", "subscribe", datetime(2026, 3, 1, 15, 30, tzinfo=UTC), "qrscene_store7"),
        _text_xml(account, "oFanA", datetime(2026, 3, 1, 15, 31, tzinfo=UTC), 9001),
        # 00:30 in Shanghai on 2 March, still 1 March in UTC.
        _event_xml(account, "oFanB", "subscribe", datetime(2026, 3, 1, 16, 30, tzinfo=UTC)),
        _event_xml(account, "oFanA", "unsubscribe", datetime(2026, 3, 2, 2, 0, tzinfo=UTC)),
        _event_xml(account, "oFanA", "subscribe", datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "qrscene_poster"),
    ]
    for xml in deliveries:
        request = peer.sign(xml)
        response = client.generic("POST", request.url, request.body, content_type="text/xml")
        assert response.status_code == 200
    # WeChat retries a delivery: stored once, counted once.
    retry = peer.sign(deliveries[0])
    assert client.generic("POST", retry.url, retry.body, content_type="text/xml").status_code == 200

    out = _command("run", "daily-follows")

    assert out == f"daily-follows: 4 events in 1 batches, now at event {_last_event_id()}\n"
    assert table(account) == [
        (account.pk, date(2026, 3, 1), "store7", 1, 0, 0, 0),
        (account.pk, date(2026, 3, 2), "", 1, 0, 0, 0),
        (account.pk, date(2026, 3, 2), "poster", 0, 1, 0, 0),
        # The unfollow counts under the channel of the fan's follow before it.
        (account.pk, date(2026, 3, 2), "store7", 0, 0, 1, 0),
    ]
    incremental = table()
    assert _command("rebuild", "daily-follows").startswith(
        f"daily-follows: filled set-based up to event {_last_event_id()} in "
    )
    assert table() == incremental
    assert _command("rebuild", "daily-follows", "--replay").startswith("daily-follows: 4 events in 1 batches")
    assert table() == incremental


def _last_event_id() -> int:
    from liucun.events.models import Event

    return Event.objects.order_by("-id").values_list("id", flat=True)[0]


def test_reconciled_unfollows_have_their_own_column_under_the_fans_channel() -> None:
    account = make_account()
    add_event(account, "oA", FOLLOW, datetime(2026, 5, 1, 2, tzinfo=UTC), "mall")
    add_event(account, "oA", UNFOLLOW_RECONCILED, datetime(2026, 5, 3, 2, tzinfo=UTC))
    # A fan the sync found following (no follow event stored) whose unfollow the next sync found.
    add_event(account, "oB", UNFOLLOW_RECONCILED, datetime(2026, 5, 3, 2, tzinfo=UTC))

    runner.run(DailyFollowsConsumer())

    assert table(account) == [
        (account.pk, date(2026, 5, 1), "mall", 1, 0, 0, 0),
        (account.pk, date(2026, 5, 3), "", 0, 0, 0, 1),
        (account.pk, date(2026, 5, 3), "mall", 0, 0, 0, 1),
    ]


def test_a_backdated_follow_corrects_the_days_already_counted() -> None:
    account = make_account()
    add_event(account, "oA", UNFOLLOW, datetime(2026, 5, 9, 2, tzinfo=UTC))
    add_event(account, "oA", FOLLOW, datetime(2026, 5, 10, 2, tzinfo=UTC), "poster")
    consumer = DailyFollowsConsumer()
    runner.run(consumer)
    assert table(account) == [
        (account.pk, date(2026, 5, 9), "", 0, 0, 1, 0),
        (account.pk, date(2026, 5, 10), "poster", 0, 1, 0, 0),
    ]

    # History imported later: the fan had followed through "store" before leaving on 9 May.
    add_event(account, "oA", FOLLOW, datetime(2026, 5, 1, 2, tzinfo=UTC), "store")
    runner.run(consumer)

    expected = [
        (account.pk, date(2026, 5, 1), "store", 1, 0, 0, 0),
        # The 9 May row under "" held only this unfollow: it moved to "store", and the empty row is gone.
        (account.pk, date(2026, 5, 9), "store", 0, 0, 1, 0),
        (account.pk, date(2026, 5, 10), "poster", 0, 1, 0, 0),
    ]
    assert table(account) == expected
    cursor = FollowFanCursor.objects.get(account=account, openid="oA")
    assert (cursor.last_at, cursor.channel) == (datetime(2026, 5, 10, 2, tzinfo=UTC), "poster")
    runner.rebuild(consumer)
    assert table(account) == expected


def test_other_kinds_move_the_watermark_but_are_not_counted() -> None:
    account = make_account()
    add_event(account, "oA", "text", datetime(2026, 5, 1, 2, tzinfo=UTC))
    add_event(account, "oA", "event.click", datetime(2026, 5, 1, 2, tzinfo=UTC))
    last = add_event(account, "oA", "event.templatesendjobfinish", datetime(2026, 5, 1, 2, tzinfo=UTC))

    result = runner.run(DailyFollowsConsumer())

    assert (result.events, result.watermark) == (0, last.pk)
    assert table(account) == []
    assert ConsumerState.objects.get(name="daily-follows").last_event_id == last.pk


def test_a_changed_time_zone_rebuilds_the_table_instead_of_mixing_days() -> None:
    account = make_account()
    add_event(account, "oA", FOLLOW, datetime(2026, 5, 1, 17, tzinfo=UTC))  # 2 May in Shanghai
    runner.run(DailyFollowsConsumer())
    assert table(account) == [(account.pk, date(2026, 5, 2), "", 1, 0, 0, 0)]

    result = runner.run(DailyFollowsConsumer("UTC"))

    assert result.rebuilt is True
    assert table(account) == [(account.pk, date(2026, 5, 1), "", 1, 0, 0, 0)]
    assert ConsumerState.objects.get(name="daily-follows").fingerprint == "v1:UTC"
