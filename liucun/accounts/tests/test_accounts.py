"""Accounts: `liucun account add` non-interactively, validation, capabilities."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from liucun.accounts.capabilities import capabilities_for
from liucun.accounts.models import AccessToken, OfficialAccount
from liucun.testing.factories import random_aes_key

pytestmark = pytest.mark.django_db

GOOD = [
    "--appid",
    "wx1234567890abcdef",
    "--original-id",
    "gh_1234567890ab",
    "--name",
    "门店服务号",
    "--type",
    "service",
    "--verified",
    "true",
    "--token",
    "Token12345",
    "--secret",
    "s" * 32,
    "--mode",
    "safe",
]


def test_account_add_takes_everything_as_flags(capsys) -> None:
    call_command("account", "add", *GOOD, "--aes-key", random_aes_key(), "--welcome", "欢迎！")
    account = OfficialAccount.objects.get(appid="wx1234567890abcdef")
    assert account.name == "门店服务号" and account.verified and account.encryption_mode == "safe"
    assert account.welcome_text == "欢迎！"
    assert AccessToken.objects.filter(account=account).exists()
    assert "/wechat/wx1234567890abcdef/callback" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [
        ("--appid", "not-an-appid", "appid"),
        ("--original-id", "1234", "original_id"),
        ("--aes-key", "short", "encoding_aes_key"),
        ("--token", "has spaces!", "token"),
        ("--api-base", "ftp://x", "api_base_url"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(flag: str, value: str, field: str) -> None:
    args = [*GOOD, "--aes-key", random_aes_key()]
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    with pytest.raises(CommandError, match=field):
        call_command("account", "add", *args)
    assert OfficialAccount.objects.count() == 0


def test_safe_mode_needs_an_aes_key() -> None:
    with pytest.raises(CommandError, match="encoding_aes_key"):
        call_command("account", "add", *GOOD)
    assert OfficialAccount.objects.count() == 0


def test_duplicate_account_is_refused() -> None:
    call_command("account", "add", *GOOD, "--aes-key", random_aes_key())
    with pytest.raises(CommandError, match="already exists"):
        call_command("account", "add", *GOOD, "--aes-key", random_aes_key())


def test_capability_matrix() -> None:
    unverified_sub = capabilities_for("subscription", False)
    assert unverified_sub.passive_only and not unverified_sub.customer_service_messages
    assert not unverified_sub.mass_send and not unverified_sub.custom_menu
    verified_service = capabilities_for("service", True)
    assert verified_service.template_messages and verified_service.oauth_pages
    assert verified_service.parametric_qr and verified_service.customer_service_messages
    assert not capabilities_for("subscription", True).template_messages
    with pytest.raises(ValueError):
        capabilities_for("enterprise", True)
