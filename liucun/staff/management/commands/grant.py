"""`liucun grant USERNAME APPID ROLE` (and `--revoke`): roles from the command line, audited as "cli"."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, no_translations

from liucun.accounts.models import OfficialAccount
from liucun.staff.actions import assign_role, remove_role
from liucun.staff.models import Role


class Command(BaseCommand):
    help = "Give a login a role on an account (admin, operator, agent), or take it away with --revoke."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("appid")
        parser.add_argument("role", nargs="?", choices=Role.values)
        parser.add_argument("--revoke", action="store_true", help="remove the login's role on the account")

    @no_translations  # the command line speaks English, like the docs that show it
    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no login named {options['username']!r} (make one with 'liucun user add')")
        account = OfficialAccount.objects.filter(appid=options["appid"]).first()
        if account is None:
            raise CommandError(f"no account {options['appid']} (see 'liucun account list')")
        if options["revoke"]:
            removed = remove_role("cli", user, account)
            self.stdout.write("revoked" if removed else "had no role there")
            return
        if options["role"] is None:
            raise CommandError("name the role: admin, operator or agent")
        assign_role("cli", user, account, Role(options["role"]))
        self.stdout.write(f"{user.get_username()} is {options['role']} of {account.appid}")
