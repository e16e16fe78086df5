"""How many fans each push cost: unfollows after it against the same hours of earlier weeks.

For a push at time t, its windows start at the beginning of t's hour and last 24 and 72 hours. The
expected number is the mean over the `weeks` previous weeks of the unfollows in the same window shifted
by whole weeks (the same hours of the week, so daily and weekly rhythms cancel), each scaled by the
audience (fans following at the window's start) now over then, so a growing account is not judged
against its smaller past. A baseline week is left out when its window overlaps the 72 hours after any
other push, or starts before the account's first recorded follow or unfollow. With fewer than
MIN_BASELINE_WEEKS usable weeks a push is shown but not judged.

The test is one-sided (only more unfollows than usual): Poisson with the expected mean, or a negative
binomial of the same mean when the baseline weeks are evidently overdispersed (a dispersion test pooled
over the range's pushes, per window length). p-values are Holm-adjusted over every test in the range
(pushes x both windows); a push is flagged when an adjusted p-value is below ALPHA.

Everything is read from the hourly rollup (HourlyFlows): a handful of queries whatever the fan count.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import F, Min, Sum
from django.utils import timezone

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import ReportQuery, day_start
from liucun.pushimpact.consumer import hour_of, hour_start
from liucun.pushimpact.models import HourlyFlows, HourlyTotals, Push
from liucun.pushimpact.statistics import Difference, dispersion, excess_p_values, holm, rate_difference

WINDOWS = (24, 72)
EXCLUDED_HOURS = 72  # after every push: no other push's baseline uses these hours
MIN_BASELINE_WEEKS = 2
ALPHA = 0.05
WEEK_HOURS = 168


@dataclass
class WindowResult:
    hours: int
    observed: int | None = None  # None: the window is not over yet
    expected: float | None = None  # None: not enough baseline
    baseline: list[float] = field(default_factory=list)  # the usable weeks' scaled counts
    p_raw: float | None = None
    p_adjusted: float | None = None

    @property
    def excess(self) -> float | None:
        if self.observed is None or self.expected is None:
            return None
        return self.observed - self.expected

    @property
    def judged(self) -> bool:
        return self.observed is not None and self.expected is not None


class Moment(NamedTuple):
    """The fields of a Push the report needs, read without building model instances."""

    pk: int
    at: datetime
    title: str
    source: str
    recipients: int | None
    recipients_unfollowed: int | None
    holdout: int | None
    holdout_unfollowed: int | None


@dataclass
class PushImpact:
    push: Moment
    windows: dict[int, WindowResult]
    holdout: Difference | None = None

    @property
    def flagged(self) -> bool:
        return any(
            w.p_adjusted is not None and w.p_adjusted < ALPHA and (w.excess or 0) > 0
            for w in self.windows.values()
        )


@dataclass
class Impact:
    pushes: list[PushImpact]
    dispersion: dict[int, float]  # window hours -> variance/mean factor used (1: Poisson)
    dispersion_p: dict[int, float | None]
    weeks: int


class _Series:
    """Hourly unfollows, audience and blocked hours from hour `first` on, as prefix sums: any window's
    total is two lookups, whatever the number of pushes."""

    def __init__(self, account: OfficialAccount, channel: str | None, first: int, last: int) -> None:
        rows = (
            HourlyTotals.objects.filter(account=account)
            if channel is None
            else HourlyFlows.objects.filter(account=account, channel=channel)
        )
        self.first = first
        length = max(0, last - first)
        before = rows.filter(hour__lt=first).aggregate(n=Sum(F("follows") - F("unfollows") - F("reconciled")))
        unfollows = [0] * length
        nets = [0] * length
        for hour, follows, unfollowed, reconciled in rows.filter(hour__gte=first, hour__lt=last).values_list(
            "hour", "follows", "unfollows", "reconciled"
        ):
            unfollows[hour - first] = unfollowed
            nets[hour - first] = follows - unfollowed - reconciled
        self.unfollow_prefix = list(itertools.accumulate(unfollows, initial=0))
        # audience[i]: fans following at the start of hour first + i
        self.audience = list(itertools.accumulate(nets, initial=before["n"] or 0))
        self.blocked_prefix = [0] * (length + 1)

    def block(self, starts: list[int], hours: int) -> None:
        """Mark the `hours` after each start as a push's window, which no baseline may use."""
        length = len(self.blocked_prefix) - 1
        # +1 where a window opens, -1 where it closes: a running sum > 0 is inside some window.
        edges = [0] * (length + 1)
        for start in starts:
            lo, hi = max(start, self.first) - self.first, min(start + hours, self.first + length) - self.first
            if lo < hi:
                edges[lo] += 1
                edges[hi] -= 1
        inside = (1 if depth > 0 else 0 for depth in itertools.accumulate(edges[:length]))
        self.blocked_prefix = list(itertools.accumulate(inside, initial=0))

    def unfollows(self, start: int, hours: int) -> int:
        i = start - self.first
        return self.unfollow_prefix[i + hours] - self.unfollow_prefix[i]

    def blocked(self, start: int, hours: int) -> bool:
        i = start - self.first
        return self.blocked_prefix[i + hours] > self.blocked_prefix[i]

    def following(self, start: int) -> int:
        return self.audience[start - self.first]


def measure(account: OfficialAccount, query: ReportQuery, weeks: int) -> Impact:
    range_start, range_end = day_start(query.start), day_start(query.end) + timedelta(days=1)
    pushes = [
        Moment(*row)
        for row in Push.objects.filter(account=account, at__gte=range_start, at__lt=range_end)
        .order_by("at", "pk")
        .values_list(*Moment._fields)
    ]
    if not pushes:
        return Impact([], dict.fromkeys(WINDOWS, 1.0), dict.fromkeys(WINDOWS), weeks)
    first = hour_of(pushes[0].at) - weeks * WEEK_HOURS
    last = hour_of(pushes[-1].at) + max(WINDOWS)
    # Other pushes' windows reach into this range's baselines from before it.
    nearby = Push.objects.filter(
        account=account, at__gte=hour_start(first - EXCLUDED_HOURS), at__lt=hour_start(last)
    )
    data_from = HourlyTotals.objects.filter(account=account).aggregate(h=Min("hour"))["h"]
    now_hour = hour_of(timezone.now())
    series = _Series(account, query.channel, first, last)
    # A push's own window is never in its baseline (weeks back end 96 h before it), so blocking every
    # push's window blocks exactly the other pushes'.
    series.block([hour_of(at) for at in nearby.values_list("at", flat=True)], EXCLUDED_HOURS)

    results = []
    for push in pushes:
        start = hour_of(push.at)
        windows = {}
        for hours in WINDOWS:
            result = WindowResult(hours)
            if start + hours <= now_hour:
                result.observed = series.unfollows(start, hours)
            result.baseline = _baseline(series, start, hours, weeks, data_from)
            if len(result.baseline) >= MIN_BASELINE_WEEKS:
                result.expected = sum(result.baseline) / len(result.baseline)
            windows[hours] = result
        results.append(PushImpact(push, windows, _holdout(push)))

    factors, dispersion_p = {}, {}
    for hours in WINDOWS:
        found = dispersion(
            [r.windows[hours].baseline for r in results if r.windows[hours].expected is not None]
        )
        factors[hours], dispersion_p[hours] = found.factor, found.p_value
    tested = [w for r in results for w in r.windows.values() if w.judged]
    for hours in WINDOWS:
        these = [w for w in tested if w.hours == hours]
        p_values = excess_p_values(
            [w.observed or 0 for w in these], [w.expected or 0.0 for w in these], factors[hours]
        )
        for w, p in zip(these, p_values, strict=True):
            w.p_raw = p
    for w, adjusted in zip(tested, holm([w.p_raw or 1.0 for w in tested]), strict=True):
        w.p_adjusted = adjusted
    return Impact(results, factors, dispersion_p, weeks)


def _baseline(series: _Series, start: int, hours: int, weeks: int, data_from: int | None) -> list[float]:
    """The same window in each usable earlier week, scaled to today's audience."""
    audience_now = series.following(start)
    counts = []
    for week in range(1, weeks + 1):
        shifted = start - week * WEEK_HOURS
        if data_from is None or shifted < data_from:
            continue  # before Liucun knew of any follow: zero unfollows there would mean nothing
        if series.blocked(shifted, hours):
            continue
        audience_then = series.following(shifted)
        scale = audience_now / audience_then if audience_now > 0 and audience_then > 0 else 1.0
        counts.append(series.unfollows(shifted, hours) * scale)
    return counts


def _holdout(push: Moment) -> Difference | None:
    """The causal comparison, for pushes that held fans out (Liucun's own, once it sends them)."""
    if None in (push.recipients, push.recipients_unfollowed, push.holdout, push.holdout_unfollowed):
        return None
    return rate_difference(
        push.recipients or 0, push.recipients_unfollowed or 0, push.holdout or 0, push.holdout_unfollowed or 0
    )
