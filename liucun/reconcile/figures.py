"""The two sides of the reconciliation, per China day, read from small tables only.

WeChat's side is what the pull stored (WeChatDay: one row per pulled day). Liucun's side is the
daily-follows read model (follows and refollows from callbacks, unfollows from callbacks, unfollows a
follower sync found, dated on the sync's day) and the follows a sync found (SyncFoundDay, dated on the
fan's follow). Liucun's followers at the end of a day are everything it knows up to that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import F, Min, Q, Sum
from django.db.models.functions import Coalesce

from liucun.accounts.models import OfficialAccount
from liucun.readmodels.models import DailyFollows
from liucun.reconcile.models import PullState, SyncFoundDay, WeChatDay, WeChatSourceDay


@dataclass
class Liucun:
    new: int = 0  # follows and refollows whose callback arrived
    unfollows: int = 0  # unfollows whose callback arrived
    reconciled: int = 0  # unfollows a follower sync found on this day (the sync's day)
    found: int = 0  # follows a follower sync found, on the day of the follow


@dataclass(frozen=True)
class WeChat:
    new: int
    unfollows: int
    cumulate: int


@dataclass
class Sides:
    first: date
    last: date
    wechat: dict[date, WeChat]
    liucun: dict[date, Liucun]
    # Liucun's followers at the end of the day before `first`.
    following_before: int
    # The first day Liucun has a follow or unfollow for (callbacks or imported history); None: nothing.
    liucun_since: date | None
    # Unfollows a sync found after `last` (up to today), by the sync's day.
    reconciled_after: dict[date, int]


def read_sides(account: OfficialAccount, first: date, last: date, today: date) -> Sides:
    wechat = {
        day: WeChat(new, cancel, cumulate)
        for day, new, cancel, cumulate in WeChatDay.objects.filter(
            account=account, day__gte=first, day__lte=last
        ).values_list("day", "new_user", "cancel_user", "cumulate_user")
    }
    follows = DailyFollows.objects.filter(account=account)
    liucun: dict[date, Liucun] = {}
    in_range = (
        follows.filter(day__gte=first, day__lte=last)
        .values("day")
        .annotate(
            new=Sum(F("follows") + F("refollows")),
            unfollows=Sum("unfollows"),
            reconciled=Sum("reconciled_unfollows"),
        )
        .values_list("day", "new", "unfollows", "reconciled")
    )
    for day, new, unfollows, reconciled in in_range:
        liucun[day] = Liucun(new, unfollows, reconciled)
    for day, found in SyncFoundDay.objects.filter(account=account, day__gte=first, day__lte=last).values_list(
        "day", "found"
    ):
        liucun.setdefault(day, Liucun()).found = found
    before = follows.filter(day__lt=first).aggregate(
        net=Coalesce(Sum(F("follows") + F("refollows") - F("unfollows") - F("reconciled_unfollows")), 0)
    )["net"]
    found_before = SyncFoundDay.objects.filter(account=account, day__lt=first).aggregate(
        n=Coalesce(Sum("found"), 0)
    )["n"]
    undated = PullState.objects.filter(account=account).values_list("found_undated", flat=True).first() or 0
    after = dict(
        follows.filter(day__gt=last, day__lte=today, reconciled_unfollows__gt=0)
        .values("day")
        .annotate(n=Sum("reconciled_unfollows"))
        .values_list("day", "n")
    )
    return Sides(
        first=first,
        last=last,
        wechat=wechat,
        liucun=liucun,
        following_before=before + found_before + undated,
        liucun_since=follows.aggregate(first=Min("day"))["first"],
        reconciled_after=after,
    )


@dataclass(frozen=True)
class SourceTotals:
    wechat: dict[int, tuple[int, int]]  # user_source -> (new, unfollows) over the pulled days
    qr: tuple[int, int]  # Liucun's follows and unfollows from QR scenes on those days
    other: tuple[int, int]  # Liucun's follows and unfollows without a QR scene on those days
    pulled_days: int


def source_totals(account: OfficialAccount, first: date, last: date) -> SourceTotals:
    """Per source, over the days of the range that are pulled, so both sides cover the same days."""
    pulled = list(
        WeChatDay.objects.filter(account=account, day__gte=first, day__lte=last).values_list("day", flat=True)
    )
    wechat: dict[int, tuple[int, int]] = {}
    for source, new, cancel in (
        WeChatSourceDay.objects.filter(account=account, day__gte=first, day__lte=last)
        .values("user_source")
        .annotate(n=Sum("new_user"), c=Sum("cancel_user"))
        .values_list("user_source", "n", "c")
    ):
        wechat[source] = (new, cancel)
    pulled_set = set(pulled)
    qr, other = [0, 0], [0, 0]
    qr_scene = ~Q(channel="")
    rows = (
        DailyFollows.objects.filter(account=account, day__gte=first, day__lte=last)
        .values("day")
        .annotate(
            qn=Coalesce(Sum(F("follows") + F("refollows"), filter=qr_scene), 0),
            qu=Coalesce(Sum("unfollows", filter=qr_scene), 0),
            on=Coalesce(Sum(F("follows") + F("refollows"), filter=Q(channel="")), 0),
            ou=Coalesce(Sum("unfollows", filter=Q(channel="")), 0),
        )
        .values_list("day", "qn", "qu", "on", "ou")
    )
    for day, qn, qu, on, ou in rows:
        if day in pulled_set:
            qr[0] += qn
            qr[1] += qu
            other[0] += on
            other[1] += ou
    return SourceTotals(wechat, (qr[0], qr[1]), (other[0], other[1]), len(pulled))


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
