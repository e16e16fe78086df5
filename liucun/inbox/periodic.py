"""What the inbox adds to the worker's schedule: the demo agents' answers, only where the demo runs."""

from __future__ import annotations

from datetime import timedelta

from liucun.runner.scheduler import Periodic


def _demo_agents() -> int:
    from liucun.accounts.models import OfficialAccount
    from liucun.inbox.demo import DEMO_AGENTS
    from liucun.inbox.tasks import demo_agents_answer
    from liucun.runner.demo_wxsim import DEMO_APPID
    from liucun.staff.models import Membership

    # Only an instance where the demo seeded its agents on the demo account: never a real installation.
    account = OfficialAccount.objects.filter(appid=DEMO_APPID, is_active=True).first()
    if (
        account is None
        or not Membership.objects.filter(account=account, user__username__in=DEMO_AGENTS).exists()
    ):
        return 0
    demo_agents_answer.enqueue(account.pk)
    return 1


PERIODIC = [Periodic("inbox-demo-agents", timedelta(minutes=1), _demo_agents)]
