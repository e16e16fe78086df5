"""How the set-based rebuild's TEMP tables (made by readmodels.bulksql.temp_table) are filled and joined on
each database (activity/bulk.py): SQLite has no hash aggregation (a GROUP BY sorts every row it reads), so
its tables are kept in key order, where a GROUP BY on a prefix of the key is a walk and a join on the key a
lookup; PostgreSQL hashes."""

from __future__ import annotations

from typing import Any

from liucun.readmodels.bulksql import postgres


def fans_first() -> str:
    """The join of a table of fans to the rows of each: on SQLite a CROSS JOIN, which SQLite never reorders,
    so the fans are walked and each fan's rows looked up once (it might otherwise walk the rows and look
    the fan up for each); PostgreSQL chooses for itself (and knows no CROSS JOIN with a condition)."""
    return "JOIN" if postgres() else "CROSS JOIN"


def accumulate(
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
    if postgres():
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
