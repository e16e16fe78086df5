"""The `liucun` staff commands answer in English whatever language the process has active."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from liucun.console.tests.conftest import make_user
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def test_refusals_on_the_command_line_are_in_english() -> None:
    account = make_account()
    make_user("sun")
    with translation.override("zh-hans"), pytest.raises(CommandError, match="hold a role"):
        call_command("token", "create", "sun", "x", "--account", account.appid)
