"""Growth and the daily unfollow rate: exact numbers on a small fixed history, the same as a wxsim
history's ground truth, through the API, and the overview's tiles."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from liucun.analytics.following import FollowingConsumer, following_lines
from liucun.analytics.periods import site_zone, today
from liucun.analytics.tests.fixtures import imported_history
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.fans.models import Fan
from liucun.inbound.history_import import HistoryFile
from liucun.readmodels import runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.tests.support import add_event
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def _at(day: int, hour: int) -> datetime:
    # Noon-ish in Shanghai on 2026-06-<day>: UTC hours 0-15 are the same China day.
    return datetime(2026, 6, day, hour, tzinfo=UTC)


def _api(client: Client, account, name: str, **params: str) -> dict:
    response = client.get(reverse(f"api:report_{name.replace('-', '_')}", args=[account.appid]), params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def fixed():
    """Six fans over 1-4 June 2026 and one the follower sync found; the fans table as the callbacks left it.

    o1 follows (store) on 1 June, unfollows on 3 June.    o2 follows (store) 1 June, still following.
    o3 follows (no scene) 2 June, unfollows 2 June, refollows (poster) 4 June.
    o4 followed before Liucun: its first event is an unfollow on 2 June.
    o5 follows (poster) 3 June twice (the unfollow between them was lost): one fan, two follows.
    o6 follows (store) 1 June; the sync found it gone on 4 June (reconciled unfollow).
    oS was found following by the follower sync: no event at all.
    """
    account = make_account()
    add_event(account, "o2", FOLLOW, _at(1, 3), "store")
    add_event(account, "o6", FOLLOW, _at(1, 4), "store")
    add_event(account, "o3", FOLLOW, _at(2, 2))
    add_event(account, "o3", UNFOLLOW, _at(2, 5))
    add_event(account, "o4", UNFOLLOW, _at(2, 6))
    add_event(account, "o1", UNFOLLOW, _at(3, 2))
    add_event(account, "o5", FOLLOW, _at(3, 3), "poster")
    add_event(account, "o5", FOLLOW, _at(3, 4), "poster")
    add_event(account, "o6", UNFOLLOW_RECONCILED, _at(4, 1))
    add_event(account, "o3", FOLLOW, _at(4, 9), "poster")
    runner.run(DailyFollowsConsumer())
    runner.run(FollowingConsumer())
    # Stored last, happened first (a late retry): o1's unfollow was counted as one of a fan who followed
    # before Liucun; now it is the end of o1's period from the store channel.
    add_event(account, "o1", FOLLOW, _at(1, 2), "store")
    for openid, following in [("o1", 0), ("o2", 1), ("o3", 1), ("o4", 0), ("o5", 1), ("o6", 0), ("oS", 1)]:
        Fan.objects.create(account=account, openid=openid, is_following=bool(following))
    runner.run(DailyFollowsConsumer())
    runner.run(FollowingConsumer())
    client = logged_in(member(make_user("op"), account, Role.OPERATOR))
    return account, client


def test_growth_by_day_counts_as_wechat_and_ends_at_the_fans_tables_number(fixed) -> None:
    account, client = fixed
    body = _api(client, account, "growth", start="2026-05-31", end="2026-06-04")
    rows = [
        (r["day"], r["new"], r["unfollows"], r["reconciled"], r["net"], r["cumulative"]) for r in body["rows"]
    ]
    assert rows == [
        # o4 (followed before Liucun) and oS (found by sync) follow on every day before their events.
        ("2026-05-31", 0, 0, 0, 0, 2),
        ("2026-06-01", 3, 0, 0, 3, 5),  # o1 o2 o6
        ("2026-06-02", 1, 2, 0, -1, 4),  # o3 in and out, o4 out
        ("2026-06-03", 2, 1, 0, 1, 4),  # o5 twice (one fan), o1 out
        ("2026-06-04", 1, 1, 1, 0, 4),  # o3 back, o6 found gone
    ]
    assert rows[-1][-1] == Fan.objects.filter(account=account, is_following=True).count()
    assert [c["key"] for c in body["columns"]] == [
        "day",
        "new",
        "unfollows",
        "reconciled",
        "net",
        "cumulative",
    ]
    assert body["meta"]["totals"] == {"new": 7, "unfollows": 4, "reconciled": 1, "net": 3}
    assert body["meta"]["channel_totals"] == {"store": 3, "": 1, "poster": 3}


def test_growth_by_week_and_by_channel(fixed) -> None:
    account, client = fixed
    week = _api(client, account, "growth", start="2026-05-31", end="2026-06-04", granularity="week")
    assert [(r["day"], r["new"], r["unfollows"], r["cumulative"]) for r in week["rows"]] == [
        ("2026-05-31", 0, 0, 2),  # the week of Monday 25 May, clipped to the range
        ("2026-06-01", 7, 4, 4),
    ]
    store = _api(client, account, "growth", start="2026-05-31", end="2026-06-04", channel="store")
    assert [(r["new"], r["unfollows"], r["cumulative"]) for r in store["rows"]] == [
        (0, 0, 0),
        (3, 0, 3),
        (0, 0, 3),
        (0, 1, 2),
        (0, 1, 1),  # o6's reconciled unfollow counts under its channel
    ]
    poster = _api(client, account, "growth", start="2026-06-03", end="2026-06-04", channel="poster")
    assert [r["cumulative"] for r in poster["rows"]] == [1, 2]
    none = _api(client, account, "growth", start="2026-06-01", end="2026-06-04", channel="~")
    # o4 and oS until o4 leaves; o3's hour without a scene is inside one day.
    assert [r["cumulative"] for r in none["rows"]] == [2, 1, 1, 1]


def test_the_daily_unfollow_rate_divides_by_the_fans_following_at_the_start(fixed) -> None:
    account, client = fixed
    body = _api(client, account, "unfollow-rate", start="2026-06-01", end="2026-06-04")
    assert [(r["day"], r["unfollows"], r["following_start"], r["rate"]) for r in body["rows"]] == [
        ("2026-06-01", 0, 2, 0.0),
        ("2026-06-02", 2, 5, 0.4),
        ("2026-06-03", 1, 4, 0.25),
        ("2026-06-04", 1, 4, 0.25),
    ]
    assert body["meta"]["average_daily_rate"] == 4 / 15
    assert body["findings"] == [
        "Average daily unfollow rate over the range: 26.667 %, above the usual range of public accounts "
        "(mean 0.08 %, most 0.03-0.09 %: Newrank 2017)."
    ]
    week = _api(client, account, "unfollow-rate", start="2026-06-01", end="2026-06-04", granularity="week")
    assert [(r["unfollows"], r["following_start"], r["days"], r["rate"]) for r in week["rows"]] == [
        (4, 2, 4, 0.5)
    ]
    empty = _api(client, account, "unfollow-rate", start="2026-05-01", end="2026-05-02", channel="poster")
    assert [r["rate"] for r in empty["rows"]] == [None, None]


def test_a_wxsim_history_gives_its_ground_truth(tmp_path: Path) -> None:
    account = make_account(mode="safe")
    path = imported_history(account, tmp_path, fans=300, days=40)
    history = HistoryFile(path)
    tz = site_zone()
    new: Counter[date] = Counter()
    lost: Counter[date] = Counter()
    state: dict[str, list[tuple[date, bool]]] = {}
    for i in range(history.events):
        if history.kind[i] not in (0, 1):
            continue
        day = datetime.fromtimestamp(history.time[i], tz).date()
        (new if history.kind[i] == 0 else lost)[day] += 1
        state.setdefault(history.openid(history.fan[i]), []).append((day, history.kind[i] == 0))
    history.close()
    first, last = min(new), today()

    def following_at_end(day: date) -> int:
        n = 0
        for changes in state.values():
            before = [f for d, f in changes if d <= day]
            n += bool(before) and before[-1]
        return n

    client = logged_in(member(make_user("op"), account, Role.OPERATOR))
    body = _api(client, account, "growth", start=first.isoformat(), end=last.isoformat())
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    assert [(r["new"], r["unfollows"], r["cumulative"]) for r in body["rows"]] == [
        (new[d], lost[d], following_at_end(d)) for d in days
    ]
    assert body["rows"][-1]["cumulative"] == Fan.objects.filter(account=account, is_following=True).count()
    assert following_lines(account.pk).now == following_at_end(last)


def test_the_overview_shows_following_now_and_todays_and_yesterdays_flows(fixed) -> None:
    account, client = fixed
    now = datetime.now(site_zone())
    add_event(account, "o7", FOLLOW, now, "store")
    add_event(account, "o2", UNFOLLOW, now - timedelta(days=1))
    Fan.objects.filter(account=account, openid="o2").update(is_following=False)
    Fan.objects.create(account=account, openid="o7", is_following=True)
    runner.run(DailyFollowsConsumer())
    runner.run(FollowingConsumer())
    html = client.get(reverse("console:overview", args=[account.appid])).content.decode()
    growth = reverse("console:report", args=[account.appid, "growth"])
    day = today().isoformat()
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert f'<a href="{growth}">4</a>' in html
    assert f'<a href="{growth}?start={day}&amp;end={day}">1 / 0 / +1</a>' in html
    assert f'<a href="{growth}?start={yesterday}&amp;end={yesterday}">0 / 1 / -1</a>' in html
    # 30 days: o2's one unfollow over 4 fans following at the start of 29 days and 3 at today's.
    assert ">0.840 %</a>" in html
    assert "Fans ever known" not in html and "曾关注过的粉丝" not in html
