"""The date range every report takes: China days (the site's time zone), a granularity, a channel.

A report's range is whole days, `start` to `end` inclusive, in the site's time zone (LIUCUN_TIME_ZONE,
Asia/Shanghai by default), the days WeChat's own statistics use. Weeks start on Monday, as in China.
Bad input is refused with the reason (ReportRefused) and nothing is computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liucun.refusals import Refused

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # three years: a year against the year before, with room
GRANULARITIES = ("day", "week", "month")
# The channel of fans who came without a QR code (search, articles, other scenes) in a query string.
NO_CHANNEL = "~"


class ReportRefused(Refused):
    code = "report.refused"


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def today() -> date:
    return timezone.localdate(timezone=site_zone())


def day_start(day: date) -> datetime:
    """The first instant of a China day, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=site_zone())


def week_of(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())


def month_of(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class Bucket:
    """One row of a day / week / month series: its first and last day, clipped to the range."""

    first: date
    last: date
    label: str


@dataclass(frozen=True)
class ReportQuery:
    start: date
    end: date
    granularity: str = "day"
    # None: every channel; "": fans who came without a QR scene; else a QR scene.
    channel: str | None = None
    # The report's own parameters (ReportSpec.params), already checked against their choices.
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def day_list(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def buckets(self) -> list[Bucket]:
        """The range cut into days, weeks (Monday first) or months; the first and last may be partial."""
        buckets: list[Bucket] = []
        day = self.start
        while day <= self.end:
            if self.granularity == "week":
                first, nxt = week_of(day), week_of(day) + timedelta(days=7)
                label = first.isoformat()
            elif self.granularity == "month":
                first = month_of(day)
                nxt = (first + timedelta(days=32)).replace(day=1)
                label = first.strftime("%Y-%m")
            else:
                first, nxt, label = day, day + timedelta(days=1), day.isoformat()
            last = min(nxt - timedelta(days=1), self.end)
            buckets.append(Bucket(max(first, self.start), last, label))
            day = nxt
        return buckets


def _day(value: str | None, name: str) -> date | None:
    if value is None or value.strip() == "":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ReportRefused(
            _("%(name)s must be a date written YYYY-MM-DD, not “%(value)s”."),
            {"name": name, "value": value[:40]},
            code="report.bad_date",
        ) from None


def parse_query(
    params: Mapping[str, str | None],
    *,
    default_days: int = DEFAULT_DAYS,
    options: Mapping[str, tuple[str, tuple[str, ...]]] | None = None,
) -> ReportQuery:
    """A ReportQuery from request parameters (start, end, granularity, channel and the report's own).

    `options` maps each report parameter to (default, allowed values); an empty tuple allows any
    value of at most 64 characters. End defaults to today, start to `default_days` days before it."""
    end = _day(params.get("end"), "end") or today()
    start = _day(params.get("start"), "start") or end - timedelta(days=default_days - 1)
    if start > end:
        raise ReportRefused(_("The range starts after it ends."), code="report.bad_range")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportRefused(
            _("A range is at most %(n)d days."), {"n": MAX_DAYS}, code="report.range_too_long"
        )
    granularity = (params.get("granularity") or "day").strip()
    if granularity not in GRANULARITIES:
        raise ReportRefused(
            _("Granularity must be day, week or month, not “%(value)s”."),
            {"value": granularity[:40]},
            code="report.bad_granularity",
        )
    raw_channel = params.get("channel")
    channel: str | None = None
    if raw_channel is not None and raw_channel.strip() != "":
        channel = "" if raw_channel.strip() == NO_CHANNEL else raw_channel.strip()
        if len(channel) > 64:
            raise ReportRefused(_("A channel is at most 64 characters."), code="report.bad_channel")
    chosen: dict[str, str] = {}
    for name, (default, allowed) in (options or {}).items():
        value = (params.get(name) or default).strip()
        if (allowed and value not in allowed) or len(value) > 64:
            raise ReportRefused(
                _("%(name)s must be one of: %(allowed)s."),
                {"name": name, "allowed": ", ".join(allowed) or "(at most 64 characters)"},
                code="report.bad_option",
            )
        chosen[name] = value
    return ReportQuery(start, end, granularity, channel, chosen)
