"""Reading the audit log: staff actions apart from automatic ones, and repeated automatic entries grouped.

On a busy account most entries are written by Liucun itself (the privacy policy erasing fans who left,
scheduled syncs): hundreds a day, which would bury the few that a person made. The log therefore shows
staff actions by default, and automatic ones grouped per day, actor and action.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.staff.models import AuditEntry

WHO = {"staff": _("Staff"), "automatic": _("Automatic"), "all": _("Everyone")}

# A person acted: logged in (actor set), through an API token, or on the command line.
BY_STAFF = Q(actor__isnull=False) | Q(actor_label__startswith="api-token:") | Q(actor_label="cli")


def entries(
    account: OfficialAccount, *, who: str, action: str = "", actor: str = "", day: date | None = None
) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.filter(account=account).select_related("actor")
    if who == "staff":
        qs = qs.filter(BY_STAFF)
    elif who == "automatic":
        qs = qs.exclude(BY_STAFF)
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_label=actor)
    if day is not None:
        zone = ZoneInfo(settings.TIME_ZONE)
        start = datetime.combine(day, time.min, tzinfo=zone)
        qs = qs.filter(at__gte=start, at__lt=start + timedelta(days=1))
    return qs


def grouped(qs: QuerySet[AuditEntry]) -> QuerySet[Any]:
    """One row per day, actor and action: how many entries, first and last; newest day first."""
    day = TruncDate("at", tzinfo=ZoneInfo(settings.TIME_ZONE))
    return (
        qs.order_by()
        .annotate(day=day)
        .values("day", "actor_label", "action")
        .annotate(count=Count("id"), first=Min("at"), last=Max("at"))
        .order_by("-day", "actor_label", "action")
    )
