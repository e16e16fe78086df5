"""The menu-clicks read model: exact against a brute-force count of a random history, per acquisition
channel too (follows through QR codes arriving in any order) and for every channel at once (a brute force
over every tap, whatever its fan's channel), the same rows after a rebuild from zero (replayed and
set-based), and the period figures (unique fans, click rate) from those rows."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from liucun.events.kinds import FOLLOW
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan, FollowPeriod
from liucun.menus import queries
from liucun.menus.clicks import MENU_TAP_KINDS, MenuClicksConsumer, derive_shares, is_web
from liucun.menus.models import (
    NO_PREVIOUS_DAY,
    MenuClickDay,
    MenuClickDayAll,
    MenuClickFan,
    MenuClickFollow,
    MenuClickGap,
    MenuClickGapAll,
    MenuClickLast,
    MenuClickLastAll,
)
from liucun.menus.queries import RangeFans, following_at, menu_stats, range_fans
from liucun.readmodels import runner
from liucun.testing.factories import make_account
from liucun.testing.suites import on_postgres

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
KEY_KINDS = ["event.click", "event.click", "event.scancode_push", "event.pic_weixin", "event.location_select"]
KEYS = ["MENU_POINTS", "MENU_BOOKING", "MENU_ORDERS", "https://shop.example.cn/", "https://shop.example.cn/b"]
# A follow's EventKey: through a QR code, without one, an empty scene, none at all.
SCENES = ["qrscene_store_1", "qrscene_store_2", "qrscene_poster", "", "qrscene_", None]


def _event(account_id: int, openid: str, kind: str, at: datetime, key: str, serial: int) -> Event:
    payload = {"FromUserName": openid, "MsgType": "event"}
    if key:
        payload["EventKey"] = key
    return Event(
        account_id=account_id, openid=openid, kind=kind, dedupe_key=f"m:{serial}", wechat_time=at,
        received_at=at, source=EventSource.CALLBACK, payload=payload,
    )  # fmt: skip


def _random_history(seed: int, follows: int = 0) -> tuple[list[int], list[Event]]:
    """Taps of 25 fans over six days in two accounts, and `follows` follow events: some before a fan's
    taps, some after, several for one fan (an earlier one moves the fan), some at the very same time."""
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
    for serial in range(600, 600 + follows):
        at = start + timedelta(hours=rng.randrange(-48, 24 * 6, 6))  # coarse: some fans follow twice at once
        event = _event(rng.choice(accounts), f"oFan{rng.randrange(25)}", FOLLOW, at, "", serial)
        scene = rng.choice(SCENES)
        if scene is not None:
            event.payload["EventKey"] = scene
        events.append(event)
    return accounts, events


def _channels(events: list[Event]) -> dict[tuple[int, str], str]:
    """Each fan's acquisition channel: the QR scene of its first follow by (WeChat time, id)."""
    first: dict[tuple[int, str], Event] = {}
    for e in events:
        fan = (e.account_id, e.openid)
        if e.kind == FOLLOW and (
            fan not in first or (e.wechat_time, e.id) < (first[fan].wechat_time, first[fan].id)
        ):
            first[fan] = e
    scenes = {fan: str(e.payload.get("EventKey") or "") for fan, e in first.items()}
    return {fan: s.removeprefix("qrscene_") if s.startswith("qrscene_") else "" for fan, s in scenes.items()}


def _brute_force(events: list[Event]) -> list[tuple[int, date, str, str, int, int]]:
    channels = _channels(events)
    clicks: Counter[tuple[int, date, str, str]] = Counter()
    fans: dict[tuple[int, date, str, str], set[str]] = {}
    for e in events:
        key = e.payload.get("EventKey", "")
        if e.kind in MENU_TAP_KINDS and key:
            day = e.wechat_time.astimezone(SHANGHAI).date()
            row = (e.account_id, day, key, channels.get((e.account_id, e.openid), ""))
            clicks[row] += 1
            fans.setdefault(row, set()).add(e.openid)
    return sorted((*row, n, len(fans[row])) for row, n in clicks.items())


def _brute_every(events: list[Event]) -> list[list[tuple[object, ...]]]:
    """The all-channel day, gap and last rows from every tap, channels never looked at: per fan, its days
    per button, for any button and for any web page, each day after the previous one (or NO_PREVIOUS_DAY)
    and the last one."""
    clicks: Counter[tuple[int, date, str]] = Counter()
    fans: dict[tuple[int, date, str], set[str]] = {}
    days: dict[tuple[int, str, str, str], set[date]] = {}  # account, scope, button, openid
    for e in events:
        key = e.payload.get("EventKey", "")
        if e.kind not in MENU_TAP_KINDS or not key:
            continue
        day = e.wechat_time.astimezone(SHANGHAI).date()
        clicks[e.account_id, day, key] += 1
        fans.setdefault((e.account_id, day, key), set()).add(e.openid)
        groups = [("b", key), ("a", "")] + ([("w", "")] if is_web(key) else [])
        for scope, button in groups:
            days.setdefault((e.account_id, scope, button, e.openid), set()).add(day)
    gaps: Counter[tuple[object, ...]] = Counter()
    lasts: Counter[tuple[object, ...]] = Counter()
    for (account_id, scope, button, _openid), tapped in days.items():
        ordered = sorted(tapped)
        for previous, day in zip([NO_PREVIOUS_DAY, *ordered], ordered, strict=False):
            gaps[account_id, scope, button, day, previous] += 1
        lasts[account_id, scope, button, ordered[-1]] += 1
    return [
        sorted((*k, n, len(fans[k])) for k, n in clicks.items()),
        sorted((*k, n) for k, n in gaps.items()),
        sorted((*k, n) for k, n in lasts.items()),
    ]


def _every_rows() -> list[list[tuple[object, ...]]]:
    """MenuClickDayAll, MenuClickGapAll and MenuClickLastAll, in _brute_every's shape."""
    return [
        sorted(MenuClickDayAll.objects.values_list("account_id", "day", "button", "clicks", "fans")),
        sorted(
            MenuClickGapAll.objects.values_list("account_id", "scope", "button", "day", "previous", "fans")
        ),
        sorted(MenuClickLastAll.objects.values_list("account_id", "scope", "button", "day", "fans")),
    ]


def _table() -> list[tuple[int, date, str, str, int, int]]:
    return sorted(
        MenuClickDay.objects.values_list("account_id", "day", "button", "channel", "clicks", "fans")
    )


def _fan_rows() -> list[tuple[int, date, str, str, str]]:
    return sorted(MenuClickFan.objects.values_list("account_id", "day", "button", "openid", "channel"))


def _follow_rows() -> list[tuple[object, ...]]:
    return sorted(
        MenuClickFollow.objects.values_list(
            "account_id", "openid", "channel", "first_follow_at", "first_follow_id"
        )
    )


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
    assert _every_rows() == _brute_every(events)
    fan_rows = _fan_rows()
    assert len(fan_rows) == sum(n for *_k, n in expected)
    runner.rebuild(consumer)
    assert _table() == expected
    assert _fan_rows() == fan_rows
    assert _every_rows() == _brute_every(events)


def _brute_range(
    events: list[Event], account_id: int, start: date, end: date, channel: str | None = None
) -> RangeFans:
    channels = _channels(events)
    buttons: dict[str, set[str]] = {}
    for e in events:
        key = e.payload.get("EventKey", "")
        day = e.wechat_time.astimezone(SHANGHAI).date()
        in_channel = channel is None or channels.get((account_id, e.openid), "") == channel
        tapped = e.account_id == account_id and e.kind in MENU_TAP_KINDS and key
        if tapped and start <= day <= end and in_channel:
            buttons.setdefault(key, set()).add(e.openid)
    return RangeFans(
        buttons={b: len(fans) for b, fans in buttons.items()},
        any=len(set().union(*buttons.values())),
        web=len(set().union(*(fans for b, fans in buttons.items() if is_web(b)))),
    )


def _shares() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    columns = ("account_id", "scope", "button", "channel", "day")
    return (
        sorted(MenuClickGap.objects.values_list(*columns, "previous", "fans")),
        sorted(MenuClickLast.objects.values_list(*columns, "fans")),
    )


# Random histories: four on SQLite; on PostgreSQL, where the same logic meets the other dialect, the
# smallest and the largest (liucun/testing/suites.py).
HISTORIES = [(5, 0), (11, 60), (23, 60), (31, 120)]


@pytest.mark.parametrize(("seed", "follows"), [HISTORIES[0], HISTORIES[-1]] if on_postgres() else HISTORIES)
def test_range_fans_are_exact_for_every_range_incrementally_replayed_and_set_based(
    seed: int, follows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts, events = _random_history(seed, follows)
    rng = random.Random(seed)
    # Arrivals in any order: many taps land before a fan's later ones (backdated), a fan's first follow
    # after its taps, an earlier follow after the one that set the fan's channel.
    rng.shuffle(events)
    consumer = MenuClicksConsumer("Asia/Shanghai")
    days = [date(2026, 2, 28) + timedelta(days=i) for i in range(9)]  # a day either side of the taps
    ranges = [(s, e) for s in days for e in days if s <= e]

    def check() -> None:
        channels = sorted(set(_channels(events).values()) | {"", "nobody"})
        if follows:
            assert len(channels) > 3  # several channels hold fans
        # Both ways of answering (queries.range_fans): "today" decides which, never the result.
        for now in (days[-1], date(2026, 12, 1)):
            monkeypatch.setattr(queries, "today", lambda now=now: now)
            for account_id in accounts:
                for start, end in ranges:
                    for channel in [None, *channels]:
                        expected = _brute_range(events, account_id, start, end, channel)
                        got = range_fans(account_id, start, end, channel)
                        assert got == expected, (now, start, end, channel)

    def feed(upto: int) -> None:
        arrived = Event.objects.count()
        while arrived < upto:
            step = min(rng.randint(1, 120), upto - arrived)
            Event.objects.bulk_create(events[arrived : arrived + step])
            arrived += step
            runner.run(consumer, batch=rng.randint(5, 60))

    def tables() -> list[list[tuple[object, ...]]]:
        return [_table(), _fan_rows(), *_shares(), _follow_rows(), *_every_rows()]

    every = _brute_every(events)
    assert every[1] and every[2]

    feed(len(events) * 2 // 3)
    assert runner.rebuild(consumer).bulk is not None  # set-based, then more taps, many backdated
    feed(len(events))
    check()
    assert _table() == _brute_force(events)
    assert _every_rows() == every  # the rows of every channel: version 2's, however the fans moved
    incremental = tables()
    first = _channels(events)
    assert {(a, o): c for a, o, c, _at, _id in incremental[4]} == first
    assert all(n > 0 for *_k, n in incremental[2] + incremental[3] + incremental[6] + incremental[7])
    assert runner.rebuild(consumer, bulk=False).bulk is None  # replayed
    assert tables() == incremental
    assert runner.rebuild(consumer).bulk is not None
    assert tables() == incremental
    derive_shares()
    assert tables() == incremental
    derive_shares(accounts[0])
    assert tables() == incremental
    assert _every_rows() == every
    check()


def test_a_late_first_follow_and_an_earlier_follow_move_the_fans_whole_share() -> None:
    account_id = make_account().pk
    consumer = MenuClicksConsumer("Asia/Shanghai")
    monday = datetime(2026, 3, 2, 2, tzinfo=UTC)  # 10:00 in Shanghai
    serial = iter(range(1000))

    def arrive(openid: str, kind: str, at: datetime, key: str) -> None:
        Event.objects.bulk_create([_event(account_id, openid, kind, at, key, next(serial))])
        runner.run(consumer)

    arrive("o1", "event.click", monday, "K1")
    arrive("o1", "event.click", monday, "K1")
    arrive("o1", "event.view", monday + timedelta(days=1), "https://x.test/a")
    arrive("o2", "event.click", monday, "K1")  # o2 never follows: stays in ""
    assert range_fans(account_id, monday.date(), monday.date(), "") == RangeFans({"K1": 2}, 2, 0)
    every = _every_rows()
    # o1's first follow arrives after its taps: the whole share moves to "poster", and the rows of every
    # channel stay as they were.
    arrive("o1", FOLLOW, monday - timedelta(days=1), "qrscene_poster")
    assert _every_rows() == every
    assert sorted(MenuClickDay.objects.values_list("channel", "button", "clicks", "fans")) == [
        ("", "K1", 1, 1),
        ("poster", "K1", 2, 1),
        ("poster", "https://x.test/a", 1, 1),
    ]
    # An earlier follow moves it again; one at the same time with a higher id, and a refollow, do not.
    arrive("o1", FOLLOW, monday - timedelta(days=2), "qrscene_store")
    arrive("o1", FOLLOW, monday - timedelta(days=2), "qrscene_other")
    arrive("o1", FOLLOW, monday + timedelta(days=5), "qrscene_other")
    assert _every_rows() == every
    arrive("o1", "event.click", monday + timedelta(days=1), "K1")
    assert sorted(MenuClickDay.objects.values_list("channel", "day", "button", "clicks", "fans")) == [
        ("", date(2026, 3, 2), "K1", 1, 1),
        ("store", date(2026, 3, 2), "K1", 2, 1),
        ("store", date(2026, 3, 3), "K1", 1, 1),
        ("store", date(2026, 3, 3), "https://x.test/a", 1, 1),
    ]
    assert set(MenuClickFan.objects.filter(openid="o1").values_list("channel", flat=True)) == {"store"}
    week = (monday.date(), monday.date() + timedelta(days=6))
    assert range_fans(account_id, *week, "store") == RangeFans({"K1": 1, "https://x.test/a": 1}, 1, 1)
    assert range_fans(account_id, *week, "poster") == RangeFans({}, 0, 0)
    assert range_fans(account_id, *week) == RangeFans({"K1": 2, "https://x.test/a": 1}, 2, 1)
    assert not MenuClickGap.objects.filter(channel="poster").exists()  # nothing left at zero
    assert not MenuClickLast.objects.filter(channel="poster").exists()
    incremental = (_table(), _fan_rows(), *_shares(), _follow_rows(), *_every_rows())
    for bulk in (False, True):
        runner.rebuild(consumer, bulk=bulk)
        assert (_table(), _fan_rows(), *_shares(), _follow_rows(), *_every_rows()) == incremental


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
