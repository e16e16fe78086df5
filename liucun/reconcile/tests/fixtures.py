"""Rows of the reconciliation tables for tests (the lead's query-count walk calls populate)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import today
from liucun.fans.models import Fan
from liucun.reconcile.models import PullState, PullStatus, SyncFoundDay, WeChatDay, WeChatSourceDay


def populate(account: OfficialAccount, fans: Sequence[Fan]) -> None:
    """A pulled week of WeChat's statistics (by day and source), a sync-found follow and a pull state, so
    every table the report and the status block read has rows. `fans` sets the sizes only."""
    now = datetime.now(UTC)
    n = max(1, len(fans))
    for back in range(1, 8):
        day = today() - timedelta(days=back)
        WeChatDay.objects.create(
            account=account, day=day, cumulate_user=n, new_user=2, cancel_user=1, pulled_at=now
        )
        WeChatSourceDay.objects.create(account=account, day=day, user_source=0, new_user=1, cancel_user=1)
        WeChatSourceDay.objects.create(account=account, day=day, user_source=30, new_user=1, cancel_user=0)
    SyncFoundDay.objects.create(account=account, day=today() - timedelta(days=3), found=1)
    PullState.objects.update_or_create(
        account=account,
        defaults={"status": PullStatus.IDLE, "last_finished_at": now, "last_success_at": now},
    )
