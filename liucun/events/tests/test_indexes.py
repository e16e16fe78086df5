"""The event store's indexes: each one costs every stored event, so none may repeat another's prefix."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_no_index_is_a_prefix_of_another_on_the_event_table() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "events_event")
    indexes = {
        name: tuple(info["columns"])
        for name, info in constraints.items()
        if info["index"] or info["unique"]
        if not info["primary_key"]
    }
    assert ("account_id", "dedupe_key") in indexes.values()
    for name, columns in indexes.items():
        longer = [o for o, cols in indexes.items() if o != name and cols[: len(columns)] == columns]
        assert not longer, f"{name} {columns} repeats the start of {longer}"
