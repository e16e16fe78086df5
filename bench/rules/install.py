"""python -m bench.rules.install APPID: replace the account's rules with bench/rules/ruleset.py's set."""

from __future__ import annotations

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
django.setup()

from bench.rules.ruleset import rules  # noqa: E402
from liucun.accounts.models import OfficialAccount  # noqa: E402
from liucun.autoreply.actions import replace_rules  # noqa: E402

if __name__ == "__main__":
    account = OfficialAccount.objects.get(appid=sys.argv[1])
    print(f"installed {len(replace_rules('bench', account, rules()))} rules on {account.appid}")
