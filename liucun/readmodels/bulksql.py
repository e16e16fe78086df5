"""SQL pieces for set-based rebuilds (Consumer.rebuild_bulk) that read the same on SQLite and PostgreSQL.

A consumer's incremental code computes a day as `wechat_time.astimezone(tz).date()`; its bulk rebuild
must compute the very same day in SQL. PostgreSQL has the time-zone database (`AT TIME ZONE`); SQLite
has none (its 'localtime' is the server's zone, not the site's), so there the conversion is a Python
function registered on the connection: it runs once per row the rebuild reads, which for lifecycle or
interaction rows (a few million at 1,000,000 fans) costs seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

SQLITE_LOCAL_DAY = "liucun_local_day"


def local_day(column: str, tz: ZoneInfo) -> tuple[str, list[str]]:
    """An SQL expression for the day of the UTC timestamp `column` in `tz`, and its parameters.

    On SQLite the value is ISO text ('2026-07-01'), which is how Django stores a DateField there.
    """
    if connection.vendor == "postgresql":
        return f"(({column}) AT TIME ZONE %s)::date", [tz.key]
    _register_local_day(tz)
    return f"{SQLITE_LOCAL_DAY}({column})", []


def payload_text(column: str, field: str) -> str:
    """The payload field `field` as text (NULL when absent), as KT('payload__field') reads it."""
    if not field.isidentifier():
        raise ValueError(f"not a payload field name: {field!r}")
    if connection.vendor == "postgresql":
        return f"({column} ->> '{field}')"
    return f"json_extract({column}, '$.{field}')"


@contextmanager
def indexes_deferred(table: str) -> Iterator[None]:
    """Around a bulk copy into an empty `table`, inside its transaction: the table's plain (non-unique)
    indexes are dropped first and made again after, each as the database itself recorded it.

    Rows come in the order of the table's unique key, so that index is filled by appending; any other
    index is filled at random places, one page read and written per row once it outgrows the cache:
    5,000,000 menu-click fan rows took 123 s into the table with its two plain indexes, 17 s with the
    indexes made after (SQLite, 2026-12-02). Unique indexes stay (they check the rows)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()"
                " AND i.tablename = %s AND i.indexdef NOT LIKE 'CREATE UNIQUE%%'"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
                " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%'",
                [table],
            )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        if indexes and connection.vendor == "postgresql":
            # PostgreSQL refuses CREATE INDEX on a table with deferred foreign-key checks pending: they
            # run now (as they would at commit), and later writes of the transaction are deferred again.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for _name, definition in indexes:
            cursor.execute(definition)


def _register_local_day(tz: ZoneInfo) -> None:
    def day(stored: str | None) -> str | None:
        if stored is None:
            return None
        moment = datetime.fromisoformat(stored)
        if moment.tzinfo is None:  # Django's SQLite backend stores naive UTC
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(tz).date().isoformat()

    connection.ensure_connection()
    connection.connection.create_function(SQLITE_LOCAL_DAY, 1, day, deterministic=True)


def postgres() -> bool:
    return connection.vendor == "postgresql"


def temp_table(cursor: Any, table: str, columns: str, key: str) -> None:
    """A TEMP table. On SQLite it is keyed and keeps its rows in key order (WITHOUT ROWID): a GROUP BY on a
    prefix of the key walks them instead of sorting, a join on the key is a lookup, and an UPSERT adds
    into it. PostgreSQL hashes and sorts by itself; a key would only slow its inserts down."""
    if postgres():
        # Text compared byte by byte, as SQLite does: cheaper to sort and hash than by the locale's rules.
        types = {"date": "date", "time": "timestamp with time zone", "text": 'text COLLATE "C"'}
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns.format(**types)})")
        return
    # As Django stores a DateField and a DateTimeField there (and as local_day gives a day).
    types = {"date": "text", "time": "text", "text": "text"}
    cursor.execute(
        f"CREATE TEMPORARY TABLE {table} ({columns.format(**types)}, PRIMARY KEY ({key})) WITHOUT ROWID"
    )


def analyze_temp(cursor: Any, table: str) -> None:
    # PostgreSQL's autovacuum never sees TEMP tables: without statistics the planner guesses one row for a
    # join on four columns and loops over millions. SQLite plans from the keys alone.
    if postgres():
        cursor.execute(f"ANALYZE {table}")
