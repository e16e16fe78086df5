"""Rows of the stays rollup for other apps' tests (the console's query counts): populate(account, fans)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import site_zone
from liucun.cohorts.models import BIN_COLUMNS, CohortStays, StayFanCursor, bin_of
from liucun.fans.models import Fan


def populate(account: OfficialAccount, fans: list[Fan]) -> None:
    """One follow period per fan, as the consumer would have stored it: followed a day apart, every third
    fan gone after as many days as its place in the list, the others still following."""
    now = datetime.now(UTC)
    rows: dict[tuple[object, str], CohortStays] = {}
    cursors = []
    for i, fan in enumerate(fans):
        followed = now - timedelta(days=i + 1)
        gone = i % 3 == 0
        key = (followed.astimezone(site_zone()).date(), fan.channel)
        row = rows.setdefault(key, CohortStays(account=account, cohort_day=key[0], channel=fan.channel))
        row.fans += 1
        if gone:
            column = BIN_COLUMNS[bin_of(i)]
            setattr(row, column, getattr(row, column) + 1)
        cursors.append(
            StayFanCursor(
                account=account,
                openid=fan.openid,
                last_at=followed + timedelta(days=i) if gone else followed,
                last_event_id=0,
                open_since=None if gone else followed,
                open_channel="" if gone else fan.channel,
            )
        )
    StayFanCursor.objects.bulk_create(cursors)
    CohortStays.objects.bulk_create(rows.values())
