"""The menu-clicks read model: exact against a brute-force count of a random history, the same rows
after a rebuild from zero, and the period figures (unique fans, click rate) from those rows."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan, FollowPeriod
from liucun.menus.clicks import MENU_TAP_KINDS, MenuClicksConsumer
from liucun.menus.models import MenuClickDay, MenuClickFan
from liucun.menus.queries import following_at, menu_stats
from liucun.readmodels import runner
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
KEY_KINDS = ["event.click", "event.click", "event.scancode_push", "event.pic_weixin", "event.location_select"]
KEYS = ["MENU_POINTS", "MENU_BOOKING", "MENU_ORDERS", "https://shop.example.cn/", "https://shop.example.cn/b"]


def _event(account_id: int, openid: str, kind: str, at: datetime, key: str, serial: int) -> Event:
    payload = {"FromUserName": openid, "MsgType": "event"}
    if key:
        payload["EventKey"] = key
    return Event(
        account_id=account_id, openid=openid, kind=kind, dedupe_key=f"m:{serial}", wechat_time=at,
        received_at=at, source=EventSource.CALLBACK, payload=payload,
    )  # fmt: skip


def _random_history(seed: int) -> tuple[list[int], list[Event]]:
    rng = random.Random(seed)
    accounts = [make_account().pk, make_account().pk]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    events = []
    for serial in range(600):
        key = rng.choice(KEYS)
        kind = "event.view" if key.startswith("https") else rng.choice(KEY_KINDS)
        if rng.random() < 0.1:
            kind = rng.choice(["text", "event.subscribe", "event.scan"])  # not menu taps
        # Times out of order, near midnight in Shanghai too, some events without a key.
        at = start + timedelta(hours=rng.randrange(0, 24 * 6), minutes=rng.randrange(60))
        key_given = "" if rng.random() < 0.05 else key
        events.append(_event(rng.choice(accounts), f"oFan{rng.randrange(25)}", kind, at, key_given, serial))
    return accounts, events


def _brute_force(events: list[Event]) -> list[tuple[int, date, str, int, int]]:
    clicks: Counter[tuple[int, date, str]] = Counter()
    fans: dict[tuple[int, date, str], set[str]] = {}
    for e in events:
        key = e.payload.get("EventKey", "")
        if e.kind in MENU_TAP_KINDS and key:
            day = e.wechat_time.astimezone(SHANGHAI).date()
            clicks[e.account_id, day, key] += 1
            fans.setdefault((e.account_id, day, key), set()).add(e.openid)
    return sorted((a, d, b, n, len(fans[a, d, b])) for (a, d, b), n in clicks.items())


def _table() -> list[tuple[int, date, str, int, int]]:
    return sorted(MenuClickDay.objects.values_list("account_id", "day", "button", "clicks", "fans"))


def test_rows_equal_a_brute_force_count_incrementally_and_after_a_rebuild() -> None:
    _accounts, events = _random_history(seed=7)
    consumer = MenuClicksConsumer("Asia/Shanghai")
    expected = _brute_force(events)
    assert len(expected) > 40  # enough distinct days, buttons and accounts to mean something
    # In several rounds of arrivals, each run reading small batches.
    for start in range(0, len(events), 150):
        Event.objects.bulk_create(events[start : start + 150])
        runner.run(consumer, batch=37)
    assert _table() == expected
    fan_rows = sorted(MenuClickFan.objects.values_list("account_id", "day", "button", "openid"))
    assert len(fan_rows) == sum(n for *_k, n in expected)
    runner.rebuild(consumer)
    assert _table() == expected
    assert sorted(MenuClickFan.objects.values_list("account_id", "day", "button", "openid")) == fan_rows


def test_period_stats_and_click_rate_are_exact() -> None:
    accounts, events = _random_history(seed=3)
    Event.objects.bulk_create(events)
    runner.run(MenuClicksConsumer("Asia/Shanghai"))
    account_id = accounts[0]
    start, end = date(2026, 3, 2), date(2026, 3, 4)
    taps = [
        e
        for e in events
        if e.account_id == account_id
        and e.kind in MENU_TAP_KINDS
        and e.payload.get("EventKey")
        and start <= e.wechat_time.astimezone(SHANGHAI).date() <= end
    ]
    # Following at the end of 4 March (Shanghai): periods covering 2026-03-05 00:00+08:00.
    end_instant = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    for i in range(8):
        fan = Fan.objects.create(account_id=account_id, openid=f"oF{i}", is_following=i < 5)
        followed = end_instant - timedelta(days=1) if i != 4 else end_instant  # fan 4 follows just after
        unfollowed = None if i < 5 else (end_instant - timedelta(hours=1) if i == 5 else end_instant)
        FollowPeriod.objects.create(
            account_id=account_id, fan=fan, followed_at=followed, unfollowed_at=unfollowed
        )
    # 0-3 follow; 4 follows too late; 5 left before; 6 and 7 leave at the instant, so still followed then.
    assert following_at(account_id, end) == 6

    stats = menu_stats(account_id, start, end)
    assert stats.clicking_fans == len({e.openid for e in taps})
    assert stats.click_rate == stats.clicking_fans / 6
    by_button = {s.button: (s.clicks, s.fans) for s in stats.buttons}
    assert by_button == {
        key: (sum(1 for e in taps if e.payload["EventKey"] == key),
              len({e.openid for e in taps if e.payload["EventKey"] == key}))
        for key in {e.payload["EventKey"] for e in taps}
    }  # fmt: skip
    assert stats.days == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    for key, series in stats.daily.items():
        assert series == [
            sum(
                1
                for e in taps
                if e.payload["EventKey"] == key and e.wechat_time.astimezone(SHANGHAI).date() == d
            )
            for d in stats.days
        ]
