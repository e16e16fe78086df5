"""Saving an account's service hours: checked first, one transaction with its audit entry."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from liucun.accounts.models import OfficialAccount
from liucun.servicehours import hours
from liucun.servicehours.models import ServiceHours
from liucun.staff.audit import actor_label, record

Actor = AbstractBaseUser | str


def save_service_hours(
    actor: Actor,
    account: OfficialAccount,
    *,
    enabled: bool,
    weekly: Sequence[Sequence[object]],
    holidays: Sequence[str],
) -> ServiceHours:
    schedule = hours.build_schedule(weekly, holidays)  # refuses before anything is written
    stored_weekly = [
        [w, f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"]
        for w, day in enumerate(schedule.weekly)
        for s, e in day
    ]
    stored_holidays = sorted(d.isoformat() for d in schedule.holidays)
    with transaction.atomic():
        row, _ = ServiceHours.objects.select_for_update().get_or_create(account=account)
        row.enabled, row.weekly, row.holidays = enabled, stored_weekly, stored_holidays
        row.updated_by = actor_label(actor)
        row.save()
        record(
            actor,
            "servicehours.save",
            account=account,
            target=account.appid,
            changes={"enabled": enabled, "weekly": stored_weekly, "holidays": stored_holidays},
        )
        transaction.on_commit(lambda: hours.forget(account.pk))
    return row
