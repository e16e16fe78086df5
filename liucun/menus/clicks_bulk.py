"""The menu-clicks tables from SQL alone: the gap and last rows from MenuClickFan-shaped rows
(derive_shares), and the consumer's set-based rebuild (ADR 21).

A fan's channel is the one of its first follow by (WeChat time, id) (readmodels.acquisition); every row of a
fan carries it, so the gap and last rows are counted per channel by partitioning per fan as before.

The rows of every channel at once (clicks_all.py) are the per-channel rows grouped without the channel:
staged from the staged taps, gap and last rows before the write transaction, copied in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from liucun.events.kinds import FOLLOW
from liucun.menus import clicks_all
from liucun.menus.models import (
    BUTTON_KEY_MAX,
    NO_PREVIOUS_DAY,
    MenuClickDayAll,
    MenuClickGap,
    MenuClickGapAll,
    MenuClickLast,
    MenuClickLastAll,
)
from liucun.rawsql import Sql
from liucun.readmodels.acquisition import follow_channel_sql
from liucun.readmodels.bulksql import local_day, payload_text
from liucun.readmodels.consumer import StagedCopy

# Each fan's tap days per scope: per button, any button, any link button (clicks.is_web in SQL).
_SHARES_SOURCE = """
    SELECT account_id, channel, 'b' AS scope, button, openid, day FROM {table} WHERE {where}
    UNION ALL
    SELECT DISTINCT account_id, channel, 'a', '', openid, day FROM {table} WHERE {where}
    UNION ALL
    SELECT DISTINCT account_id, channel, 'w', '', openid, day FROM {table} WHERE {where}
      AND (substr(button, 1, 7) = 'http://' OR substr(button, 1, 8) = 'https://')
"""
GAP_COLUMNS = "account_id, channel, scope, button, day, previous, fans"
LAST_COLUMNS = "account_id, channel, scope, button, day, fans"


def date_param(sql: Sql) -> Any:
    """How a date is passed to a hand-written statement on this database."""
    if sql.postgres:
        return lambda day: day
    return lambda day: day.isoformat()


def _gap_select(table: str, where: str) -> str:
    """MenuClickGap's rows from a table of (account_id, channel, day, button, openid); parameters: the
    NO_PREVIOUS_DAY, then those of `where` three times. A fan's rows share one channel, so partitioning by
    channel too changes no fan's sequence of days."""
    source = _SHARES_SOURCE.format(table=table, where=where)
    return (
        "SELECT account_id, channel, scope, button, day, previous, COUNT(*) AS fans FROM ("  # noqa: S608
        "SELECT account_id, channel, scope, button, day, COALESCE(LAG(day) OVER "
        "(PARTITION BY account_id, channel, scope, button, openid ORDER BY day), %s) AS previous "
        f"FROM ({source}) t) g GROUP BY account_id, channel, scope, button, day, previous"
    )


def _last_select(table: str, where: str) -> str:
    """MenuClickLast's rows from the same; parameters: those of `where` three times."""
    source = _SHARES_SOURCE.format(table=table, where=where)
    return (
        "SELECT account_id, channel, scope, button, last_day AS day, COUNT(*) AS fans FROM ("  # noqa: S608
        f"SELECT account_id, channel, scope, button, MAX(day) AS last_day FROM ({source}) t "
        "GROUP BY account_id, channel, scope, button, openid) g "
        "GROUP BY account_id, channel, scope, button, last_day"
    )


def derive_shares(account_id: int | None = None) -> None:
    """Fill MenuClickGap and MenuClickLast from MenuClickFan with set-based SQL (one account, or all), and
    the rows of every channel from those and MenuClickDay: the same rows the consumer keeps incrementally.
    For rows written straight into MenuClickFan and MenuClickDay (test fixtures, benchmarks)."""
    sql = Sql(connection)
    where = "account_id = %s" if account_id is not None else "1 = 1"
    params = [account_id] * 3 if account_id is not None else []
    gaps = MenuClickGap.objects.all()
    lasts = MenuClickLast.objects.all()
    if account_id is not None:
        gaps, lasts = gaps.filter(account_id=account_id), lasts.filter(account_id=account_id)
    gaps.delete()
    lasts.delete()
    for every in (MenuClickDayAll, MenuClickGapAll, MenuClickLastAll):
        rows = every.objects.all()
        (rows.filter(account_id=account_id) if account_id is not None else rows).delete()
    cursor = sql.cursor()
    try:
        sql.execute(
            cursor,
            f"INSERT INTO menus_menuclickgap ({GAP_COLUMNS}) {_gap_select('menus_menuclickfan', where)}",
            [date_param(sql)(NO_PREVIOUS_DAY), *params],
        )
        sql.execute(
            cursor,
            f"INSERT INTO menus_menuclicklast ({LAST_COLUMNS}) {_last_select('menus_menuclickfan', where)}",
            params,
        )
        tables = ("menus_menuclickday", "SUM(fans)", "menus_menuclickgap", "menus_menuclicklast")
        for (target, columns, _staged), select in zip(_EVERY, _every_channel(*tables, where), strict=True):
            sql.execute(cursor, f"INSERT INTO {target} ({columns}) {select}", params[:1])
    finally:
        cursor.close()


# The all-channel tables: their columns, and what stages them before a rebuild's write transaction.
_EVERY = (
    ("menus_menuclickdayall", clicks_all.DAY_COLUMNS, "liucun_bulk_menu_days_all"),
    ("menus_menuclickgapall", clicks_all.GAP_COLUMNS, "liucun_bulk_menu_gaps_all"),
    ("menus_menuclicklastall", clicks_all.LAST_COLUMNS, "liucun_bulk_menu_lasts_all"),
)


def _every_channel(days: str, day_fans: str, gaps: str, lasts: str, where: str) -> list[str]:
    """The SELECTs of the all-channel tables (in _EVERY's order) from tables of per-channel day, gap and
    last rows; `day_fans` counts a day row's fans (SUM(fans) of day rows, COUNT(*) of one row a fan)."""
    return [
        clicks_all.SUM_DAYS.format(fans=day_fans, table=days, where=where),
        clicks_all.SUM_GAPS.format(table=gaps, where=where),
        clicks_all.SUM_LASTS.format(table=lasts, where=where),
    ]


# A set-based rebuild stages, from one scan of the store, one row per fan, day and button with its clicks
# and one row per follow; from those each fan's first follow (its channel and the consumer's cursor), the
# taps with their fan's channel, and the gap and last rows. The write transaction only copies them.
_SCAN = "liucun_bulk_menu_scan"
_FOLLOWS = "liucun_bulk_menu_follows"
_TAPS = "liucun_bulk_menu_taps"
_GAPS = "liucun_bulk_menu_gaps"
_DAYS = "liucun_bulk_menu_days"
_LASTS = "liucun_bulk_menu_lasts"


def stage_bulk(last_id: int, tz: ZoneInfo, tap_kinds: Iterable[str]) -> None:
    drop_bulk()
    sql = Sql(connection)
    day, day_params = local_day("e.wechat_time", tz)
    key = payload_text("e.payload", "EventKey")
    channel, channel_params = follow_channel_sql(key)
    kinds = sorted({*tap_kinds, FOLLOW})
    with connection.cursor() as cursor:
        # A tap is grouped per fan, day and button; a follow stays a row of its own (follow_id), its
        # channel where a tap has its button, so that one scan serves both.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_SCAN} AS SELECT account_id, openid, day, button, follow_id,"  # noqa: S608
            " MIN(wechat_time) AS at, COUNT(*) AS clicks FROM (SELECT e.account_id, e.openid,"
            " CASE WHEN e.kind = %s THEN e.id END AS follow_id,"
            f" CASE WHEN e.kind = %s THEN NULL ELSE {day} END AS day,"
            f" CASE WHEN e.kind = %s THEN {channel} ELSE substr({key}, 1, {BUTTON_KEY_MAX}) END AS button,"
            " e.wechat_time FROM events_event e"
            f" WHERE e.id <= %s AND e.kind IN ({', '.join(['%s'] * len(kinds))})) t"
            " WHERE follow_id IS NOT NULL OR (button IS NOT NULL AND button <> '')"
            " GROUP BY account_id, openid, day, button, follow_id",
            [FOLLOW, FOLLOW, *day_params, FOLLOW, *channel_params, last_id, *kinds],
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_FOLLOWS} AS SELECT account_id, openid, button AS channel,"  # noqa: S608
            " at AS first_follow_at, follow_id AS first_follow_id FROM ("
            " SELECT account_id, openid, button, at, follow_id,"
            " ROW_NUMBER() OVER (PARTITION BY account_id, openid ORDER BY at, follow_id) AS nth"
            f" FROM {_SCAN} WHERE follow_id IS NOT NULL) t WHERE nth = 1"
        )
        cursor.execute(f"CREATE UNIQUE INDEX {_FOLLOWS}_fan ON {_FOLLOWS} (account_id, openid)")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_TAPS} AS SELECT s.account_id, COALESCE(f.channel, '') AS channel,"  # noqa: S608
            f" s.day, s.button, s.openid, s.clicks FROM {_SCAN} s LEFT JOIN {_FOLLOWS} f"
            " ON f.account_id = s.account_id AND f.openid = s.openid WHERE s.follow_id IS NULL"
        )
        cursor.execute(f"DROP TABLE {_temp_schema()}.{_SCAN}")
        # Summed here, not in the write transaction: a GROUP BY over every fan's tap days.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_DAYS} AS SELECT account_id, day, button, channel,"  # noqa: S608
            f" SUM(clicks) AS clicks, COUNT(*) AS fans FROM {_TAPS} GROUP BY account_id, day, button, channel"
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_GAPS} AS {_gap_select(_TAPS, '1 = 1')}",
            [date_param(sql)(NO_PREVIOUS_DAY)],
        )
        cursor.execute(f"CREATE TEMPORARY TABLE {_LASTS} AS {_last_select(_TAPS, '1 = 1')}")
        every = _every_channel(_TAPS, "COUNT(*)", _GAPS, _LASTS, "1 = 1")
        for (_target, _columns, staged), select in zip(_EVERY, every, strict=True):
            cursor.execute(f"CREATE TEMPORARY TABLE {staged} AS {select}")


def copies() -> list[StagedCopy]:
    """What moves the staged rows into the (empty) tables."""
    fans = "account_id, day, button, openid, channel"
    days = "account_id, day, button, channel, clicks, fans"
    follows = "account_id, openid, channel, first_follow_at, first_follow_id"
    return [
        replace(
            StagedCopy.of("menus_menuclickfan", fans, _TAPS, order="account_id, day, button, openid"),
            defer_indexes=True,
        ),
        StagedCopy.of("menus_menuclickday", days, _DAYS),
        StagedCopy.of("menus_menuclickgap", GAP_COLUMNS, _GAPS),
        StagedCopy.of("menus_menuclicklast", LAST_COLUMNS, _LASTS),
        *(StagedCopy.of(target, columns, staged) for target, columns, staged in _EVERY),
        StagedCopy.of("menus_menuclickfollow", follows, _FOLLOWS, order="account_id, openid"),
    ]


def drop_bulk() -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = _temp_schema()
    with connection.cursor() as cursor:
        for table in (_SCAN, _FOLLOWS, _TAPS, _DAYS, _GAPS, _LASTS, *(staged for _t, _c, staged in _EVERY)):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")


def _temp_schema() -> str:
    return "pg_temp" if connection.vendor == "postgresql" else "temp"
