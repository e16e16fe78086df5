"""Fixtures shared by Liucun's test suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from liucun.autoreply.cache import matchers
from liucun.inbound import accounts_cache
from liucun.servicehours import hours as service_hours


@pytest.fixture(autouse=True)
def _fresh_account_cache() -> None:
    # The per-process account cache must not carry accounts from one test's database into the next.
    accounts_cache.forget()
    matchers.forget()
    service_hours.forget()


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashing() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["liucun.testing.hashers.QuickPBKDF2PasswordHasher"]):
        yield
