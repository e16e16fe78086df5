"""Rows of the push-impact app for other tests (the console's query-count pins call populate)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import F

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan
from liucun.pushimpact.consumer import hour_of
from liucun.pushimpact.models import HourlyFlows, HourlyTotals, Push, PushSource

HOUR0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, 08:00 in China


def steady_hours(
    account: OfficialAccount, hours: int, *, channel: str = "", start: datetime = HOUR0, audience: int = 1000
) -> None:
    """One follow and one unfollow every hour after `audience` fans arrived in the first: a steady
    audience of `audience` fans losing one an hour (HourlyTotals added to, as the consumer would)."""
    first = hour_of(start)
    HourlyFlows.objects.bulk_create(
        HourlyFlows(
            account=account, hour=first + i, channel=channel, follows=1 + (i == 0) * audience, unfollows=1
        )
        for i in range(hours)
    )
    known = set(HourlyTotals.objects.filter(account=account).values_list("hour", flat=True))
    HourlyTotals.objects.filter(account=account, hour__gte=first, hour__lt=first + hours).update(
        follows=F("follows") + 1, unfollows=F("unfollows") + 1
    )
    HourlyTotals.objects.filter(account=account, hour=first).update(follows=F("follows") + audience)
    HourlyTotals.objects.bulk_create(
        HourlyTotals(account=account, hour=first + i, follows=1 + (i == 0) * audience, unfollows=1)
        for i in range(hours)
        if first + i not in known
    )


def populate(account: OfficialAccount, fans: list[Fan]) -> int:
    """Pushes of every source and a week of hourly flows per channel of the given fans; the id of a push
    (for URLs that name one: push-delete)."""
    made = [
        Push.objects.create(
            account=account,
            at=HOUR0 + timedelta(days=i, hours=12),
            title=f"push {source}",
            source=source,
            note="note" if source == PushSource.ANNOTATION else "",
            external_id="article_1" if source == PushSource.PUBLISHED else "",
        )
        for i, source in enumerate(PushSource.values)
    ]
    channels = sorted({fan.channel for fan in fans} or {""})
    for channel in channels:
        steady_hours(account, 24 * 7, channel=channel, audience=max(1, len(fans)))
    return made[0].pk
