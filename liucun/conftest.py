"""Fixtures shared by Liucun's test suites."""

from __future__ import annotations

import pytest

from liucun.inbound import accounts_cache


@pytest.fixture(autouse=True)
def _fresh_account_cache() -> None:
    # The per-process account cache must not carry accounts from one test's database into the next.
    accounts_cache.forget()
