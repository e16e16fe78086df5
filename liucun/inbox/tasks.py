"""Background jobs of the inbox."""

from __future__ import annotations

from django_tasks import task

from liucun.accounts.models import OfficialAccount


@task()
def demo_agents_answer(account_id: int) -> int:
    """The demo's agents answer some waiting conversations (liucun/inbox/demo.py)."""
    from liucun.inbox.demo import answer_some

    account = OfficialAccount.objects.filter(pk=account_id, is_active=True).first()
    return answer_some(account) if account is not None else 0
