"""How the suite splits its work between the two databases it runs on.

`make test` runs every test on SQLite (the embedded default) and again on PostgreSQL, on two cores and
inside 15 minutes. What can differ between the two is SQL: the dialect, locking, ids committing out of
order. So the PostgreSQL pass runs everything that reaches the database, and leaves to the SQLite pass
what never does (the protocol layer, wxsim, pure functions: their result cannot depend on a database
they do not open); and the property tests explore random histories in full on SQLite and with a quarter
of the examples on PostgreSQL, where the same logic meets the other dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, settings

# Fixtures through which a test reaches Liucun's database in its own process.
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}
)
# Marker for a test that reaches the database only through a process it starts (`liucun run`...).
IN_SUBPROCESS = "database_in_subprocess"


def on_postgres() -> bool:
    # From the settings DATABASE_URL was parsed into (pytest-django sets Django up before collecting),
    # not from a connection: none is open yet while tests are collected.
    return str(django_settings.DATABASES["default"]["ENGINE"]).endswith("postgresql")


def examples(on_sqlite: int) -> int:
    """The examples a property test draws: all of them on SQLite, a quarter (at least 8) on PostgreSQL."""
    return max(8, on_sqlite // 4) if on_postgres() else on_sqlite


def random_histories(on_sqlite: int) -> settings:
    """Hypothesis settings for a property test over random histories stored in the database: no
    deadline (a first example pays for cold caches), and the function-scoped fixtures shared by the
    examples on purpose (each example starts by clearing what the one before wrote)."""
    return settings(
        max_examples=examples(on_sqlite),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


class _Collected(Protocol):
    fixturenames: Sequence[str]

    def get_closest_marker(self, name: str) -> object | None: ...


def reaches_the_database(item: _Collected) -> bool:
    if item.get_closest_marker("django_db") or item.get_closest_marker(IN_SUBPROCESS):
        return True
    return bool(DATABASE_FIXTURES & set(item.fixturenames))


# The hooks below are loaded for the whole suite (liucun and wxsim) by the root conftest.py.


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{IN_SUBPROCESS}: reaches the database only through a process the test starts"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not on_postgres():
        return
    reaches = [reaches_the_database(item) for item in items]  # type: ignore[arg-type]
    if not all(reaches):
        config.hook.pytest_deselected(items=[item for item, r in zip(items, reaches, strict=True) if not r])
        items[:] = [item for item, r in zip(items, reaches, strict=True) if r]


def pytest_report_header(config: pytest.Config) -> str | None:
    if on_postgres():
        return "PostgreSQL pass: the tests that never reach a database ran on SQLite and are deselected"
    return None
