"""Pulling WeChat's follower statistics (getusersummary, getusercumulate) for the days not yet pulled.

Which days: from `back_days` before the latest available day (never before 2014-12-01, WeChat's first)
up to that day, which is yesterday once WeChat has published it (08:00 China time), else the day before.
Days are asked for in spans of at most 7 consecutive missing days (WeChat's span). Each span is stored
in one transaction that replaces the days it covers, so pulling a day again gives the same rows.

One run holds an account at a time (a conditional UPDATE of PullState.claimed_until, renewed per span);
a run whose worker died lets go when the claim runs out. A refusal for good (48001: the account may not
use statistics; a date refusal) is stored as `refused` and waits for an operator's "pull now"; WeChat
being busy, unreachable or out of quota is `failed`, and the next periodic run tries again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import translation

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.analytics.periods import site_zone
from liucun.reconcile.found import refresh_found_if_stale
from liucun.reconcile.models import PullState, PullStatus, WeChatDay, WeChatSourceDay
from liucun.sqlite_writelock import serialized_writes
from liucun.wechat.api import datacube
from liucun.wechat.api.limits import LimitError
from liucun.wechat.apierrors import PermanentError, WeChatAPIError
from liucun.wechat_refusals import WeChatRefused

log = logging.getLogger(__name__)

FIRST_DAY = date(2014, 12, 1)  # WeChat keeps statistics from this day on
BACK_DAYS = 366  # a year back: the longest range a report usually shows, and a year against WeChat's
SPAN_DAYS = 7  # getusersummary and getusercumulate answer at most 7 days a call
PUBLISHED_AT = time(8, 0)  # a day's statistics appear the next morning, China time
CLAIM = timedelta(minutes=5)


def latest_available(now: datetime) -> date:
    """The newest day WeChat has published at `now`."""
    local = now.astimezone(site_zone())
    yesterday = local.date() - timedelta(days=1)
    return yesterday if local.time() >= PUBLISHED_AT else yesterday - timedelta(days=1)


def wanted_days(now: datetime, back_days: int = BACK_DAYS) -> tuple[date, date]:
    last = latest_available(now)
    return max(FIRST_DAY, last - timedelta(days=back_days - 1)), last


def missing_days(account: OfficialAccount, now: datetime, back_days: int = BACK_DAYS) -> list[date]:
    first, last = wanted_days(now, back_days)
    pulled = set(
        WeChatDay.objects.filter(account=account, day__gte=first, day__lte=last).values_list("day", flat=True)
    )
    return [d for d in _day_range(first, last) if d not in pulled]


def spans(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into spans of at most SPAN_DAYS, oldest first."""
    result: list[tuple[date, date]] = []
    for day in sorted(days):
        if result and day - result[-1][1] == timedelta(days=1) and (day - result[-1][0]).days < SPAN_DAYS:
            result[-1] = (result[-1][0], day)
        else:
            result.append((day, day))
    return result


@dataclass(frozen=True)
class PullOutcome:
    status: str
    days_pulled: int


def run_pull(
    account_id: int, *, now: datetime | None = None, back_days: int = BACK_DAYS, force: bool = False
) -> PullOutcome:
    """Pull every missing day of the account (`force`: also when a refusal is stored). Safe to run twice:
    a second run at the same time finds the account claimed and does nothing."""
    now = now or datetime.now(UTC)
    account = OfficialAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return PullOutcome("gone", 0)
    state = _claim(account, now, force=force)
    if state is None:
        return PullOutcome("busy", 0)
    refresh_found_if_stale(account)
    if not account.capabilities.datacube:
        _finish(
            account,
            PullStatus.REFUSED,
            code="reconcile.not_verified",
            message="WeChat gives follower statistics to verified accounts only.",
        )
        return PullOutcome(PullStatus.REFUSED, 0)
    days = missing_days(account, now, back_days)
    PullState.objects.filter(pk=account.pk).update(days_wanted=len(days), days_done=0)
    done = 0
    client = client_for(account)
    try:
        for begin, end in spans(days):
            summary = datacube.user_summary(client, begin, end)
            cumulate = datacube.user_cumulate(client, begin, end)
            store_span(account, begin=begin, end=end, summary=summary, cumulate=cumulate, pulled_at=now)
            done += (end - begin).days + 1
            PullState.objects.filter(pk=account.pk).update(
                days_done=done, claimed_until=datetime.now(UTC) + CLAIM
            )
    except WeChatAPIError as exc:
        refused_for_good = isinstance(exc, PermanentError | LimitError)
        log.warning("datacube pull of %s stopped after %d days: %s", account.appid, done, exc)
        with translation.override("en"):
            message = WeChatRefused(exc).message
        _finish(
            account,
            PullStatus.REFUSED if refused_for_good else PullStatus.FAILED,
            code=f"wechat.{exc.errcode}" if exc.errcode is not None else "wechat.unreachable",
            errcode=exc.errcode,
            message=message,
        )
        return PullOutcome(PullStatus.REFUSED if refused_for_good else PullStatus.FAILED, done)
    finally:
        client.close()
    _finish(account, PullStatus.IDLE, success=True)
    return PullOutcome(PullStatus.IDLE, done)


def store_span(
    account: OfficialAccount,
    *,
    begin: date,
    end: date,
    summary: list[datacube.UserSummary],
    cumulate: list[datacube.UserCumulate],
    pulled_at: datetime,
) -> None:
    """Replace the span's days with WeChat's answer, in one transaction. A day WeChat gave no
    cumulate for is left unpulled (it is asked for again next time)."""
    totals: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    by_source: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in summary:
        if begin <= row.ref_date <= end:
            by_source[row.ref_date, row.user_source][0] += row.new_user
            by_source[row.ref_date, row.user_source][1] += row.cancel_user
            totals[row.ref_date][0] += row.new_user
            totals[row.ref_date][1] += row.cancel_user
    cumulated = {c.ref_date: c.cumulate_user for c in cumulate if begin <= c.ref_date <= end}
    with serialized_writes(), transaction.atomic():
        WeChatSourceDay.objects.filter(account=account, day__gte=begin, day__lte=end).delete()
        WeChatDay.objects.filter(account=account, day__gte=begin, day__lte=end).delete()
        WeChatDay.objects.bulk_create(
            WeChatDay(
                account=account,
                day=day,
                cumulate_user=cumulate_user,
                new_user=totals[day][0],
                cancel_user=totals[day][1],
                pulled_at=pulled_at,
            )
            for day, cumulate_user in sorted(cumulated.items())
        )
        WeChatSourceDay.objects.bulk_create(
            WeChatSourceDay(account=account, day=day, user_source=source, new_user=n, cancel_user=c)
            for (day, source), (n, c) in sorted(by_source.items())
            if day in cumulated
        )


def _claim(account: OfficialAccount, now: datetime, *, force: bool) -> PullState | None:
    with serialized_writes(), transaction.atomic():
        PullState.objects.get_or_create(account=account)
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        if not force:
            free &= ~Q(status=PullStatus.REFUSED)
        taken = PullState.objects.filter(free, pk=account.pk).update(
            claimed_until=now + CLAIM, status=PullStatus.RUNNING, last_started_at=now
        )
    return PullState.objects.get(pk=account.pk) if taken else None


def _finish(
    account: OfficialAccount,
    status: str,
    *,
    code: str = "",
    errcode: int | None = None,
    message: str = "",
    success: bool = False,
) -> None:
    now = datetime.now(UTC)
    changes: dict[str, object] = {
        "status": status,
        "error_code": code,
        "errcode": errcode,
        "message": message[:400],
        "claimed_until": None,
        "last_finished_at": now,
    }
    if success:
        changes["last_success_at"] = now
    with serialized_writes(), transaction.atomic():
        PullState.objects.filter(pk=account.pk).update(**changes)


def _day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
