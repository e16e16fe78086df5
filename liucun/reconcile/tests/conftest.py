from __future__ import annotations

import pytest

from liucun.readmodels.tests.support import ids_follow_on


@pytest.fixture(autouse=True)
def _ids_follow_on(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_helper")  # the database this test was given, set up first
    ids_follow_on()
