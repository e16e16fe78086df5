"""populate(account, fans): rows of every activity table for these fans (for query-count pins)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from liucun.accounts.models import OfficialAccount
from liucun.activity.consumer import ActivityConsumer
from liucun.activity.tests.support import add_interaction
from liucun.fans.models import Fan
from liucun.readmodels import runner

KINDS = ("text", "event.click", "event.view", "event.scan", "image")


def populate(account: OfficialAccount, fans: Sequence[Fan]) -> None:
    """Interactions of several kinds over the last three weeks for each fan, folded into the rollups."""
    now = datetime.now(UTC)
    for i, fan in enumerate(fans):
        for j, kind in enumerate(KINDS):
            at = now - timedelta(days=(i + 7 * j) % 21, hours=j)
            add_interaction(
                account, fan.openid, kind, at, "https://x.test/p" if kind == "event.view" else "K1"
            )
    runner.run(ActivityConsumer())
