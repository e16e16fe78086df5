"""Named writes of the reconciliation app: an operator's "pull now"."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.reconcile.models import PullState, PullStatus
from liucun.refusals import Refused
from liucun.sqlite_writelock import serialized_writes
from liucun.staff.audit import actor_label, record


class PullRefused(Refused):
    code = "reconcile.refused"
    status = 409


def request_pull(actor: AbstractBaseUser | str, account: OfficialAccount) -> PullState:
    """Queue a pull of every missing day, also after a refusal (the operator may have fixed its cause).
    Refused, changing nothing, for an account WeChat gives no statistics, or while a pull runs."""
    from liucun.reconcile.tasks import pull_datacube

    if not account.capabilities.datacube:
        raise PullRefused(
            _("WeChat gives follower statistics to verified accounts only; this account is not verified."),
            code="reconcile.not_verified",
        )
    now = datetime.now(UTC)
    with serialized_writes(), transaction.atomic():
        state, _created = PullState.objects.select_for_update().get_or_create(account=account)
        if state.claimed_until is not None and state.claimed_until > now:
            raise PullRefused(
                _("A pull of WeChat's statistics is running already."), code="reconcile.running"
            )
        state.status, state.requested_by = PullStatus.QUEUED, actor_label(actor)
        state.save(update_fields=["status", "requested_by"])
        record(actor, "reconcile.pull", account=account, target=account.appid)
        transaction.on_commit(lambda: pull_datacube.enqueue(account.pk, True))
    return state
