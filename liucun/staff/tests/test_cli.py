"""`liucun user`, `liucun grant`, `liucun token` and credentials read from files or standard input."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from liucun.accounts.models import OfficialAccount
from liucun.staff.models import ApiToken, AuditEntry, Membership
from liucun.testing.factories import make_account, random_aes_key

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def run(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    old, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    finally:
        sys.stdin = old
    return out.getvalue()


def test_a_login_from_the_cli_a_role_and_a_working_token(tmp_path: Path) -> None:
    account = make_account()
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    run("user", "add", "wang", "--password-file", str(secret))
    assert get_user_model().objects.get(username="wang").check_password(PASSWORD)
    run("grant", "wang", account.appid, "operator")
    assert Membership.objects.get(user__username="wang", account=account).role == "operator"
    key = run(
        "token", "create", "wang", "CRM 同步", "--max-role", "agent", "--account", account.appid
    ).strip()
    assert key.startswith("lc_")
    client = Client()
    assert (
        client.get(f"/api/accounts/{account.appid}/fans", HTTP_AUTHORIZATION=f"Bearer {key}").status_code
        == 200
    )
    assert "active" in run("token", "list", "wang") and key not in run("token", "list")
    run("token", "revoke", key.split("_")[1])
    assert (
        client.get(f"/api/accounts/{account.appid}/fans", HTTP_AUTHORIZATION=f"Bearer {key}").status_code
        == 401
    )
    run("grant", "wang", account.appid, "--revoke")
    assert not Membership.objects.filter(user__username="wang").exists()
    assert AuditEntry.objects.filter(actor_label="cli", action="staff.grant_role").count() == 1


def test_passwords_come_from_stdin_and_weak_ones_are_refused() -> None:
    run("user", "add", "li", stdin=PASSWORD + "\n")
    assert get_user_model().objects.get(username="li").check_password(PASSWORD)
    with pytest.raises(CommandError, match="password"):
        run("user", "add", "zhao", stdin="123\n")
    assert not get_user_model().objects.filter(username="zhao").exists()
    with pytest.raises(CommandError, match="username"):
        run("user", "add", "li", stdin=PASSWORD + "\n")
    run("user", "deactivate", "li")
    assert not get_user_model().objects.get(username="li").is_active
    assert "inactive" in run("user", "list")


def test_clear_errors_for_unknown_names() -> None:
    account = make_account()
    with pytest.raises(CommandError, match="no login"):
        run("grant", "nobody", account.appid, "agent")
    run("user", "add", "sun", stdin=PASSWORD)
    with pytest.raises(CommandError, match="no account"):
        run("grant", "sun", "wx0000000000000000", "agent")
    with pytest.raises(CommandError, match="no such account"):
        run("token", "create", "sun", "x", "--account", "wx0000000000000000")
    with pytest.raises(CommandError, match="hold a role"):
        run("token", "create", "sun", "x", "--account", account.appid)
    assert ApiToken.objects.count() == 0


def test_account_credentials_from_a_file_and_stdin(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s" * 32 + "\n")
    args = ["account", "add", "--appid", "wx1234567890abcdef", "--original-id", "gh_1234567890ab",
            "--name", "店", "--type", "service", "--token-file", "-", "--secret-file", str(secret),
            "--mode", "safe", "--aes-key", random_aes_key()]  # fmt: skip
    run(*args, stdin="Token12345\n")
    account = OfficialAccount.objects.get(appid="wx1234567890abcdef")
    assert (account.token, account.secret) == ("Token12345", "s" * 32)
    with pytest.raises(CommandError, match="either as an argument or as a file"):
        run("account", "update", "--appid", account.appid, "--secret", "x" * 32, "--secret-file", str(secret))
    with pytest.raises(CommandError, match="only one credential"):
        run("account", "update", "--appid", account.appid, "--secret-file", "-", "--token-file", "-")
    with pytest.raises(CommandError, match="cannot read"):
        run("account", "update", "--appid", account.appid, "--secret-file", str(tmp_path / "missing"))
