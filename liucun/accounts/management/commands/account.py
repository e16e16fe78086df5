"""`liucun account add|list|show|update`: manage official accounts non-interactively."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from liucun.accounts.actions import EDITABLE_FIELDS, create_account, update_account
from liucun.accounts.models import AccountType, EncryptionMode, OfficialAccount
from liucun.cliinput import read_secret


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(value)


# --<flag>-file option -> the account field it fills.
SECRET_FILES = {"token": "token", "aes-key": "encoding_aes_key", "secret": "secret"}


def _read_secret_files(options: dict[str, Any]) -> None:
    """Fill credentials given as files; one from stdin at most (it can be read once)."""
    from_stdin = [f for f in SECRET_FILES.values() if options.get(f"{f}_file") == "-"]
    if len(from_stdin) > 1:
        raise CommandError("only one credential can come from standard input")
    for field in SECRET_FILES.values():
        path = options.get(f"{field}_file")
        if path is None:
            continue
        if options.get(field) is not None:
            raise CommandError(f"give {field} either as an argument or as a file, not both")
        options[field] = read_secret(path, field)


def _add_account_flags(parser: ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--original-id", required=required, help="gh_... original id (原始ID)")
    parser.add_argument("--name", required=required)
    parser.add_argument("--type", dest="account_type", choices=AccountType.values, required=required)
    parser.add_argument("--verified", type=_bool, default=None, metavar="true|false")
    parser.add_argument("--token", help="the callback Token set in the MP backend")
    parser.add_argument("--aes-key", dest="encoding_aes_key", help="EncodingAESKey (43 characters)")
    parser.add_argument("--secret", help="AppSecret")
    # The same credentials from a file or standard input ("-"), kept out of ps and shell history.
    for flag, what in SECRET_FILES.items():
        parser.add_argument(
            f"--{flag}-file", dest=f"{what}_file", metavar="PATH", help=f"read {what} from PATH ('-': stdin)"
        )
    parser.add_argument("--mode", dest="encryption_mode", choices=EncryptionMode.values)
    parser.add_argument("--api-base", dest="api_base_url", help="API base URL (a wxsim URL in development)")
    parser.add_argument("--welcome", dest="welcome_text", help="text sent to a fan who follows")
    parser.add_argument(
        "--sync-every-hours",
        dest="sync_every_hours",
        type=int,
        help="incremental follower sync every N hours (0: off)",
    )


class Command(BaseCommand):
    help = "Manage official accounts: add, list, show, update."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="connect an official account")
        add.add_argument("--appid", required=True)
        _add_account_flags(add, required=True)
        upd = sub.add_parser("update", help="change an account's settings")
        upd.add_argument("--appid", required=True)
        _add_account_flags(upd, required=False)
        sub.add_parser("list", help="list accounts")
        show = sub.add_parser("show", help="show one account (secrets hidden)")
        show.add_argument("--appid", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for account in OfficialAccount.objects.all():
                self.stdout.write(
                    f"{account.appid}\t{account.original_id}\t{account.account_type}\t"
                    f"{'verified' if account.verified else 'unverified'}\t{account.encryption_mode}\t"
                    f"{account.name}"
                )
            return
        if action == "show":
            account = self._get(options["appid"])
            self.stdout.write(json.dumps(_describe(account), ensure_ascii=False, indent=2))
            return
        _read_secret_files(options)
        if action == "add":
            missing = [f for f in ("token", "secret") if not options.get(f)]
            if missing:
                raise CommandError(f"add needs {' and '.join(missing)} (as --X or --X-file)")
        fields = {name: options[name] for name in EDITABLE_FIELDS if options.get(name) is not None}
        try:
            if action == "add":
                if OfficialAccount.objects.filter(appid=options["appid"]).exists():
                    raise CommandError(f"account {options['appid']} already exists; use 'account update'")
                account = create_account(appid=options["appid"], **fields)
                verb = "added"
            else:
                account = update_account(self._get(options["appid"]), **fields)
                verb = "updated"
        except ValidationError as exc:
            raise CommandError(_format_validation(exc)) from None
        self.stdout.write(f"{verb} {account.appid} ({account.name})")
        self.stdout.write(f"callback URL path: /wechat/{account.appid}/callback")

    def _get(self, appid: str) -> OfficialAccount:
        try:
            return OfficialAccount.objects.get(appid=appid)
        except OfficialAccount.DoesNotExist:
            raise CommandError(f"no account with appid {appid}") from None


def _describe(account: OfficialAccount) -> dict[str, Any]:
    return {
        "appid": account.appid,
        "original_id": account.original_id,
        "name": account.name,
        "type": account.account_type,
        "verified": account.verified,
        "encryption_mode": account.encryption_mode,
        "api_base_url": account.api_base_url,
        "welcome_text": account.welcome_text,
        "capabilities": account.capabilities.as_dict(),
        "callback_path": f"/wechat/{account.appid}/callback",
    }


def _format_validation(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return "; ".join(exc.messages)
