"""The customer-service figures of every bucket in one set-based query per measure kind, over the measures.

The report reads the per-day digest instead (service_days.py): this query sorts every measure of the
range, 1-2.5 s for a year of a busy inbox (1,000 questions a day; bench/service). It stays as the
reference the digest is tested against, and answers while a digest cut in another time zone waits for
its rebuild. Reading the measures into Python to bucket and sort would take longer still, so the
database groups them. An instant's China day is its distance in
whole days from the range's first midnight, which holds for a site time zone without daylight saving
(Asia/Shanghai); percentiles are nearest-rank (inbox.queries.percentile): the value ranked
ceil(p/100 x n) by ROW_NUMBER in its bucket, so the report equals the inbox's own metrics.

With a channel, the measures are those of conversations whose fan's fan-activity cursor names the
channel; for "" (no QR code) those whose fan's cursor names none or that have no cursor, and measures
without a conversation (service_channels.py: the same rule, kept in rows for speed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from liucun.analytics.periods import ReportQuery
from liucun.rawsql import Sql

COLUMNS = frozenset({"", "started_at", "ended_at", "service_seconds", "wall_seconds"})


@dataclass(frozen=True)
class BucketFigures:
    n: int
    within_first: int  # value <= first threshold
    within_second: int  # wall seconds <= second threshold
    p50: float | None
    p90: float | None


def _day_index(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR((EXTRACT(EPOCH FROM {column}) - %s) / 86400) AS INTEGER)"
    # Whole milliseconds since the range's first midnight (julianday is a float of days: rounding to the
    # millisecond keeps an instant at midnight exactly on its day), then whole days. The stored text is cut
    # to the second first: SQLite reads fractions to the nearest millisecond, which put the last half
    # millisecond of a day on the next one; midnights are whole seconds, so the second decides the day.
    seconds = f"julianday(substr({column}, 1, 19))"
    return f"(CAST(ROUND(({seconds} - julianday(%s, 'unixepoch')) * 86400000) AS INTEGER) / 86400000)"


# The account's conversations whose fan has a QR-code channel (= %s, or any: <> ''), by the cursors.
_WITH_CHANNEL = (
    "SELECT c.id FROM inbox_conversation c JOIN activity_activityfancursor f "
    "ON f.account_id = c.account_id AND f.openid = c.openid WHERE c.account_id = %s AND f.channel "
)


def _of_channel(account_id: int, channel: str | None) -> tuple[str, list[Any]]:
    """The condition on inbox_measure that keeps the measures of the channel's fans, and its parameters."""
    if channel is None:
        return "", []
    if channel:
        return f" AND conversation_id IN ({_WITH_CHANNEL}= %s)", [account_id, channel]
    return f" AND (conversation_id IS NULL OR conversation_id NOT IN ({_WITH_CHANNEL}<> ''))", [account_id]


def figures(
    account_id: int,
    kind: str,
    *,
    time_column: str,
    value_column: str,
    query: ReportQuery,
    since: datetime,
    until: datetime,
    first_threshold: float,
    second_threshold: float,
    extra_lower_bound: str = "",
    channel: str | None = None,
) -> dict[int, BucketFigures]:
    """Per bucket index of query.buckets(): measures of `kind` whose `time_column` falls in the bucket, of
    the fans of `channel` when it is not None."""
    buckets = query.buckets()
    day = _day_index(time_column)
    epoch: list[Any] = [int(since.timestamp())]
    if {time_column, value_column, extra_lower_bound} - COLUMNS:
        raise ValueError("not a column of inbox_measure this query reads")
    if query.granularity == "day":
        bucket = "d"
    else:
        ends = " ".join(f"WHEN d <= {(b.last - query.start).days} THEN {i}" for i, b in enumerate(buckets))
        bucket = f"CASE {ends} END"
    sql = Sql(connection)
    lower = f" AND {extra_lower_bound} >= %s" if extra_lower_bound else ""
    fans, fan_params = _of_channel(account_id, channel)
    # Only fixed column names and integers are spliced in (checked above); values are parameters.
    statement = (
        # MATERIALIZED: the day is worked out once per row, not once per WHEN of the bucket's CASE.
        f"WITH days AS MATERIALIZED (SELECT {day} AS d, {value_column} AS s, wall_seconds AS w "  # noqa: S608
        f"FROM inbox_measure WHERE account_id = %s AND kind = %s AND {time_column} >= %s "
        f"AND {time_column} < %s{lower}{fans}), "
        f"buckets AS MATERIALIZED (SELECT {bucket} AS b, s, w FROM days), "
        "ranked AS (SELECT b, s, w, ROW_NUMBER() OVER (PARTITION BY b ORDER BY s) AS rn, "
        "COUNT(*) OVER (PARTITION BY b) AS n FROM buckets) "
        "SELECT b, COUNT(*), SUM(CASE WHEN s <= %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN w <= %s THEN 1 ELSE 0 END), "
        "MAX(CASE WHEN rn = (n * 50 + 99) / 100 THEN s END), "
        "MAX(CASE WHEN rn = (n * 90 + 99) / 100 THEN s END) "
        "FROM ranked GROUP BY b"
    )
    params: list[Any] = [
        *epoch,
        account_id,
        kind,
        sql.dt(since),
        sql.dt(until),
        *([sql.dt(since)] if extra_lower_bound else []),
        *fan_params,
        first_threshold,
        second_threshold,
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return {
            int(b): BucketFigures(int(n), int(first or 0), int(second or 0), p50, p90)
            for b, n, first, second, p50, p90 in cursor.fetchall()
        }
