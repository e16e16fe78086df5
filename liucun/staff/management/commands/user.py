"""`liucun user add|list|set-password|deactivate|activate`: staff logins from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations

from liucun.cliinput import new_password
from liucun.staff.users import create_user, set_active, set_password


class Command(BaseCommand):
    help = "Staff logins: add, list, set-password, deactivate, activate. Passwords never as arguments."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser(
            "add", help="make a login (password from --password-file, piped stdin or a prompt)"
        )
        add.add_argument("username")
        add.add_argument("--password-file", help="read the password from this file ('-': standard input)")
        add.add_argument("--superuser", action="store_true", help="sees every account, and Django's admin")
        sub.add_parser("list", help="every login with its roles")
        pw = sub.add_parser("set-password", help="set a new password")
        pw.add_argument("username")
        pw.add_argument("--password-file")
        for name in ("deactivate", "activate"):
            sub.add_parser(name, help=f"{name} a login (its API tokens follow)").add_argument("username")

    @no_translations  # the command line speaks English, like the docs that show it
    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list()
            return
        try:
            if action == "add":
                password = new_password(options["password_file"])
                user = create_user("cli", options["username"], password, superuser=options["superuser"])
                self.stdout.write(
                    f"added {user.get_username()}{' (superuser)' if options['superuser'] else ''}"
                )
                return
            user = self._get(options["username"])
            if action == "set-password":
                set_password("cli", user, new_password(options["password_file"]))
            else:
                set_active("cli", user, action == "activate")
            self.stdout.write(f"{action}: {user.get_username()}")
        except ValidationError as exc:
            problems = exc.message_dict if hasattr(exc, "error_dict") else {"password": exc.messages}
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in problems.items())) from None

    def _get(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no login named {username!r}")
        return user

    def _list(self) -> None:
        users = get_user_model().objects.prefetch_related("memberships__account").order_by("username")
        for user in users:
            roles = ", ".join(f"{m.role}@{m.account.appid}" for m in user.memberships.all()) or "-"
            flags = ("superuser " if user.is_superuser else "") + ("" if user.is_active else "inactive")
            self.stdout.write(f"{user.get_username()}\t{flags.strip() or '-'}\t{roles}")
