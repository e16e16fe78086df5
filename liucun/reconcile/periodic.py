"""What the reconciliation app adds to the worker's periodic schedule (liucun/runner/scheduler.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liucun.runner.scheduler import Periodic


def _enqueue_pulls() -> int:
    """One pull per verified account with a day not yet pulled or a sync not yet counted; accounts whose
    pull WeChat refused for good wait for an operator's "pull now"."""
    from liucun.accounts.models import OfficialAccount
    from liucun.reconcile.found import found_is_stale
    from liucun.reconcile.models import PullState, PullStatus, WeChatDay
    from liucun.reconcile.pulling import BACK_DAYS, wanted_days
    from liucun.reconcile.tasks import pull_datacube

    now = datetime.now(UTC)
    first, last = wanted_days(now, BACK_DAYS)
    expected = (last - first).days + 1
    count = 0
    for account in OfficialAccount.objects.filter(is_active=True, verified=True):
        state = PullState.objects.filter(account=account).first() or PullState(account=account)
        if state.status == PullStatus.REFUSED or (state.claimed_until and state.claimed_until > now):
            continue
        pulled = WeChatDay.objects.filter(account=account, day__gte=first, day__lte=last).count()
        if pulled < expected or found_is_stale(account, state):
            pull_datacube.enqueue(account.pk)
            count += 1
    return count


PERIODIC = [Periodic("reconcile-datacube-pull", timedelta(hours=1), _enqueue_pulls)]
