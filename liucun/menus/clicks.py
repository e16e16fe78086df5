"""The menu-clicks consumer: taps per account, China day and button, with the distinct fans of each.

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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from liucun.menus.models import (
    BUTTON_KEY_MAX,
    NO_PREVIOUS_DAY,
    ClickScope,
    MenuClickDay,
    MenuClickFan,
    MenuClickGap,
    MenuClickLast,
)
from liucun.rawsql import Sql
from liucun.readmodels.bulksql import local_day, payload_text
from liucun.readmodels.consumer import Consumer, EventRow

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

DayKey = tuple[int, date, str]  # account id, day, button
FanKey = tuple[int, date, str, str]  # ... and openid
GapKey = tuple[int, str, str, date, date]  # account id, scope, button, day, previous day
LastKey = tuple[int, str, str, date]  # account id, scope, button, day

_ADD_GAP = (
    "INSERT INTO menus_menuclickgap (account_id, scope, button, day, previous, fans) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (account_id, day, previous, scope, button) "
    "DO UPDATE SET fans = menus_menuclickgap.fans + excluded.fans"
)
_DROP_GAP = (
    "DELETE FROM menus_menuclickgap WHERE account_id = %s AND scope = %s AND button = %s AND day = %s "
    "AND previous = %s AND fans = 0"
)
_ADD_LAST = (
    "INSERT INTO menus_menuclicklast (account_id, scope, button, day, fans) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (account_id, day, scope, button) "
    "DO UPDATE SET fans = menus_menuclicklast.fans + excluded.fans"
)
_DROP_LAST = (
    "DELETE FROM menus_menuclicklast WHERE account_id = %s AND scope = %s AND button = %s AND day = %s "
    "AND fans = 0"
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


@dataclass
class _Plan:
    fans: list[MenuClickFan] = field(default_factory=list)
    inserts: list[MenuClickDay] = field(default_factory=list)
    updates: list[MenuClickDay] = field(default_factory=list)
    gaps: Counter[GapKey] = field(default_factory=Counter)
    lasts: Counter[LastKey] = field(default_factory=Counter)


class MenuClicksConsumer(Consumer):
    name = "menu-clicks"
    kinds = MENU_TAP_KINDS
    payload_fields = ("EventKey",)
    version = 2  # 2: MenuClickGap and MenuClickLast

    def __init__(self, time_zone: str | None = None) -> None:
        self.tz = ZoneInfo(time_zone or settings.TIME_ZONE)
        self._staged_upto: int | None = None  # the last_id prepare_bulk staged rows for

    def fingerprint(self) -> str:
        return f"v{self.version}:{self.tz.key}"

    def reset(self) -> None:
        MenuClickGap.objects.all().delete()
        MenuClickLast.objects.all().delete()
        MenuClickFan.objects.all().delete()
        MenuClickDay.objects.all().delete()

    def prepare_bulk(self, last_id: int) -> None:
        stage_bulk(last_id, self.tz)
        self._staged_upto = last_id

    def rebuild_bulk(self, last_id: int) -> bool:
        if self._staged_upto != last_id:
            self.prepare_bulk(last_id)
        copy_bulk()
        return True

    def finish_bulk(self) -> None:
        drop_bulk()
        self._staged_upto = None

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        clicks: Counter[DayKey] = Counter()
        seen: set[FanKey] = set()
        for event in events:
            button = button_of(event)
            if event.kind not in self.kinds or not button:
                continue
            day = event.wechat_time.astimezone(self.tz).date()
            clicks[event.account_id, day, button] += 1
            seen.add((event.account_id, day, button, event.openid))
        stored = _stored_taps({(a, o) for a, _d, _b, o in seen})
        new_fans = {(a, d, b, o) for a, d, b, o in seen if (d, b) not in stored.get((a, o), ())}
        fans: Counter[DayKey] = Counter((a, d, b) for a, d, b, _o in new_fans)
        plan = _Plan(
            fans=[MenuClickFan(account_id=a, day=d, button=b, openid=o) for a, d, b, o in sorted(new_fans)]
        )
        _fold_shares(new_fans, stored, plan)
        existing = _stored_days(set(clicks))
        for key in sorted(clicks):
            row = existing.get(key)
            if row is None:
                account_id, day, button = key
                plan.inserts.append(
                    MenuClickDay(
                        account_id=account_id, day=day, button=button, clicks=clicks[key], fans=fans[key]
                    )
                )
            else:
                row.clicks += clicks[key]
                row.fans += fans[key]
                plan.updates.append(row)
        return plan

    def apply(self, plan: _Plan) -> None:
        MenuClickFan.objects.bulk_create(plan.fans, batch_size=CHUNK)
        MenuClickDay.objects.bulk_create(plan.inserts, batch_size=CHUNK)
        MenuClickDay.objects.bulk_update(plan.updates, ["clicks", "fans"], batch_size=CHUNK)
        sql = Sql(connection)
        d = _date_param(sql)
        gaps = sorted((k, n) for k, n in plan.gaps.items() if n)
        lasts = sorted((k, n) for k, n in plan.lasts.items() if n)
        cursor = sql.cursor()
        try:
            for start in range(0, max(len(gaps), len(lasts)), CHUNK):
                gap_rows: list[list[Any]] = [
                    [a, s, b, d(day), d(p), n] for (a, s, b, day, p), n in gaps[start : start + CHUNK]
                ]
                last_rows: list[list[Any]] = [
                    [a, s, b, d(day), n] for (a, s, b, day), n in lasts[start : start + CHUNK]
                ]
                sql.executemany(cursor, _ADD_GAP, gap_rows)
                sql.executemany(cursor, _ADD_LAST, last_rows)
                # A share that moved away (a backdated tap) leaves a row at zero: a rebuild has none.
                sql.executemany(cursor, _DROP_GAP, [r[:5] for r in gap_rows if r[5] < 0])
                sql.executemany(cursor, _DROP_LAST, [r[:4] for r in last_rows if r[4] < 0])
        finally:
            cursor.close()


def _date_param(sql: Sql) -> Callable[[date], Any]:
    if sql.postgres:
        return lambda day: day
    return lambda day: day.isoformat()


def _fold_shares(
    new_fans: set[FanKey], stored: dict[tuple[int, str], set[tuple[date, str]]], plan: _Plan
) -> None:
    """Add to the plan each touched fan's share of the gap and last tables with its new days, less its
    share without them, per button, for any button and for any web page."""
    added: dict[tuple[int, str], set[tuple[date, str]]] = {}
    for account_id, day, button, openid in new_fans:
        added.setdefault((account_id, openid), set()).add((day, button))
    for fan, new in added.items():
        before = stored.get(fan, set())
        after = before | new
        touched_buttons = {b for _d, b in new}
        groups = [(ClickScope.BUTTON, b) for b in touched_buttons] + [(ClickScope.ANY, "")]
        if any(is_web(b) for b in touched_buttons):
            groups.append((ClickScope.WEB, ""))
        for scope, button in groups:
            old = {d for d, b in before if _in_scope(scope, button, b)}
            now = {d for d, b in after if _in_scope(scope, button, b)}
            if old == now:
                continue
            _add_share(plan, (fan[0], str(scope), button), old, -1)
            _add_share(plan, (fan[0], str(scope), button), now, 1)


def _in_scope(scope: str, button: str, tapped: str) -> bool:
    if scope == ClickScope.BUTTON:
        return tapped == button
    return scope == ClickScope.ANY or is_web(tapped)


def _add_share(plan: _Plan, key: tuple[int, str, str], days: set[date], sign: int) -> None:
    gaps, last = _share(days)
    for (day, previous), n in gaps.items():
        plan.gaps[(*key, day, previous)] += sign * n
    if last is not None:
        plan.lasts[(*key, last)] += sign


def _stored_taps(fans: set[tuple[int, str]]) -> dict[tuple[int, str], set[tuple[date, str]]]:
    """Every (day, button) each of these fans tapped so far, from MenuClickFan (its fan index)."""
    by_account: dict[int, list[str]] = {}
    for account_id, openid in sorted(fans):
        by_account.setdefault(account_id, []).append(openid)
    found: dict[tuple[int, str], set[tuple[date, str]]] = {}
    for account_id, openids in by_account.items():
        for start in range(0, len(openids), CHUNK):
            rows = MenuClickFan.objects.filter(
                account_id=account_id, openid__in=openids[start : start + CHUNK]
            ).values_list("openid", "day", "button")
            for openid, day, button in rows:
                found.setdefault((account_id, openid), set()).add((day, button))
    return found


def _stored_days(keys: set[DayKey]) -> dict[DayKey, MenuClickDay]:
    days_by_account: dict[int, set[date]] = {}
    for account_id, day, _button in keys:
        days_by_account.setdefault(account_id, set()).add(day)
    found: dict[DayKey, MenuClickDay] = {}
    for account_id, days in days_by_account.items():
        ordered = sorted(days)
        for start in range(0, len(ordered), CHUNK):
            for row in MenuClickDay.objects.filter(
                account_id=account_id, day__in=ordered[start : start + CHUNK]
            ):
                found[account_id, row.day, row.button] = row
    return {key: row for key, row in found.items() if key in keys}


# Each fan's tap days per scope: per button, any button, any link button (is_web in SQL).
_SHARES_SOURCE = """
    SELECT account_id, 'b' AS scope, button, openid, day FROM {table} WHERE {where}
    UNION ALL
    SELECT DISTINCT account_id, 'a', '', openid, day FROM {table} WHERE {where}
    UNION ALL
    SELECT DISTINCT account_id, 'w', '', openid, day FROM {table} WHERE {where}
      AND (substr(button, 1, 7) = 'http://' OR substr(button, 1, 8) = 'https://')
"""


def _gap_select(table: str, where: str) -> str:
    """MenuClickGap's rows from a table of (account_id, day, button, openid); parameters: the
    NO_PREVIOUS_DAY, then those of `where` three times."""
    source = _SHARES_SOURCE.format(table=table, where=where)
    return (
        "SELECT account_id, scope, button, day, previous, COUNT(*) AS fans FROM ("  # noqa: S608
        "SELECT account_id, scope, button, day, COALESCE(LAG(day) OVER "
        "(PARTITION BY account_id, scope, button, openid ORDER BY day), %s) AS previous "
        f"FROM ({source}) t) g GROUP BY account_id, scope, button, day, previous"
    )


def _last_select(table: str, where: str) -> str:
    """MenuClickLast's rows from the same; parameters: those of `where` three times."""
    source = _SHARES_SOURCE.format(table=table, where=where)
    return (
        "SELECT account_id, scope, button, last_day AS day, COUNT(*) AS fans FROM ("  # noqa: S608
        f"SELECT account_id, scope, button, MAX(day) AS last_day FROM ({source}) t "
        "GROUP BY account_id, scope, button, openid) g GROUP BY account_id, scope, button, last_day"
    )


_GAP_COLUMNS = "account_id, scope, button, day, previous, fans"
_LAST_COLUMNS = "account_id, scope, button, day, fans"


def derive_shares(account_id: int | None = None) -> None:
    """Fill MenuClickGap and MenuClickLast from MenuClickFan with set-based SQL (one account, or all):
    the same rows the consumer keeps incrementally. For rows written straight into MenuClickFan (test
    fixtures, benchmarks)."""
    sql = Sql(connection)
    where = "account_id = %s" if account_id is not None else "1 = 1"
    params = [account_id] * 3 if account_id is not None else []
    gaps = MenuClickGap.objects.all()
    lasts = MenuClickLast.objects.all()
    if account_id is not None:
        gaps, lasts = gaps.filter(account_id=account_id), lasts.filter(account_id=account_id)
    gaps.delete()
    lasts.delete()
    cursor = sql.cursor()
    try:
        sql.execute(
            cursor,
            f"INSERT INTO menus_menuclickgap ({_GAP_COLUMNS}) {_gap_select('menus_menuclickfan', where)}",
            [_date_param(sql)(NO_PREVIOUS_DAY), *params],
        )
        sql.execute(
            cursor,
            f"INSERT INTO menus_menuclicklast ({_LAST_COLUMNS}) {_last_select('menus_menuclickfan', where)}",
            params,
        )
    finally:
        cursor.close()


# A set-based rebuild (ADR 21) stages every tap with id <= last_id, one row per fan, day and button with
# its clicks, and from those the gap and last rows; the write transaction only copies them.
_TAPS = "liucun_bulk_menu_taps"
_GAPS = "liucun_bulk_menu_gaps"
_LASTS = "liucun_bulk_menu_lasts"


def stage_bulk(last_id: int, tz: ZoneInfo) -> None:
    drop_bulk()
    sql = Sql(connection)
    day, day_params = local_day("e.wechat_time", tz)
    key = payload_text("e.payload", "EventKey")
    kinds = sorted(MENU_TAP_KINDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_TAPS} AS SELECT account_id, day, button, openid, COUNT(*) AS clicks"  # noqa: S608
            f" FROM (SELECT e.account_id, {day} AS day, substr({key}, 1, {BUTTON_KEY_MAX}) AS button,"
            f" e.openid FROM events_event e WHERE e.id <= %s AND e.kind IN ({', '.join(['%s'] * len(kinds))})"
            ") t WHERE button IS NOT NULL AND button <> '' GROUP BY account_id, day, button, openid",
            [*day_params, last_id, *kinds],
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_GAPS} AS {_gap_select(_TAPS, '1 = 1')}",
            [_date_param(sql)(NO_PREVIOUS_DAY)],
        )
        cursor.execute(f"CREATE TEMPORARY TABLE {_LASTS} AS {_last_select(_TAPS, '1 = 1')}")


def copy_bulk() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO menus_menuclickfan (account_id, day, button, openid)"  # noqa: S608
            f" SELECT account_id, day, button, openid FROM {_TAPS} ORDER BY account_id, day, button, openid"
        )
        cursor.execute(
            "INSERT INTO menus_menuclickday (account_id, day, button, clicks, fans)"  # noqa: S608
            f" SELECT account_id, day, button, SUM(clicks), COUNT(*) FROM {_TAPS}"
            " GROUP BY account_id, day, button"
        )
        cursor.execute(f"INSERT INTO menus_menuclickgap ({_GAP_COLUMNS}) SELECT {_GAP_COLUMNS} FROM {_GAPS}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO menus_menuclicklast ({_LAST_COLUMNS}) SELECT {_LAST_COLUMNS} FROM {_LASTS}"  # noqa: S608
        )


def drop_bulk() -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
    with connection.cursor() as cursor:
        for table in (_TAPS, _GAPS, _LASTS):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
