"""Reads of the stays rollup for the reports: one query each, over an account's cohort days and channels.

Each answer is small whatever the account's size: at most one row per cohort day and channel.
"Reached" is decided here from whole China days: every fan of cohort day d has been following for k
days once day d + 1 + k has begun, whatever time on day d they followed.
"""

from __future__ import annotations

import operator
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce
from itertools import accumulate
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet, Sum
from django.utils.translation import gettext as _

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import ReportQuery
from liucun.cohorts.models import BIN_COLUMNS, BIN_STARTS, CohortStays


def rows_in_range(account: OfficialAccount, query: ReportQuery) -> QuerySet[CohortStays]:
    rows = CohortStays.objects.filter(account=account, cohort_day__gte=query.start, cohort_day__lte=query.end)
    if query.channel is not None:
        rows = rows.filter(channel=query.channel)
    return rows


def last_cohort_day_reaching(days: int, today: date) -> date:
    """The latest cohort day every fan of which has been following `days` days by now."""
    return today - timedelta(days=days + 1)


@dataclass
class Stays:
    """Periods of a cohort (a day, a channel, or their sum): how many, and how many ended in each bin."""

    fans: int
    gone: list[int]  # per bin of BIN_STARTS
    _running: list[int] | None = field(default=None, repr=False)  # gone before each bin start

    @property
    def still_following(self) -> int:
        return self.fans - sum(self.gone)

    def gone_before(self, days: int) -> int:
        """Periods that ended after fewer than `days` whole days (`days` must be a bin start or beyond)."""
        if self._running is None:
            self._running = [0, *accumulate(self.gone)]
        return self._running[bisect_left(BIN_STARTS, days)]

    def add(self, other: Stays) -> None:
        self.fans += other.fans
        self.gone = [a + b for a, b in zip(self.gone, other.gone, strict=True)]
        self._running = None


def empty() -> Stays:
    return Stays(0, [0] * len(BIN_STARTS))


def by_cohort_day(account: OfficialAccount, query: ReportQuery) -> dict[date, Stays]:
    """Every channel (or the query's) summed per cohort day."""
    rows = (
        rows_in_range(account, query)
        .values("cohort_day")
        .annotate(n=Sum("fans"), **{c: Sum(c) for c in BIN_COLUMNS})
        .order_by()
        .values_list("cohort_day", "n", *BIN_COLUMNS)
    )
    return {_day(row[0]): Stays(row[1], list(row[2:])) for row in _fetch(rows)}


def by_channel(account: OfficialAccount, query: ReportQuery) -> dict[str, Stays]:
    """Every cohort day in the range summed per channel."""
    rows = (
        rows_in_range(account, query)
        .values("channel")
        .annotate(n=Sum("fans"), **{c: Sum(c) for c in BIN_COLUMNS})
        .order_by()
        .values_list("channel", "n", *BIN_COLUMNS)
    )
    return {row[0]: Stays(row[1], list(row[2:])) for row in _fetch(rows) if row[1]}


def still_following_by_channel_and_day(
    account: OfficialAccount, query: ReportQuery
) -> dict[str, dict[date, int]]:
    rows = (
        rows_in_range(account, query)
        .annotate(still=F("fans") - reduce(operator.add, (F(c) for c in BIN_COLUMNS)))
        .filter(still__gt=0)
        .values_list("channel", "cohort_day", "still")
    )
    out: dict[str, dict[date, int]] = {}
    for channel, day, n in _fetch(rows):
        out.setdefault(channel, {})[_day(day)] = n
    return out


def _fetch(rows: QuerySet[Any]) -> list[tuple[Any, ...]]:
    # The ORM writes the SQL; the rows are read without its per-value converters, which cost more than
    # the query for a year of cohort days x fifty columns.
    statement, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def channel_name(scene: str, labels: dict[str, str]) -> str:
    if scene == "":
        return _("No QR code (search, articles, other)")
    return f"{labels[scene]} ({scene})" if scene in labels else scene


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def ordered_channels(channels: Iterable[str], fans: dict[str, int]) -> list[str]:
    return sorted(channels, key=lambda c: (-fans.get(c, 0), c))
