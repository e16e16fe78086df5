"""Refusals name their field in the reader's language; these tests read them in English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from liucun.testing.language import english


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    yield from english(settings)
