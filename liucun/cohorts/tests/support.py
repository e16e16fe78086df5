"""Helpers of the stays tests: histories written as the event store holds them; reports read over the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.test import Client
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import day_start
from liucun.cohorts.consumer import StaysConsumer
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.events.kinds import FOLLOW, UNFOLLOW
from liucun.readmodels import runner
from liucun.readmodels.tests.support import add_event
from liucun.staff.models import Role


@dataclass(frozen=True)
class Stay:
    """One follow period: followed `hour` hours into China day `day`, through `channel`, for `hours`
    hours (None: still following)."""

    day: date
    channel: str
    hours: float | None
    hour: float = 10

    @property
    def followed_at(self) -> datetime:
        return day_start(self.day) + timedelta(hours=self.hour)


def record(account: OfficialAccount, stays: list[Stay], prefix: str = "oS") -> None:
    """Each stay as its own fan's follow (and unfollow) events, then the consumer caught up."""
    for n, stay in enumerate(stays):
        openid = f"{prefix}{account.pk}x{n:05d}"
        add_event(account, openid, FOLLOW, stay.followed_at, channel=stay.channel)
        if stay.hours is not None:
            add_event(account, openid, UNFOLLOW, stay.followed_at + timedelta(hours=stay.hours))
    runner.run(StaysConsumer())


def operator_of(account: OfficialAccount) -> Client:
    return logged_in(member(make_user(f"op{account.pk}"), account, Role.OPERATOR))


def report(client: Client, account: OfficialAccount, name: str, **params: Any) -> dict[str, Any]:
    url = reverse(f"api:report_{name.replace('-', '_')}", args=[account.appid])
    answer = client.get(url, {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()})
    assert answer.status_code == 200, answer.content
    body: dict[str, Any] = answer.json()
    return body
