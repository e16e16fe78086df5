"""The menu-clicks consumer: taps per account, China day, button and channel, with the distinct fans of each.

Every event a menu button sends names its button by EventKey: the key (click, scancode_*, pic_*,
location_select), the URL (view) or the page path (view_miniprogram). What the tables hold is a function
of the set of events, never of their order: clicks count events, fans count distinct (day, button,
openid), and an event's day is the day of its WeChat time in the site's time zone. MenuClickFan keeps one
row per fan, day and button, so unique fans per day and over any period are exact; a rebuild from zero
gives the same rows as the incremental runs.

Counting distinct fans over a year of MenuClickFan rows takes seconds at a million fans, so each fan's
taps are also folded into MenuClickGap (per day, the fans whose previous tap was on a given day) and
MenuClickLast (per day, the fans whose last tap it was), per button, for any button and for any web page
(queries.range_fans reads them). A fan's share of those is a function of its set of tap days
(`_share`); when a batch adds days to a fan, its stored days are read back and the difference between
its share with and without them is added, so a tap arriving late or backdated lands where a rebuild
would put it.

Every row is kept per channel: the fan's acquisition channel (readmodels.acquisition: the QR scene of its
first follow event by WeChat time and id, "" without one), so each fan is in one channel and every
channel's rows together are the whole account's, distinct fans included. Follows are read for the channel
only, never counted as taps; MenuClickFollow keeps each fan's first follow. When a batch changes a fan's
channel (its first follow arrives after its taps, or a follow earlier than the first known), the fan's whole
share moves: its stored rows change channel, its clicks (read back from its tap events) and fan-days move,
and its gap and last shares are taken from the old channel and added to the new one.

Alongside, the rows of every channel at once (MenuClickDayAll, MenuClickGapAll, MenuClickLastAll: version
2's rows, every fan's taps whatever its channel; clicks_all.py keeps them) answer whenever no channel is
chosen: summing 31 channels' gap rows read 20 times the rows (a half-year at 100,000 fans: 60,643 against
3,111). They are tables of their own rather than a marker in the channel column: a scene string may be any
1-64 characters, so no string is safe as "every channel"; NULL is distinct from NULL in a unique constraint
(no upsert could find the row to add to); and with a marker column of its own every query that sums a
channel's rows would have to leave the marked rows out, or count each fan twice. Separate tables keep
version 2's keys and indexes as they were and make that double count impossible. A fan's move leaves them
unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from liucun.events.kinds import FOLLOW
from liucun.menus import clicks_all, clicks_bulk
from liucun.menus.clicks_bulk import date_param, derive_shares
from liucun.menus.models import (
    BUTTON_KEY_MAX,
    NO_PREVIOUS_DAY,
    ClickScope,
    MenuClickDay,
    MenuClickDayAll,
    MenuClickFan,
    MenuClickFollow,
    MenuClickGap,
    MenuClickGapAll,
    MenuClickLast,
    MenuClickLastAll,
)
from liucun.rawsql import Sql
from liucun.readmodels.acquisition import acquisition_channel
from liucun.readmodels.consumer import EventRow, StagedBulkConsumer, StagedCopy
from liucun.readmodels.fanhistory import event_order, fan_histories

__all__ = ["MENU_TAP_KINDS", "MenuClicksConsumer", "button_of", "derive_shares", "is_web"]

CLICK, VIEW = "event.click", "event.view"
MENU_TAP_KINDS = frozenset(
    {
        CLICK,
        VIEW,
        "event.view_miniprogram",
        "event.scancode_push",
        "event.scancode_waitmsg",
        "event.pic_sysphoto",
        "event.pic_photo_or_album",
        "event.pic_weixin",
        "event.location_select",
    }
)
CHUNK = 500

FanKey = tuple[int, str]  # account id, openid
Taps = set[tuple[date, str]]  # a fan's (day, button)s
DayKey = tuple[int, date, str, str]  # account id, day, button, channel
GapKey = tuple[int, str, str, str, date, date]  # account id, scope, button, channel, day, previous day
LastKey = tuple[int, str, str, str, date]  # account id, scope, button, channel, day

_ADD_GAP = (
    "INSERT INTO menus_menuclickgap (account_id, scope, button, channel, day, previous, fans) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (account_id, day, previous, scope, button, channel) "
    "DO UPDATE SET fans = menus_menuclickgap.fans + excluded.fans"
)
_DROP_GAP = (
    "DELETE FROM menus_menuclickgap WHERE account_id = %s AND scope = %s AND button = %s AND channel = %s "
    "AND day = %s AND previous = %s AND fans = 0"
)
_ADD_LAST = (
    "INSERT INTO menus_menuclicklast (account_id, scope, button, channel, day, fans) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (account_id, day, scope, button, channel) "
    "DO UPDATE SET fans = menus_menuclicklast.fans + excluded.fans"
)
_DROP_LAST = (
    "DELETE FROM menus_menuclicklast WHERE account_id = %s AND scope = %s AND button = %s AND channel = %s "
    "AND day = %s AND fans = 0"
)
_UPSERT_FOLLOW = (
    "INSERT INTO menus_menuclickfollow (account_id, openid, channel, first_follow_at, first_follow_id) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account_id, openid) DO UPDATE SET channel = excluded.channel, "
    "first_follow_at = excluded.first_follow_at, first_follow_id = excluded.first_follow_id"
)


def button_of(event: EventRow) -> str:
    """The button an event names ("" when it names none: nothing to count)."""
    return str(event.fields.get("EventKey") or "")[:BUTTON_KEY_MAX]


def is_web(button: str) -> bool:
    """A link button (VIEW): its EventKey is the page's URL."""
    return button.startswith(("http://", "https://"))


def _share(days: set[date]) -> tuple[Counter[tuple[date, date]], date | None]:
    """One fan's part of MenuClickGap (day -> previous day) and MenuClickLast for one scope and button."""
    gaps: Counter[tuple[date, date]] = Counter()
    previous = NO_PREVIOUS_DAY
    for day in sorted(days):
        gaps[day, previous] += 1
        previous = day
    return gaps, (previous if days else None)


@dataclass(frozen=True)
class _Follow:
    """A fan's first follow event known: its channel and (WeChat time, id)."""

    channel: str
    order: tuple[datetime, int]


@dataclass
class _Plan:
    fans: list[MenuClickFan] = field(default_factory=list)
    moves: dict[tuple[int, str], list[str]] = field(default_factory=dict)  # (account, channel) -> openids
    inserts: list[MenuClickDay] = field(default_factory=list)
    updates: list[MenuClickDay] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    gaps: Counter[GapKey] = field(default_factory=Counter)
    lasts: Counter[LastKey] = field(default_factory=Counter)
    follows: list[list[Any]] = field(default_factory=list)
    every: clicks_all.Changes = field(default_factory=clicks_all.Changes)  # the rows of every channel


@dataclass
class _Batch:
    """What a batch does to each fan: its taps, and the channel its counted taps were in and will be in."""

    clicks: Counter[DayKey] = field(default_factory=Counter)
    fan_days: Counter[DayKey] = field(default_factory=Counter)
    new_taps: dict[FanKey, Taps] = field(default_factory=dict)
    before: dict[FanKey, str] = field(default_factory=dict)  # fans whose channel changes: the old one
    channel: dict[FanKey, str] = field(default_factory=dict)  # every fan of the batch: its channel after

    def channel_before(self, fan: FanKey) -> str:
        return self.before.get(fan, self.channel[fan])


class MenuClicksConsumer(StagedBulkConsumer):
    name = "menu-clicks"
    kinds = MENU_TAP_KINDS | {FOLLOW}  # follows for the fan's channel only
    payload_fields = ("EventKey",)  # a tap's button, a follow's QR scene
    # 2: MenuClickGap and MenuClickLast; 3: per acquisition channel; 4: and of every channel at once
    version = 4

    def __init__(self, time_zone: str | None = None) -> None:
        self.tz = ZoneInfo(time_zone or settings.TIME_ZONE)

    def fingerprint(self) -> str:
        return f"v{self.version}:{self.tz.key}"

    def reset(self) -> None:
        MenuClickGap.objects.all().delete()
        MenuClickLast.objects.all().delete()
        MenuClickFan.objects.all().delete()
        MenuClickDay.objects.all().delete()
        MenuClickFollow.objects.all().delete()
        MenuClickGapAll.objects.all().delete()
        MenuClickLastAll.objects.all().delete()
        MenuClickDayAll.objects.all().delete()

    def stage_bulk(self, last_id: int) -> None:
        clicks_bulk.stage_bulk(last_id, self.tz, MENU_TAP_KINDS)

    def copies(self) -> list[StagedCopy]:
        return clicks_bulk.copies()

    def drop_bulk(self) -> None:
        clicks_bulk.drop_bulk()

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        plan = _Plan()
        batch = _Batch()
        taps: list[tuple[FanKey, date, str]] = []
        follows: dict[FanKey, EventRow] = {}
        for event in events:
            fan = (event.account_id, event.openid)
            if event.kind == FOLLOW:
                if fan not in follows or event_order(event) < event_order(follows[fan]):
                    follows[fan] = event
                continue
            button = button_of(event)
            if event.kind in MENU_TAP_KINDS and button:
                taps.append((fan, event.wechat_time.astimezone(self.tz).date(), button))
        known = _stored_follows({fan for fan, _d, _b in taps} | set(follows))
        self._new_channels(follows, known, batch, plan)
        for fan, _day, _button in taps:
            batch.channel.setdefault(fan, known[fan].channel if fan in known else "")
        stored = _stored_taps({fan for fan, _d, _b in taps} | set(batch.before))
        for fan, day, button in taps:
            batch.clicks[fan[0], day, button, batch.channel[fan]] += 1
            if (day, button) not in stored.get(fan, ()):
                batch.new_taps.setdefault(fan, set()).add((day, button))
        moved = {fan for fan in batch.before if stored.get(fan)}
        self._move(moved, stored, min((e.id for e in events), default=0), batch, plan)
        for fan, new in sorted(batch.new_taps.items()):
            channel = batch.channel[fan]
            for day, button in sorted(new):
                batch.fan_days[fan[0], day, button, channel] += 1
                plan.fans.append(
                    MenuClickFan(account_id=fan[0], day=day, button=button, openid=fan[1], channel=channel)
                )
        for fan in set(batch.new_taps) | moved:
            _fold_share(fan, stored.get(fan, set()), batch, plan)
        _day_changes(batch, plan)
        plan.every = clicks_all.summed(batch.clicks, batch.fan_days, plan.gaps, plan.lasts)
        return plan

    def _new_channels(
        self, follows: dict[FanKey, EventRow], known: dict[FanKey, _Follow], batch: _Batch, plan: _Plan
    ) -> None:
        """The first follow of each fan after the batch; a fan whose channel it changes is in batch.before."""
        sql = Sql(connection)
        for fan, event in sorted(follows.items()):
            old = known.get(fan)
            if old is not None and event_order(event) > old.order:
                continue  # a refollow: the channel stays the first follow's
            new = _Follow(acquisition_channel(event), event_order(event))
            known[fan] = new
            plan.follows.append([*fan, new.channel, sql.dt(event.wechat_time), event.id])
            old_channel = old.channel if old is not None else ""
            if new.channel != old_channel:
                batch.before[fan] = old_channel
            batch.channel[fan] = new.channel

    def _move(
        self, moved: set[FanKey], stored: dict[FanKey, Taps], first_id: int, batch: _Batch, plan: _Plan
    ) -> None:
        """Move the counted clicks and fan-days of fans whose channel changes. Their clicks are read back from
        their tap events: everything with an id below the batch's has been handled (the runner reads in id
        order and passes a gap only once it is final), and nothing else."""
        if not moved:
            return
        histories = fan_histories(moved, MENU_TAP_KINDS, self.payload_fields)
        for fan in sorted(moved):
            old, new = batch.before[fan], batch.channel[fan]
            for event in histories[fan]:
                button = button_of(event)
                if event.id < first_id and button:
                    day = event.wechat_time.astimezone(self.tz).date()
                    batch.clicks[fan[0], day, button, old] -= 1
                    batch.clicks[fan[0], day, button, new] += 1
            for day, button in stored[fan]:
                batch.fan_days[fan[0], day, button, old] -= 1
                batch.fan_days[fan[0], day, button, new] += 1
            plan.moves.setdefault((fan[0], new), []).append(fan[1])

    def apply(self, plan: _Plan) -> None:
        for (account_id, channel), openids in sorted(plan.moves.items()):
            for start in range(0, len(openids), CHUNK):
                MenuClickFan.objects.filter(
                    account_id=account_id, openid__in=openids[start : start + CHUNK]
                ).update(channel=channel)
        MenuClickFan.objects.bulk_create(plan.fans, batch_size=CHUNK)
        MenuClickDay.objects.bulk_create(plan.inserts, batch_size=CHUNK)
        MenuClickDay.objects.bulk_update(plan.updates, ["clicks", "fans"], batch_size=CHUNK)
        for start in range(0, len(plan.deletes), CHUNK):
            MenuClickDay.objects.filter(pk__in=plan.deletes[start : start + CHUNK]).delete()
        sql = Sql(connection)
        d = date_param(sql)
        gaps = sorted((k, n) for k, n in plan.gaps.items() if n)
        lasts = sorted((k, n) for k, n in plan.lasts.items() if n)
        cursor = sql.cursor()
        try:
            for start in range(0, max(len(gaps), len(lasts)), CHUNK):
                gap_rows: list[list[Any]] = [
                    [a, s, b, c, d(day), d(p), n] for (a, s, b, c, day, p), n in gaps[start : start + CHUNK]
                ]
                last_rows: list[list[Any]] = [
                    [a, s, b, c, d(day), n] for (a, s, b, c, day), n in lasts[start : start + CHUNK]
                ]
                sql.executemany(cursor, _ADD_GAP, gap_rows)
                sql.executemany(cursor, _ADD_LAST, last_rows)
                # A share that moved away (a backdated tap, another channel) leaves a row at zero: a
                # rebuild has none.
                sql.executemany(cursor, _DROP_GAP, [r[:6] for r in gap_rows if r[6] < 0])
                sql.executemany(cursor, _DROP_LAST, [r[:5] for r in last_rows if r[5] < 0])
            clicks_all.apply(plan.every, sql, cursor, d, CHUNK)
            for start in range(0, len(plan.follows), CHUNK):
                sql.executemany(cursor, _UPSERT_FOLLOW, plan.follows[start : start + CHUNK])
        finally:
            cursor.close()


def _fold_share(fan: FanKey, before: Taps, batch: _Batch, plan: _Plan) -> None:
    """Add to the plan the fan's share of the gap and last tables after the batch, less its share before,
    per button, for any button and for any web page: where the channel stays, only the groups the new taps
    touch; where it changes, every group the fan has."""
    old_channel, channel = batch.channel_before(fan), batch.channel[fan]
    new = batch.new_taps.get(fan, set())
    after = before | new
    buttons = {b for _d, b in (new if old_channel == channel else after)}
    groups = [(ClickScope.BUTTON, b) for b in buttons] + [(ClickScope.ANY, "")]
    if any(is_web(b) for b in buttons):
        groups.append((ClickScope.WEB, ""))
    account_id = fan[0]
    for scope, button in groups:
        old = {d for d, b in before if _in_scope(scope, button, b)}
        now = {d for d, b in after if _in_scope(scope, button, b)}
        if old == now and old_channel == channel:
            continue
        _add_share(plan, (account_id, str(scope), button, old_channel), old, -1)
        _add_share(plan, (account_id, str(scope), button, channel), now, 1)


def _in_scope(scope: str, button: str, tapped: str) -> bool:
    if scope == ClickScope.BUTTON:
        return tapped == button
    return scope == ClickScope.ANY or is_web(tapped)


def _add_share(plan: _Plan, key: tuple[int, str, str, str], days: set[date], sign: int) -> None:
    gaps, last = _share(days)
    for (day, previous), n in gaps.items():
        plan.gaps[(*key, day, previous)] += sign * n
    if last is not None:
        plan.lasts[(*key, last)] += sign


def _day_changes(batch: _Batch, plan: _Plan) -> None:
    """MenuClickDay's inserts, updates and deletes (a row a move left at zero: a rebuild has none)."""
    keys = {k for k in set(batch.clicks) | set(batch.fan_days) if batch.clicks[k] or batch.fan_days[k]}
    existing = _stored_days(keys)
    for key in sorted(keys):
        row = existing.get(key)
        if row is None:
            account_id, day, button, channel = key
            plan.inserts.append(
                MenuClickDay(
                    account_id=account_id,
                    day=day,
                    button=button,
                    channel=channel,
                    clicks=batch.clicks[key],
                    fans=batch.fan_days[key],
                )
            )
            continue
        row.clicks += batch.clicks[key]
        row.fans += batch.fan_days[key]
        if row.clicks or row.fans:
            plan.updates.append(row)
        else:
            plan.deletes.append(row.pk)


def _grouped(fans: set[FanKey]) -> dict[int, list[str]]:
    by_account: dict[int, list[str]] = {}
    for account_id, openid in sorted(fans):
        by_account.setdefault(account_id, []).append(openid)
    return by_account


def _stored_follows(fans: set[FanKey]) -> dict[FanKey, _Follow]:
    """The first follow known of each of these fans that has one (MenuClickFollow)."""
    found: dict[FanKey, _Follow] = {}
    for account_id, openids in _grouped(fans).items():
        for start in range(0, len(openids), CHUNK):
            rows = MenuClickFollow.objects.filter(
                account_id=account_id, openid__in=openids[start : start + CHUNK]
            ).values_list("openid", "channel", "first_follow_at", "first_follow_id")
            for openid, channel, at, follow_id in rows:
                found[account_id, openid] = _Follow(channel, (at, follow_id))
    return found


def _stored_taps(fans: set[FanKey]) -> dict[FanKey, Taps]:
    """Every (day, button) each of these fans tapped so far, from MenuClickFan (its fan index)."""
    found: dict[FanKey, Taps] = {}
    for account_id, openids in _grouped(fans).items():
        for start in range(0, len(openids), CHUNK):
            rows = MenuClickFan.objects.filter(
                account_id=account_id, openid__in=openids[start : start + CHUNK]
            ).values_list("openid", "day", "button")
            for openid, day, button in rows:
                found.setdefault((account_id, openid), set()).add((day, button))
    return found


def _stored_days(keys: set[DayKey]) -> dict[DayKey, MenuClickDay]:
    days_by_account: dict[int, set[date]] = {}
    for account_id, day, _button, _channel in keys:
        days_by_account.setdefault(account_id, set()).add(day)
    found: dict[DayKey, MenuClickDay] = {}
    for account_id, days in days_by_account.items():
        ordered = sorted(days)
        for start in range(0, len(ordered), CHUNK):
            for row in MenuClickDay.objects.filter(
                account_id=account_id, day__in=ordered[start : start + CHUNK]
            ):
                found[account_id, row.day, row.button, row.channel] = row
    return {key: row for key, row in found.items() if key in keys}
