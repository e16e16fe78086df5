"""The PostgreSQL pass of `make test` leaves out only what cannot depend on the database."""

from __future__ import annotations

import pytest
from django.conf import settings

from liucun.testing import suites


class _Item:
    def __init__(self, fixtures: tuple[str, ...] = (), markers: tuple[str, ...] = ()) -> None:
        self.fixturenames = fixtures
        self._markers = markers

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self._markers else None


@pytest.mark.parametrize(
    ("item", "reaches"),
    [
        (_Item(("tmp_path", "django_db_blocker")), False),  # pytest-django's blocker is on every test
        (_Item(markers=("django_db",)), True),
        (_Item(("db",)), True),
        (_Item(("transactional_db",)), True),
        (_Item(("live_server",)), True),
        (_Item(markers=(suites.IN_SUBPROCESS,)), True),
    ],
)
def test_what_reaches_the_database(item: _Item, reaches: bool) -> None:
    assert suites.reaches_the_database(item) is reaches


@pytest.mark.parametrize(
    ("engine", "asked", "drawn"),
    [
        ("django.db.backends.sqlite3", 40, 40),
        ("django.db.backends.postgresql", 40, 10),
        ("django.db.backends.postgresql", 15, 8),
    ],
)
def test_property_tests_draw_a_quarter_of_their_examples_on_postgres(
    monkeypatch: pytest.MonkeyPatch, engine: str, asked: int, drawn: int
) -> None:
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", engine)
    assert suites.examples(asked) == drawn
