"""A model field that stores text sealed by secretbox and hands it back in clear to Python code."""

from __future__ import annotations

from typing import Any

from django.db import models

from liucun.accounts import secretbox


class SealedTextField(models.TextField):
    description = "Text encrypted at rest with LIUCUN_ENCRYPTION_KEYS"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return secretbox.unseal(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return secretbox.seal(str(value))
