"""Tests that read messages in English: the console speaks Chinese by default (settings.LANGUAGE_CODE), so
both the test process and every request it makes are switched to English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils import translation


def english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
