"""The stays tables rebuilt set-based: consumer.contribution in SQL (Consumer.rebuild_bulk, ADR 21).

The follow periods are staged by readmodels/lifecycle_bulk.py (a follow when no period is open opens one,
the next unfollow, reconciled or not, ends it). Per period: its cohort day and channel (of the follow
that opened it), and for an ended one its bin, the bin (models.bin_of) of its whole days stayed,
floor((unfollow - follow) / 24 h) counted in microseconds as the replay's timedelta counts them. The
periods are counted per cohort day, channel and bin (a few thousand groups), then turned into one row per
cohort day and channel: fans, and gone_<s> for each bin. The cursor: the fan's latest event (time, id)
and, when it is a follow, the open period's start and channel.
TEMP tables hold the rows to copy: the copy is all that runs inside the write transaction.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from liucun.cohorts.models import BIN_COLUMNS, BIN_STARTS
from liucun.rawsql import Sql
from liucun.readmodels import bulksql, lifecycle_bulk
from liucun.readmodels.consumer import StagedCopy
from liucun.readmodels.lifecycle_bulk import EVENTS, PERIODS

_CELLS = "liucun_bulk_stays_cells"
_ROWS = "liucun_bulk_stays_rows"
_CURSORS = "liucun_bulk_stays_cursors"
DAY_MICROSECONDS = 86_400_000_000
SQLITE_STAY_DAYS = "liucun_stay_days"


def stage(last_id: int, tz: ZoneInfo) -> None:
    """Fill the TEMP tables copy() reads from the lifecycle events with id <= last_id (reads only)."""
    _drop_own()
    lifecycle_bulk.stage(last_id, tz, periods=True)
    stayed = stay_days("closed_at", "opened_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_CELLS} AS"  # noqa: S608 (names and expressions are ours)
            " SELECT account_id, open_day AS cohort_day, channel, gone, COUNT(*) AS periods FROM ("
            f"  SELECT account_id, open_day, channel, {bin_start('stayed')} AS gone FROM ("
            f"   SELECT account_id, open_day, channel, {stayed} AS stayed FROM {PERIODS}"
            "  ) p"
            " ) b GROUP BY account_id, open_day, channel, gone"
        )
        gone = ", ".join(
            f"SUM(CASE WHEN gone = {start} THEN periods ELSE 0 END) AS {column}"
            for start, column in zip(BIN_STARTS, BIN_COLUMNS, strict=True)
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_ROWS} AS"  # noqa: S608
            f" SELECT account_id, cohort_day, channel, SUM(periods) AS fans, {gone}"
            f" FROM {_CELLS} GROUP BY account_id, cohort_day, channel"
        )
        # Keyed by fan, so that on SQLite the copy in fan order (the order of the table's index) is a walk
        # rather than a sort inside the write transaction.
        bulksql.temp_table(
            cursor,
            _CURSORS,
            "account_id bigint, openid {text}, last_at {time}, last_event_id bigint, open_since {time},"
            " open_channel {text}",
            "account_id, openid",
        )
        # The period a fan's latest event is in is still open when that event is a follow.
        cursor.execute(
            f"INSERT INTO {_CURSORS} (account_id, openid, last_at, last_event_id, open_since, open_channel)"  # noqa: S608
            " SELECT e.account_id, e.openid, e.wechat_time, e.id, p.opened_at, COALESCE(p.channel, '')"
            f" FROM {EVENTS} e LEFT JOIN {PERIODS} p ON p.account_id = e.account_id"
            "  AND p.openid = e.openid AND p.grp = e.grp AND p.closed_at IS NULL"
            " WHERE e.is_last = 1"
        )


def copies() -> list[StagedCopy]:
    """What moves the staged rows into the (empty) tables."""
    stays = ", ".join(("account_id, cohort_day, channel, fans", *BIN_COLUMNS))
    cursors = "account_id, openid, last_at, last_event_id, open_since, open_channel"
    return [
        StagedCopy.of("cohorts_cohortstays", stays, _ROWS),
        StagedCopy.of("cohorts_stayfancursor", cursors, _CURSORS, order="account_id, openid"),
    ]


def drop() -> None:
    """Drop what stage() made, and let go of the lifecycle staging."""
    _drop_own()
    lifecycle_bulk.release()


def stay_days(until: str, since: str) -> str:
    """An SQL expression for floor((until - since) / 24 h) of two stored times, until >= since, exact to
    the microsecond as consumer.stay_days computes it (NULL when `until` is NULL)."""
    if bulksql.postgres():
        # EXTRACT gives numeric seconds: exact.
        return f"CAST(FLOOR((EXTRACT(EPOCH FROM {until}) - EXTRACT(EPOCH FROM {since})) / 86400) AS bigint)"
    _register_stay_days()
    # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' (naive UTC): the whole seconds by julianday() of the
    # text cut to the second (with a fraction it would round to milliseconds), rounded off its float, and
    # the microseconds by text. Other text: the Python function.
    whole = "julianday(substr({}, 1, 19))"
    seconds = f"CAST(round(({whole.format(until)} - {whole.format(since)}) * 86400) AS INTEGER)"
    return (
        f"CASE WHEN {until} IS NULL THEN NULL"
        f" WHEN {_as_django_stores(until)} AND {_as_django_stores(since)} THEN"
        f" ({seconds} * 1000000 + {_microseconds(until)} - {_microseconds(since)}) / {DAY_MICROSECONDS}"
        f" ELSE {SQLITE_STAY_DAYS}({until}, {since}) END"
    )


def bin_start(days: str) -> str:
    """An SQL expression for the first day of the bin (models.BIN_STARTS) of `days` >= 0 whole days."""
    # Every day is a bin start up to `daily`; after it, the highest start not above the days.
    daily = next(i for i, start in enumerate(BIN_STARTS) if start != i) - 1
    cases = " ".join(f"WHEN {days} >= {start} THEN {start}" for start in reversed(BIN_STARTS[daily:]))
    return f"CASE {cases} ELSE {days} END"


def _as_django_stores(column: str) -> str:
    return f"(length({column}) IN (19, 26) AND substr({column}, 11, 1) = ' ')"


def _microseconds(column: str) -> str:
    return f"CAST(substr({column} || '.000000', 21, 6) AS INTEGER)"


def _register_stay_days() -> None:
    from liucun.cohorts.consumer import stay_days as replayed  # the module that imports this one

    def days(until: Any, since: Any) -> int | None:
        later, earlier = Sql.read_dt(until), Sql.read_dt(since)
        if later is None or earlier is None:
            return None
        return replayed(earlier, later)

    connection.ensure_connection()
    connection.connection.create_function(SQLITE_STAY_DAYS, 2, days, deterministic=True)


def _drop_own() -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if bulksql.postgres() else "temp"
    with connection.cursor() as cursor:
        for table in (_CELLS, _ROWS, _CURSORS):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
