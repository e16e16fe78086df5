"""SQL pieces for set-based rebuilds (Consumer.rebuild_bulk) that read the same on SQLite and PostgreSQL.

A consumer's incremental code computes a day as `wechat_time.astimezone(tz).date()`; its bulk rebuild
must compute the very same day in SQL. PostgreSQL has the time-zone database (`AT TIME ZONE`); SQLite
has none (its 'localtime' is the server's zone, not the site's), so there the conversion is a Python
function registered on the connection: it runs once per row the rebuild reads, which for lifecycle or
interaction rows (a few million at 1,000,000 fans) costs seconds, not minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
