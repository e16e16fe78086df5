"""The fan-activity tables rebuilt set-based: definitions.contribution in SQL (Consumer.rebuild_bulk, ADR 21).

A year at 1,000,000 fans is about 48 million events, nearly all of them interactions, so every step costs
per event and the shape is chosen for that. One plain scan of the event store stages the interactions
(ACTIVE_KINDS) and follows with id <= last_id, with their China day (and a follow's QR scene), in fan
order: (account, openid, kind, day, WeChat time, id). The rest reads that table in its order or looks keys
up in it:
  - the fan's channel: the scene of the fan's first follow by (WeChat time, id) (a window over the follows
    alone, a few percent of the rows), one row per fan that followed; a fan without one is in "";
  - ActivityKindDay: events per fan, kind and day, summed per day, kind and the fan's channel (fans: how
    many such rows);
  - the cursor: the fan's latest day, its latest WeChat time, the highest id at that time (so the latest
    interaction by (WeChat time, id)), and its latest day of each kind, written as json.dumps(...,
    sort_keys=True) writes it; with the fan's channel and first follow, and a cursor for every fan that
    only followed;
  - ActivityPeriod: the fan's distinct active days, weeks and months, numbered through a small calendar
    (made in Python from definitions.PERIODS for the days that occur) so that the period after number n is
    n + 1. Per period and channel: active fans; back, those also active in the period before (a key
    lookup); new, those whose first period it is. Then returning = back, resurrecting = active - new -
    back, and dormant = active in the period before - back.
The channel is joined once per fan (the fans walked, and each fan's rows by key: _per_fan), never per event.
Every staged row has a count above zero, so no all-zero row is made. TEMP tables hold the rows to copy;
only the copy runs inside the write transaction (on SQLite, with the lock callbacks wait for).

The statements are the same on both databases but for how a TEMP table is made, filled and joined to the
fans (bulk_tables.py), and the day of a time (bulk_day.py).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from liucun.activity.bulk_day import day_of
from liucun.activity.bulk_tables import accumulate, fans_first
from liucun.activity.definitions import ACTIVE_KINDS, PERIODS
from liucun.events.kinds import FOLLOW
from liucun.readmodels.bulksql import analyze_temp, payload_text, postgres, temp_table
from liucun.readmodels.consumer import StagedCopy
from liucun.wechat.messages import QR_SCENE_PREFIX

_EVENTS = "liucun_bulk_activity_events"
_CHANNELS = "liucun_bulk_activity_channels"
_KIND_DAYS = "liucun_bulk_activity_kind_days"
_FAN_KINDS = "liucun_bulk_activity_fan_kinds"
_KIND_JSON = "liucun_bulk_activity_kind_json"
_LATEST = "liucun_bulk_activity_latest"
_FANS = "liucun_bulk_activity_fans"
_CURSORS = "liucun_bulk_activity_cursors"
_CALENDAR = "liucun_bulk_activity_calendar"
_STARTS = "liucun_bulk_activity_starts"
_FAN_DAYS = "liucun_bulk_activity_fan_days"
_FAN_WEEKS = "liucun_bulk_activity_fan_weeks"
_FAN_MONTHS = "liucun_bulk_activity_fan_months"
_COUNTS = "liucun_bulk_activity_counts"
_PERIODS = "liucun_bulk_activity_periods"
_STAGED = (_KIND_DAYS, _CURSORS, _PERIODS)  # what copy() reads
_WORK = (
    _EVENTS,
    _CHANNELS,
    _FAN_KINDS,
    _KIND_JSON,
    _LATEST,
    _FANS,
    _CALENDAR,
    _STARTS,
    _FAN_DAYS,
    _FAN_WEEKS,
    _FAN_MONTHS,
    _COUNTS,
)
# Per granularity (definitions.PERIODS' keys): the table of each fan's distinct periods, and the calendar's
# column numbering them (the fans' days carry their weeks' and months' numbers too).
_FAN_PERIODS = {"d": (_FAN_DAYS, "d_seq"), "w": (_FAN_WEEKS, "w_seq"), "m": (_FAN_MONTHS, "m_seq")}
assert set(_FAN_PERIODS) == set(PERIODS)


def stage(last_id: int, tz: ZoneInfo) -> None:
    """Fill the TEMP tables copy() reads from the interactions with id <= last_id (reads the store only)."""
    drop()
    with connection.cursor() as cursor:
        _stage_events(cursor, last_id, tz)
        _stage_channels(cursor)
        _stage_cursors(cursor)
        _stage_kind_days(cursor)
        _stage_calendar(cursor)
        _stage_fan_days(cursor)
    # Gone as soon as they are used up: SQLite keeps TEMP tables in memory, and reuses their pages.
    drop(_EVENTS, _CHANNELS, _FAN_KINDS, _KIND_JSON, _LATEST)
    with connection.cursor() as cursor:
        _stage_periods(cursor)
    drop(*_WORK)


def copies() -> list[StagedCopy]:
    """What moves the staged rows into the (empty) tables."""
    kind_days = "account_id, day, kind, channel, events, fans"
    cursors = (
        "account_id, openid, last_at, last_event_id, kind_days, channel, first_follow_at, first_follow_id"
    )
    return [
        StagedCopy.of("activity_activitykindday", kind_days, _KIND_DAYS),
        StagedCopy(
            "activity_activityperiod",
            'account_id, granularity, start, channel, active, new, "returning", resurrecting, dormant',
            "SELECT account_id, granularity, start, channel, active, new, back, revived, dormant"  # noqa: S608
            f" FROM {_PERIODS}",
        ),
        StagedCopy.of("activity_activityfancursor", cursors, _CURSORS, order="account_id, openid"),
    ]


def drop(*tables: str) -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if postgres() else "temp"
    with connection.cursor() as cursor:
        for table in tables or (*_WORK, *_STAGED):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")


def _stage_events(cursor: Any, last_id: int, tz: ZoneInfo) -> None:
    kinds = sorted(ACTIVE_KINDS | {FOLLOW})
    day, day_params = day_of("e.wechat_time", tz)
    scene, prefix = payload_text("e.payload", "EventKey"), len(QR_SCENE_PREFIX)
    # A follow's channel as daily_follows.follow_channel gives it; NULL for an interaction. The payload is
    # read for follows only.
    channel = (
        f"CASE WHEN e.kind = %s THEN CASE WHEN substr(COALESCE({scene}, ''), 1, {prefix}) = %s"
        f" THEN substr({scene}, {prefix + 1}) ELSE '' END END"
    )
    key = "account_id, openid, kind, day, wechat_time, id"
    temp_table(
        cursor,
        _EVENTS,
        "account_id bigint, openid {text}, kind {text}, day {date}, wechat_time {time}, id bigint,"
        " channel {text}",
        key,
    )
    # A plain scan of the store (it has no index by kind); on SQLite then one sort into the table's order:
    # appending in order costs less than putting each event in its place (callbacks come in time order,
    # not by fan). Asked for that order outright, SQLite would walk the fan-timeline index instead, a
    # random read of the table per event.
    scan, order = ("events_event e", "") if postgres() else ("events_event e NOT INDEXED", f" ORDER BY {key}")
    cursor.execute(
        f"INSERT INTO {_EVENTS} SELECT * FROM ("  # noqa: S608 (names and expressions are ours)
        f" SELECT e.account_id, e.openid, e.kind, {day} AS day, e.wechat_time, e.id, {channel} AS channel"
        f" FROM {scan} WHERE e.id <= %s AND e.kind IN ({', '.join(['%s'] * len(kinds))})) t{order}",
        [*day_params, FOLLOW, QR_SCENE_PREFIX, last_id, *kinds],
    )
    analyze_temp(cursor, _EVENTS)


def _stage_channels(cursor: Any) -> None:
    """Per fan that followed: the channel, WeChat time and id of the fan's first follow. Every later step
    reads only interactions from the staged events (kind <> follow)."""
    temp_table(
        cursor,
        _CHANNELS,
        "account_id bigint, openid {text}, channel {text}, first_at {time}, first_id bigint",
        "account_id, openid",
    )
    cursor.execute(
        f"INSERT INTO {_CHANNELS} SELECT account_id, openid, channel, wechat_time, id FROM ("  # noqa: S608
        "  SELECT account_id, openid, channel, wechat_time, id, ROW_NUMBER() OVER"
        "   (PARTITION BY account_id, openid ORDER BY wechat_time, id) AS nth"
        f"  FROM {_EVENTS} WHERE kind = %s"
        ") t WHERE nth = 1",
        [FOLLOW],
    )
    analyze_temp(cursor, _CHANNELS)


def _per_fan(columns: str, table: str, *, more: str = "", group: str | None = None) -> str:
    """account_id, openid, `columns` and the fan's channel from the rows of `table` (alias e, keyed by fan
    first), after `more` (joins, a WHERE), grouped per fan and `group` (None: not grouped).

    SQLite walks the fans (_FANS) and each fan's rows by key (a CROSS JOIN, which it never reorders): a
    lookup per fan where joining the channel to every row would cost one per row, and a GROUP BY the fan
    (as named in _FANS) and the rest of the table's key stays a walk. PostgreSQL hashes: there the rows are
    grouped (or windowed) first and the channel joined to what is left, which measured cheaper than
    hashing every row into the join."""
    if postgres():
        grouping = "" if group is None else f" GROUP BY e.account_id, e.openid{group and ', ' + group}"
        return (
            f"SELECT g.*, fan.channel FROM (SELECT e.account_id, e.openid, {columns} FROM {table} e {more}"  # noqa: S608
            f"{grouping}) g JOIN {_FANS} fan ON fan.account_id = g.account_id AND fan.openid = g.openid"
        )
    grouping = "" if group is None else f" GROUP BY fan.account_id, fan.openid{group and ', ' + group}"
    return (
        f"SELECT e.account_id, e.openid, {columns}, fan.channel FROM {_FANS} fan CROSS JOIN {table} e"  # noqa: S608
        f" ON e.account_id = fan.account_id AND e.openid = fan.openid {more}{grouping}"
    )


def _stage_kind_days(cursor: Any) -> None:
    temp_table(
        cursor,
        _KIND_DAYS,
        "account_id bigint, day {date}, kind {text}, channel {text}, events bigint, fans bigint",
        "account_id, day, kind, channel",
    )
    accumulate(
        cursor,
        _KIND_DAYS,
        key="account_id, day, kind, channel",
        values=[("events", "sum", "events"), ("fans", "sum", "1")],
        source=_per_fan(
            "e.day, e.kind, COUNT(*) AS events", _EVENTS, more="WHERE e.kind <> %s", group="e.kind, e.day"
        ),
        params=[FOLLOW],
    )


def _stage_cursors(cursor: Any) -> None:
    """Per fan: the latest interaction by (WeChat time, id), and `json.dumps({kind: latest day of that
    kind}, sort_keys=True)` as the replay writes it: a member per kind in sort_keys' order, its text up to
    the day made by json.dumps itself, the members joined with json.dumps' separator."""
    temp_table(
        cursor,
        _FAN_KINDS,
        "account_id bigint, openid {text}, kind {text}, latest {date}",
        "account_id, openid, kind",
    )
    cursor.execute(
        f"INSERT INTO {_FAN_KINDS} SELECT account_id, openid, kind, MAX(day) FROM {_EVENTS}"  # noqa: S608
        " WHERE kind <> %s GROUP BY account_id, openid, kind",
        [FOLLOW],
    )
    kinds = sorted(ACTIVE_KINDS)
    member = (
        f"COALESCE(CAST(%s AS text) || {_day_text('MAX(CASE WHEN kind = %s THEN latest END)')} || '\"', '')"
    )
    params = [p for kind in kinds for p in (", " + json.dumps({kind: ""})[1:-2], kind)]
    temp_table(cursor, _KIND_JSON, "account_id bigint, openid {text}, kind_days text", "account_id, openid")
    cursor.execute(
        f"INSERT INTO {_KIND_JSON} SELECT account_id, openid,"  # noqa: S608
        f" '{{' || substr({' || '.join([member] * len(kinds))}, 3) || '}}' FROM {_FAN_KINDS}"
        " GROUP BY account_id, openid",
        params,
    )
    analyze_temp(cursor, _KIND_JSON)
    # Per fan who interacted, with the fan's channel ("" without a follow) and first follow.
    temp_table(
        cursor,
        _LATEST,
        "account_id bigint, openid {text}, last_day {date}, last_at {time}, kind_days text, channel {text},"
        " first_at {time}, first_id bigint",
        "account_id, openid",
    )
    cursor.execute(
        f"INSERT INTO {_LATEST} SELECT t.account_id, t.openid, t.last_day, t.last_at, j.kind_days,"  # noqa: S608
        "  COALESCE(c.channel, ''), c.first_at, c.first_id FROM ("
        f" SELECT account_id, openid, MAX(day) AS last_day, MAX(wechat_time) AS last_at FROM {_EVENTS}"
        "  WHERE kind <> %s GROUP BY account_id, openid"
        f") t JOIN {_KIND_JSON} j ON j.account_id = t.account_id AND j.openid = t.openid"
        f" LEFT JOIN {_CHANNELS} c ON c.account_id = t.account_id AND c.openid = t.openid",
        [FOLLOW],
    )
    analyze_temp(cursor, _LATEST)
    # The channel of every fan who interacted, for the counts: what _per_fan joins. On SQLite a table with
    # a unique key of non-null columns: only through such an index does SQLite see that walking the fans
    # and each fan's rows in key order gives the rows in the order of a GROUP BY the fan and the rest of
    # the key (a WITHOUT ROWID table's key, oddly, is not enough), so that such a GROUP BY never sorts.
    if postgres():
        temp_table(cursor, _FANS, "account_id bigint, openid {text}, channel {text}", "account_id, openid")
    else:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_FANS} (account_id bigint NOT NULL, openid text NOT NULL, channel text,"
            " UNIQUE (account_id, openid))"
        )
    cursor.execute(f"INSERT INTO {_FANS} SELECT account_id, openid, channel FROM {_LATEST}")  # noqa: S608
    analyze_temp(cursor, _FANS)
    # The latest interaction is on the fan's latest day, at its latest time; of several at that very
    # time, the one with the highest id. Fans who only followed get a cursor too (their channel).
    # (On SQLite, CROSS JOIN keeps the fans outside: a lookup per fan, not per event.)
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_CURSORS} AS"  # noqa: S608
        " SELECT l.account_id, l.openid, MIN(l.last_at) AS last_at, MAX(e.id) AS last_event_id,"
        "  MIN(l.kind_days) AS kind_days, MIN(l.channel) AS channel, MIN(l.first_at) AS first_follow_at,"
        "  MIN(l.first_id) AS first_follow_id"
        f" FROM {_LATEST} l {fans_first()} {_EVENTS} e"
        "  ON e.account_id = l.account_id AND e.openid = l.openid AND e.day = l.last_day"
        "  AND e.wechat_time = l.last_at AND e.kind <> %s"
        " GROUP BY l.account_id, l.openid"
        " UNION ALL"
        " SELECT c.account_id, c.openid, NULL, NULL, '{}', c.channel, c.first_at, c.first_id"
        f" FROM {_CHANNELS} c WHERE NOT EXISTS (SELECT 1 FROM {_LATEST} l"
        "  WHERE l.account_id = c.account_id AND l.openid = c.openid)",
        [FOLLOW],
    )


def _stage_calendar(cursor: Any) -> None:
    """Number every period of the days that occur (and the period after each) so that a period's
    successor is its number plus one: the periods as definitions.PERIODS cuts them, as integers."""
    cursor.execute(f"SELECT DISTINCT day FROM {_KIND_DAYS}")  # noqa: S608
    days = {value: value if isinstance(value, date) else date.fromisoformat(value) for (value,) in cursor}
    numbers: dict[str, dict[date, int]] = {}
    starts: list[tuple[str, int, Any]] = []
    for granularity, (period_of, after, _before) in PERIODS.items():
        numbered: dict[date, int] = {}
        if days:
            period, last = period_of(min(days.values())), after(period_of(max(days.values())))
            while period <= last:
                numbered[period] = len(numbered)
                starts.append((granularity, numbered[period], _date_value(period)))
                period = after(period)
        numbers[granularity] = numbered
    columns = [column for _table, column in _FAN_PERIODS.values()]
    temp_table(cursor, _CALENDAR, "day {date}, " + ", ".join(f"{c} bigint" for c in columns), "day")
    cursor.executemany(
        f"INSERT INTO {_CALENDAR} (day, {', '.join(columns)})"  # noqa: S608
        f" VALUES (%s, {', '.join(['%s'] * len(columns))})",
        [(value, *(numbers[g][PERIODS[g][0](day)] for g in _FAN_PERIODS)) for value, day in days.items()],
    )
    analyze_temp(cursor, _CALENDAR)
    temp_table(cursor, _STARTS, "granularity {text}, seq bigint, start {date}", "granularity, seq")
    cursor.executemany(f"INSERT INTO {_STARTS} (granularity, seq, start) VALUES (%s, %s, %s)", starts)  # noqa: S608


def _stage_fan_days(cursor: Any) -> None:
    temp_table(
        cursor,
        _FAN_DAYS,
        "account_id bigint, openid {text}, seq bigint, w_seq bigint, m_seq bigint",
        "account_id, openid, seq",
    )
    accumulate(
        cursor,
        _FAN_DAYS,
        key="account_id, openid, seq",
        values=[("w_seq", "same", "w_seq"), ("m_seq", "same", "m_seq")],
        source=f"SELECT e.account_id, e.openid, c.d_seq AS seq, c.w_seq, c.m_seq FROM {_EVENTS} e"  # noqa: S608
        f" JOIN {_CALENDAR} c ON c.day = e.day WHERE e.kind <> %s",
        params=[FOLLOW],
    )
    analyze_temp(cursor, _FAN_DAYS)


def _stage_periods(cursor: Any) -> None:
    """Per account, granularity and period start: active, new, returning, resurrecting and dormant."""
    for table, column in _FAN_PERIODS.values():
        if table != _FAN_DAYS:
            temp_table(
                cursor, table, "account_id bigint, openid {text}, seq bigint", "account_id, openid, seq"
            )
            # A fan's days are read in order, so its weeks and months come in the table's order too.
            accumulate(
                cursor,
                table,
                key="account_id, openid, seq",
                values=[],
                source=f"SELECT account_id, openid, {column} AS seq FROM {_FAN_DAYS}",  # noqa: S608
            )
            analyze_temp(cursor, table)
    temp_table(
        cursor,
        _COUNTS,
        "account_id bigint, granularity {text}, channel {text}, seq bigint,"
        " active bigint DEFAULT 0, back bigint DEFAULT 0, new bigint DEFAULT 0",
        "account_id, granularity, channel, seq",
    )
    key = "account_id, granularity, channel, seq"
    for granularity, (table, _column) in _FAN_PERIODS.items():
        accumulate(
            cursor,
            _COUNTS,
            key=key,
            values=[("active", "sum", "1"), ("back", "sum", "back")],
            source=_with_back(table),
            params=[granularity],
        )
        accumulate(
            cursor,
            _COUNTS,
            key=key,
            values=[("new", "sum", "1")],
            source=_per_fan("CAST(%s AS text) AS granularity, MIN(e.seq) AS seq", table, group=""),
            params=[granularity],
        )
    # A few hundred rows per account from here on.
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_PERIODS} AS"  # noqa: S608
        " WITH totals AS ("
        "  SELECT account_id, granularity, channel, seq, SUM(active) AS active, SUM(back) AS back,"
        f"   SUM(new) AS new FROM {_COUNTS} GROUP BY account_id, granularity, channel, seq"
        " ), shares AS ("
        "  SELECT account_id, granularity, channel, seq, active, back, new, 0 AS active_before FROM totals"
        "  UNION ALL"
        "  SELECT account_id, granularity, channel, seq + 1, 0, 0, 0, active FROM totals"
        " ), period AS ("
        "  SELECT account_id, granularity, channel, seq, SUM(active) AS active, SUM(back) AS back,"
        "   SUM(new) AS new, SUM(active_before) - SUM(back) AS dormant"
        "  FROM shares GROUP BY account_id, granularity, channel, seq"
        " )"
        " SELECT p.account_id, p.granularity, s.start, p.channel, p.active, p.new, p.back,"
        "  p.active - p.new - p.back AS revived, p.dormant"
        f" FROM period p JOIN {_STARTS} s ON s.granularity = p.granularity AND s.seq = p.seq"
        " WHERE p.active > 0 OR p.dormant > 0"
    )


def _with_back(table: str) -> str:
    """The rows of a table of fans' periods with their granularity (a parameter), the fan's channel and
    `back`: 1 when the fan was active in the period before too. SQLite looks the period before up by key;
    PostgreSQL, which would sort the table twice for that join, reads the fan's previous period with LAG()
    in one sort."""
    columns = "CAST(%s AS text) AS granularity, e.seq"
    if postgres():
        return _per_fan(
            f"{columns}, CASE WHEN LAG(e.seq) OVER (PARTITION BY e.account_id, e.openid ORDER BY e.seq)"
            " = e.seq - 1 THEN 1 ELSE 0 END AS back",
            table,
        )
    return _per_fan(
        f"{columns}, CASE WHEN b.seq IS NULL THEN 0 ELSE 1 END AS back",
        table,
        more=f"LEFT JOIN {table} b ON b.account_id = e.account_id AND b.openid = e.openid"
        " AND b.seq = e.seq - 1",
    )


def _date_value(day: date) -> Any:
    return day if postgres() else day.isoformat()


def _day_text(expression: str) -> str:
    """A day as 'YYYY-MM-DD', as date.isoformat() writes it."""
    return f"to_char({expression}, 'YYYY-MM-DD')" if postgres() else expression
