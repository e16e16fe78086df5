"""The demo account's pushes: the weekly article its simulated operator sends outside Liucun (wxsim's demo
scenario: every 7 days from 3 days 20 hours after the history's start), annotated as an operator would, so
push impact has moments to judge. Idempotent: a moment already recorded is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liucun.accounts.models import OfficialAccount
from liucun.pushimpact.actions import annotate
from liucun.pushimpact.models import Push

FIRST = timedelta(days=3, hours=20)
EVERY = timedelta(days=7)
TITLE = "每周推文"


def seed_demo(account: OfficialAccount, history_start: int, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    at = datetime.fromtimestamp(history_start, UTC) + FIRST
    known = set(Push.objects.filter(account=account, title=TITLE).values_list("at", flat=True))
    added = 0
    while at <= now:
        if at not in known:
            annotate("demo", account, at, TITLE, note="演示：每周推文（在留存之外发出）")
            added += 1
        at += EVERY
    return added
