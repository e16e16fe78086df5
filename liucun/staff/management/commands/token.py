"""`liucun token create|list|revoke`: REST API tokens from the command line. The key is printed once."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, no_translations

from liucun.accounts.models import OfficialAccount
from liucun.refusals import Refused
from liucun.staff.api_tokens import create_api_token, revoke_api_token
from liucun.staff.models import ApiToken, Role


class Command(BaseCommand):
    help = "API tokens: create (prints the key once), list, revoke."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="a token acting as USERNAME, capped at --max-role")
        create.add_argument("username")
        create.add_argument("name", help="what the token is for, e.g. 'CRM sync'")
        create.add_argument("--max-role", choices=Role.values, default=Role.AGENT.value)
        limit = "limit to this account (repeat for more; default: all of the user's)"
        create.add_argument("--account", action="append", default=[], metavar="APPID", help=limit)
        listing = sub.add_parser("list", help="tokens, without their keys")
        listing.add_argument("username", nargs="?")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix (lc_<prefix>_...)")
        revoke.add_argument("prefix")

    @no_translations  # the command line speaks English, like the docs that show it
    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            tokens = (
                ApiToken.objects.select_related("user").prefetch_related("accounts").order_by("created_at")
            )
            if options["username"]:
                tokens = tokens.filter(user__username=options["username"])
            for t in tokens:
                scope = ",".join(a.appid for a in t.accounts.all()) or "all"
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(
                    f"lc_{t.prefix}_…\t{t.user.get_username()}\t{t.max_role}\t{scope}\t{state}\t{t.name}"
                )
            return
        if options["action"] == "revoke":
            token = ApiToken.objects.filter(
                prefix=options["prefix"].removeprefix("lc_").split("_")[0]
            ).first()
            if token is None or not revoke_api_token(token.user, token.prefix):
                raise CommandError("no active token with that prefix")
            self.stdout.write("revoked")
            return
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no login named {options['username']!r}")
        accounts = list(OfficialAccount.objects.filter(appid__in=options["account"]))
        missing = set(options["account"]) - {a.appid for a in accounts}
        if missing:
            raise CommandError(f"no such account: {', '.join(sorted(missing))}")
        try:
            _, key = create_api_token(
                user, options["name"], max_role=Role(options["max_role"]), accounts=accounts
            )
        except Refused as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(key)
        self.stderr.write("This key is shown once; store it now (only a hash is kept).")
