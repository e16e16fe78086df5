"""python -m bench.rules.install APPID [--set full|default|none]: replace the account's reply rules.

`full` (the default) is bench/rules/ruleset.py's 1,000 keyword + 100 regex rules and a default rule;
`default` only the default rule (answers every text as `full` does, with no matching to speak of);
`none` removes every rule, so the account answers as one that never had any.
"""

from __future__ import annotations

import argparse
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
django.setup()

from bench.rules.ruleset import rules  # noqa: E402
from liucun.accounts.models import OfficialAccount  # noqa: E402
from liucun.autoreply.actions import replace_rules  # noqa: E402

SETS = {"full": rules, "default": lambda: rules(0, 0), "none": lambda: []}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.rules.install")
    parser.add_argument("appid")
    parser.add_argument("--set", choices=sorted(SETS), default="full")
    args = parser.parse_args()
    account = OfficialAccount.objects.get(appid=args.appid)
    print(f"installed {len(replace_rules('bench', account, SETS[args.set]()))} rules on {account.appid}")
