"""Small helpers for the few hand-written SQL statements on the callback hot path.

The ORM costs several times the statement itself there (ADR 11). The SQL we write by hand is plain
enough to run unchanged on SQLite (3.35+, for RETURNING) and PostgreSQL; values go through the
backend's own adapters so both store exactly what the ORM would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.dateparse import parse_datetime


class Sql:
    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.ops = connection.ops
        self.postgres = connection.vendor == "postgresql"
        # SQLite serialises writers already; PostgreSQL needs the row lock.
        self.for_update = " FOR UPDATE" if self.postgres else ""

    def dt(self, value: datetime | None) -> Any:
        return self.ops.adapt_datetimefield_value(value)

    def json(self, value: Any) -> Any:
        if self.postgres:
            return self.ops.adapt_json_value(value, None)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def read_dt(value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            parsed = parse_datetime(value)
            if parsed is None:
                raise ValueError(f"not a datetime: {value!r}")
            value = parsed
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
