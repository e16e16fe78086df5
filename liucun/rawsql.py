"""Small helpers for the few hand-written SQL statements on the callback hot path.

The ORM, and even Django's cursor wrapper, cost several times the statement itself there (ADR 11): the
wrapper rewrites placeholders with a regex on every call and adapts values one by one. Statements here
are written once with %s placeholders, converted for the driver once, and run on the DB-API cursor.
The SQL is plain enough to run unchanged on SQLite (3.35+, for RETURNING) and PostgreSQL; values are
stored exactly as the ORM would store them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.dateparse import parse_datetime


@lru_cache(maxsize=256)
def _for_sqlite(statement: str) -> str:
    return statement.replace("%s", "?")


class Sql:
    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        # SQLite serialises writers already; PostgreSQL needs the row lock.
        self.for_update = " FOR UPDATE" if self.postgres else ""
        connection.ensure_connection()
        self._ops = connection.ops

    def cursor(self) -> Any:
        """The driver's own cursor, inside whatever transaction Django has open on this connection."""
        return self.connection.connection.cursor()

    def execute(self, cursor: Any, statement: str, params: list[Any]) -> Any:
        cursor.execute(statement if self.postgres else _for_sqlite(statement), params)
        return cursor

    def executemany(self, cursor: Any, statement: str, rows: list[Any]) -> Any:
        cursor.executemany(statement if self.postgres else _for_sqlite(statement), rows)
        return cursor

    def dt(self, value: datetime | None) -> Any:
        if value is None or self.postgres:
            return value
        # What Django's SQLite backend stores: naive UTC in ISO format with a space separator.
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return str(value.replace(tzinfo=None))

    def json(self, value: Any) -> Any:
        if self.postgres:
            return self._ops.adapt_json_value(value, None)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def read_dt(value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value) if "T" not in value else parse_datetime(value)
            if parsed is None:
                raise ValueError(f"not a datetime: {value!r}")
            value = parsed
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
