from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from liucun.readmodels.tests.support import ids_follow_on
from liucun.testing.language import english


@pytest.fixture(autouse=True)
def _ids_follow_on(request: pytest.FixtureRequest) -> None:
    # PostgreSQL's sequences ignore rollbacks: without this, the first ids of a test look like a gap the
    # consumers wait out (readmodels/tests/support.py).
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_helper")
    ids_follow_on()


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    # These tests read refusals, findings and labels in English (the console speaks Chinese by default).
    yield from english(settings)
