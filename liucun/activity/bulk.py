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
    back, and dormant = active in the period before - back. The channel is looked up per fan and period,
    not per event.
Every staged row has a count above zero, so no all-zero row is made. TEMP tables hold the rows to copy;
only the copy runs inside the write transaction (on SQLite, with the lock callbacks wait for).

The statements are the same on both databases but for how a TEMP table is made and filled (_create,
_accumulate): SQLite has no hash aggregation (a GROUP BY sorts every row it reads), so its tables are kept
in key order, where a GROUP BY on a prefix of the key is a walk; PostgreSQL hashes.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from liucun.activity.definitions import ACTIVE_KINDS, PERIODS
from liucun.events.kinds import FOLLOW
from liucun.readmodels.bulksql import local_day, payload_text
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


def copy() -> None:
    """Copy the staged rows into the (empty) tables: the part that runs in the write transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO activity_activitykindday (account_id, day, kind, channel, events, fans)"  # noqa: S608
            f" SELECT account_id, day, kind, channel, events, fans FROM {_KIND_DAYS}"
        )
        cursor.execute(
            "INSERT INTO activity_activityperiod"  # noqa: S608
            ' (account_id, granularity, start, channel, active, new, "returning", resurrecting, dormant)'
            " SELECT account_id, granularity, start, channel, active, new, back, revived, dormant"
            f" FROM {_PERIODS}"
        )
        columns = (
            "account_id, openid, last_at, last_event_id, kind_days, channel, first_follow_at, first_follow_id"
        )
        cursor.execute(
            f"INSERT INTO activity_activityfancursor ({columns})"  # noqa: S608
            f" SELECT {columns} FROM {_CURSORS} ORDER BY account_id, openid"
        )


def drop(*tables: str) -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if _postgres() else "temp"
    with connection.cursor() as cursor:
        for table in tables or (*_WORK, *_STAGED):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")


def _stage_events(cursor: Any, last_id: int, tz: ZoneInfo) -> None:
    kinds = sorted(ACTIVE_KINDS | {FOLLOW})
    day, day_params = _day_of("e.wechat_time", tz)
    scene, prefix = payload_text("e.payload", "EventKey"), len(QR_SCENE_PREFIX)
    # A follow's channel as daily_follows.follow_channel gives it; NULL for an interaction. The payload is
    # read for follows only.
    channel = (
        f"CASE WHEN e.kind = %s THEN CASE WHEN substr(COALESCE({scene}, ''), 1, {prefix}) = %s"
        f" THEN substr({scene}, {prefix + 1}) ELSE '' END END"
    )
    key = "account_id, openid, kind, day, wechat_time, id"
    _create(
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
    scan, order = (
        ("events_event e", "") if _postgres() else ("events_event e NOT INDEXED", f" ORDER BY {key}")
    )
    cursor.execute(
        f"INSERT INTO {_EVENTS} SELECT * FROM ("  # noqa: S608 (names and expressions are ours)
        f" SELECT e.account_id, e.openid, e.kind, {day} AS day, e.wechat_time, e.id, {channel} AS channel"
        f" FROM {scan} WHERE e.id <= %s AND e.kind IN ({', '.join(['%s'] * len(kinds))})) t{order}",
        [*day_params, FOLLOW, QR_SCENE_PREFIX, last_id, *kinds],
    )
    _analyze(cursor, _EVENTS)


def _stage_channels(cursor: Any) -> None:
    """Per fan that followed: the channel, WeChat time and id of the fan's first follow. Every later step
    reads only interactions from the staged events (kind <> follow)."""
    _create(
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
    _analyze(cursor, _CHANNELS)


def _per_fan(columns: str, table: str, rest: str) -> str:
    """SELECT `columns` from the rows of `table` (alias e, keyed by fan first) joined to their fan's row of
    _FANS (alias fan: the channel), then `rest`. SQLite walks the fans and each fan's rows by key (CROSS
    JOIN keeps that order): a lookup per fan, where joining the channel per row would cost one per row,
    and a GROUP BY the fan and the rest of the table's key stays a walk. PostgreSQL hashes."""
    return (
        f"SELECT {columns} FROM {_FANS} fan {_fans_first()} {table} e"  # noqa: S608
        f" ON e.account_id = fan.account_id AND e.openid = fan.openid {rest}"
    )


def _stage_kind_days(cursor: Any) -> None:
    _create(
        cursor,
        _KIND_DAYS,
        "account_id bigint, day {date}, kind {text}, channel {text}, events bigint, fans bigint",
        "account_id, day, kind, channel",
    )
    _accumulate(
        cursor,
        _KIND_DAYS,
        key="account_id, day, kind, channel",
        values=[("events", "sum", "events"), ("fans", "sum", "1")],
        source=_per_fan(
            "fan.account_id, e.day, e.kind, MIN(fan.channel) AS channel, COUNT(*) AS events",
            _EVENTS,
            "WHERE e.kind <> %s GROUP BY fan.account_id, fan.openid, e.kind, e.day",
        ),
        params=[FOLLOW],
    )


def _stage_cursors(cursor: Any) -> None:
    """Per fan: the latest interaction by (WeChat time, id), and `json.dumps({kind: latest day of that
    kind}, sort_keys=True)` as the replay writes it: a member per kind in sort_keys' order, its text up to
    the day made by json.dumps itself, the members joined with json.dumps' separator."""
    _create(
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
    _create(cursor, _KIND_JSON, "account_id bigint, openid {text}, kind_days text", "account_id, openid")
    cursor.execute(
        f"INSERT INTO {_KIND_JSON} SELECT account_id, openid,"  # noqa: S608
        f" '{{' || substr({' || '.join([member] * len(kinds))}, 3) || '}}' FROM {_FAN_KINDS}"
        " GROUP BY account_id, openid",
        params,
    )
    _analyze(cursor, _KIND_JSON)
    # Per fan who interacted, with the fan's channel ("" without a follow) and first follow.
    _create(
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
    _analyze(cursor, _LATEST)
    # The channel of every fan who interacted, for the counts: what _per_fan joins. On SQLite a table with
    # a unique key of non-null columns: only through such an index does SQLite see that walking the fans
    # and each fan's rows in key order gives the rows in the order of a GROUP BY the fan and the rest of
    # the key (a WITHOUT ROWID table's key, oddly, is not enough), so that such a GROUP BY never sorts.
    if _postgres():
        _create(cursor, _FANS, "account_id bigint, openid {text}, channel {text}", "account_id, openid")
    else:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_FANS} (account_id bigint NOT NULL, openid text NOT NULL, channel text,"
            " UNIQUE (account_id, openid))"
        )
    cursor.execute(f"INSERT INTO {_FANS} SELECT account_id, openid, channel FROM {_LATEST}")  # noqa: S608
    _analyze(cursor, _FANS)
    # The latest interaction is on the fan's latest day, at its latest time; of several at that very
    # time, the one with the highest id. Fans who only followed get a cursor too (their channel).
    # (On SQLite, CROSS JOIN keeps the fans outside: a lookup per fan, not per event.)
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_CURSORS} AS"  # noqa: S608
        " SELECT l.account_id, l.openid, MIN(l.last_at) AS last_at, MAX(e.id) AS last_event_id,"
        "  MIN(l.kind_days) AS kind_days, MIN(l.channel) AS channel, MIN(l.first_at) AS first_follow_at,"
        "  MIN(l.first_id) AS first_follow_id"
        f" FROM {_LATEST} l {_fans_first()} {_EVENTS} e"
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
    _create(cursor, _CALENDAR, "day {date}, " + ", ".join(f"{c} bigint" for c in columns), "day")
    cursor.executemany(
        f"INSERT INTO {_CALENDAR} (day, {', '.join(columns)})"  # noqa: S608
        f" VALUES (%s, {', '.join(['%s'] * len(columns))})",
        [(value, *(numbers[g][PERIODS[g][0](day)] for g in _FAN_PERIODS)) for value, day in days.items()],
    )
    _analyze(cursor, _CALENDAR)
    _create(cursor, _STARTS, "granularity {text}, seq bigint, start {date}", "granularity, seq")
    cursor.executemany(f"INSERT INTO {_STARTS} (granularity, seq, start) VALUES (%s, %s, %s)", starts)  # noqa: S608


def _stage_fan_days(cursor: Any) -> None:
    _create(
        cursor,
        _FAN_DAYS,
        "account_id bigint, openid {text}, seq bigint, w_seq bigint, m_seq bigint",
        "account_id, openid, seq",
    )
    _accumulate(
        cursor,
        _FAN_DAYS,
        key="account_id, openid, seq",
        values=[("w_seq", "same", "w_seq"), ("m_seq", "same", "m_seq")],
        source=f"SELECT e.account_id, e.openid, c.d_seq AS seq, c.w_seq, c.m_seq FROM {_EVENTS} e"  # noqa: S608
        f" JOIN {_CALENDAR} c ON c.day = e.day WHERE e.kind <> %s",
        params=[FOLLOW],
    )
    _analyze(cursor, _FAN_DAYS)


def _stage_periods(cursor: Any) -> None:
    """Per account, granularity and period start: active, new, returning, resurrecting and dormant."""
    for table, column in _FAN_PERIODS.values():
        if table != _FAN_DAYS:
            _create(cursor, table, "account_id bigint, openid {text}, seq bigint", "account_id, openid, seq")
            # A fan's days are read in order, so its weeks and months come in the table's order too.
            _accumulate(
                cursor,
                table,
                key="account_id, openid, seq",
                values=[],
                source=f"SELECT account_id, openid, {column} AS seq FROM {_FAN_DAYS}",  # noqa: S608
            )
            _analyze(cursor, table)
    _create(
        cursor,
        _COUNTS,
        "account_id bigint, granularity {text}, channel {text}, seq bigint,"
        " active bigint DEFAULT 0, back bigint DEFAULT 0, new bigint DEFAULT 0",
        "account_id, granularity, channel, seq",
    )
    key = "account_id, granularity, channel, seq"
    for granularity, (table, _column) in _FAN_PERIODS.items():
        _accumulate(
            cursor,
            _COUNTS,
            key=key,
            values=[("active", "sum", "1"), ("back", "sum", "back")],
            source=_with_back(table),
            params=[granularity],
        )
        _accumulate(
            cursor,
            _COUNTS,
            key=key,
            values=[("new", "sum", "1")],
            source=_per_fan(
                "fan.account_id, CAST(%s AS text) AS granularity, MIN(fan.channel) AS channel,"
                " MIN(e.seq) AS seq",
                table,
                "GROUP BY fan.account_id, fan.openid",
            ),
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
    columns = "e.account_id, CAST(%s AS text) AS granularity, fan.channel, e.seq"
    if _postgres():
        return _per_fan(
            f"{columns}, CASE WHEN LAG(e.seq) OVER (PARTITION BY e.account_id, e.openid ORDER BY e.seq)"
            " = e.seq - 1 THEN 1 ELSE 0 END AS back",
            table,
            "",
        )
    return _per_fan(
        f"{columns}, CASE WHEN b.seq IS NULL THEN 0 ELSE 1 END AS back",
        table,
        f"LEFT JOIN {table} b ON b.account_id = e.account_id AND b.openid = e.openid AND b.seq = e.seq - 1",
    )


def _fans_first() -> str:
    """The join of a table of fans to the rows of each: on SQLite a CROSS JOIN, which SQLite never reorders,
    so the fans are walked and each fan's rows looked up once (it might otherwise walk the rows and look
    the fan up for each); PostgreSQL chooses for itself (and knows no CROSS JOIN with a condition)."""
    return "JOIN" if _postgres() else "CROSS JOIN"


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _create(cursor: Any, table: str, columns: str, key: str) -> None:
    """A TEMP table. On SQLite it is keyed and keeps its rows in key order (WITHOUT ROWID): a GROUP BY on a
    prefix of the key walks them instead of sorting, a join on the key is a lookup, and _accumulate adds
    into it. PostgreSQL hashes and sorts by itself; a key would only slow its inserts down."""
    if _postgres():
        # Text compared byte by byte, as SQLite does: cheaper to sort and hash than by the locale's rules.
        types = {"date": "date", "time": "timestamp with time zone", "text": 'text COLLATE "C"'}
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns.format(**types)})")
        return
    # As Django stores a DateField and a DateTimeField there (and as bulksql.local_day gives a day).
    types = {"date": "text", "time": "text", "text": "text"}
    cursor.execute(
        f"CREATE TEMPORARY TABLE {table} ({columns.format(**types)}, PRIMARY KEY ({key})) WITHOUT ROWID"
    )


def _accumulate(
    cursor: Any,
    table: str,
    *,
    key: str,
    values: list[tuple[str, str, str]],
    source: str,
    params: list[Any] | None = None,
) -> None:
    """Add the rows of `source` to `table` per `key`: each (column, how, expression) of `values` summed
    (how: "sum"), maximised ("max"), or taken as it is ("same": a function of the key); with no values,
    the distinct keys.

    SQLite has no hash aggregation: a GROUP BY sorts every row it reads, even into a few hundred groups.
    Adding each row into the keyed table (an UPSERT) costs about half that. On PostgreSQL an UPSERT writes
    a new row version each time, so there the rows are grouped first (by hashing); a key may then have a
    row from each call, and the readers of such a table sum or maximise per key again."""
    columns = ", ".join([key, *(column for column, _how, _expression in values)])
    if _postgres():
        grouped = {"sum": "SUM", "max": "MAX", "same": "MAX"}
        aggregates = "".join(f", {grouped[how]}({expression})" for _column, how, expression in values)
        statement = (
            f"INSERT INTO {table} ({columns}) SELECT {key}{aggregates} FROM ({source}) s GROUP BY {key}"  # noqa: S608
        )
    else:
        combined = {"sum": "{c} + excluded.{c}", "max": "max({c}, excluded.{c})"}
        updates = ", ".join(
            f"{column} = {combined[how].format(c=column)}" for column, how, _e in values if how != "same"
        )
        expressions = "".join(f", {expression}" for _column, _how, expression in values)
        statement = (
            f"INSERT INTO {table} ({columns}) SELECT {key}{expressions} FROM ({source}) s WHERE true"  # noqa: S608
            f" ON CONFLICT ({key}) DO {f'UPDATE SET {updates}' if updates else 'NOTHING'}"
        )
    cursor.execute(statement, params or [])


def _analyze(cursor: Any, table: str) -> None:
    # PostgreSQL's autovacuum never sees TEMP tables: without statistics the planner guesses one row for a
    # join on four columns and loops over millions. SQLite plans from the keys alone.
    if _postgres():
        cursor.execute(f"ANALYZE {table}")


def _date_value(day: date) -> Any:
    return day if _postgres() else day.isoformat()


def _day_text(expression: str) -> str:
    """A day as 'YYYY-MM-DD', as date.isoformat() writes it."""
    return f"to_char({expression}, 'YYYY-MM-DD')" if _postgres() else expression


# SQLite has no time-zone database, so bulksql.local_day calls Python for every row: about 2.5 µs, two
# minutes for a year of a million fans. Between two changes of the zone's offset, the day is SQLite's
# date() of the stored text plus that offset; times before or after these years, or not stored as Django
# stores them ('YYYY-MM-DD HH:MM:SS[.ffffff]', naive UTC), are still left to the Python function.
_FAST_FROM = datetime(2000, 1, 1, tzinfo=UTC)
_FAST_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)


def _day_of(column: str, tz: ZoneInfo) -> tuple[str, list[str]]:
    """An SQL expression for the day of the UTC timestamp `column` in `tz`, as bulksql.local_day gives
    it, and its parameters."""
    slow, params = local_day(column, tz)
    if _postgres():
        return slow, params

    def between(spans: tuple[tuple[str, int], ...]) -> str:
        if len(spans) == 1:
            # Cut to the second: midnights fall on whole seconds, so the day is the same, and date()
            # rounds a fraction to milliseconds (23:59:59.9999 would be the next day).
            return f"date(substr({column}, 1, 19), '{spans[0][1]:+d} seconds')"
        half = len(spans) // 2
        earlier, later = between(spans[:half]), between(spans[half:])
        return f"CASE WHEN {column} < '{spans[half][0]}' THEN {earlier} ELSE {later} END"

    return (
        f"CASE WHEN {column} >= '{_stored(_FAST_FROM)}' AND {column} < '{_stored(_FAST_UNTIL)}'"
        f" AND substr({column}, 11, 1) = ' ' THEN {between(_offset_spans(tz.key))} ELSE {slow} END",
        params,
    )


@lru_cache(maxsize=16)
def _offset_spans(zone: str) -> tuple[tuple[str, int], ...]:
    """From _FAST_FROM to _FAST_UNTIL: each change of the zone's UTC offset (as stored text) and the offset
    from then on, in seconds. Found by sampling every six hours (no zone changes its offset twice within
    six hours) and bisecting to the second."""
    tz = ZoneInfo(zone)

    def offset(seconds: int) -> int:
        utcoffset = datetime.fromtimestamp(seconds, UTC).astimezone(tz).utcoffset()
        assert utcoffset is not None
        return int(utcoffset.total_seconds())

    start, until, step = int(_FAST_FROM.timestamp()), int(_FAST_UNTIL.timestamp()), 6 * 3600
    spans = [(start, offset(start))]
    for sample in range(start, until, step):
        later = min(sample + step, until)
        if offset(later) == spans[-1][1]:
            continue
        low, high = sample, later  # offset(low) is the current one, offset(high) the next
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if offset(middle) == spans[-1][1] else (low, middle)
        spans.append((high, offset(high)))
    return tuple((_stored(datetime.fromtimestamp(moment, UTC)), seconds) for moment, seconds in spans)


def _stored(moment: datetime) -> str:
    # What Django's SQLite backend stores for an aware datetime: naive UTC, a space between date and time.
    return str(moment.astimezone(UTC).replace(tzinfo=None))
