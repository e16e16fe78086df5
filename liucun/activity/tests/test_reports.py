"""The activity reports through the real API operation, on small histories with exact expected rows."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.activity.consumer import ActivityConsumer
from liucun.activity.tests.support import add_interaction
from liucun.analytics.following import FollowingConsumer
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.events.kinds import FOLLOW
from liucun.fans.models import Fan
from liucun.inbox.models import Conversation, InboxSettings, Measure, State
from liucun.menus.clicks import MenuClicksConsumer
from liucun.menus.models import ButtonName
from liucun.readmodels import runner
from liucun.readmodels.tests.support import add_event
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

# Monday 2026-06-29, 10:00 in Shanghai.
MONDAY = datetime(2026, 6, 29, 2, tzinfo=UTC)
_users = itertools.count()
RANGE = {"start": "2026-06-29", "end": "2026-07-19"}


def _followers(account: OfficialAccount, openids: list[str], at: datetime) -> None:
    for openid in openids:
        add_event(account, openid, FOLLOW, at)
        Fan.objects.create(account=account, openid=openid, is_following=True, followed_at=at)
    runner.run(FollowingConsumer())


def _report(account: OfficialAccount, name: str, **params: str) -> dict[str, Any]:
    client: Client = logged_in(member(make_user(f"op{next(_users)}"), account, Role.OPERATOR))
    response = client.get(reverse(f"api:report_{name.replace('-', '_')}", args=[account.appid]), params)
    assert response.status_code == 200, response.content
    return response.json()


def test_interactions_by_week_count_kinds_distinct_fans_and_the_rate() -> None:
    account = make_account()
    _followers(account, ["o1", "o2", "o3", "o4"], MONDAY - timedelta(days=3))
    add_interaction(account, "o1", "text", MONDAY)
    add_interaction(account, "o1", "event.click", MONDAY + timedelta(days=1), "K1")
    add_interaction(account, "o2", "event.scan", MONDAY + timedelta(days=2), "s1")
    add_interaction(account, "o2", "event.view", MONDAY + timedelta(days=9), "https://x.test/a")
    add_interaction(account, "o1", "event.subscribe_msg_popup_event", MONDAY + timedelta(days=15))
    runner.run(ActivityConsumer())

    body = _report(account, "interactions", granularity="week", **RANGE)

    assert body["rows"] == [
        {
            "period": "2026-06-29",
            "events": 3,
            "messages": 1,
            "menu_taps": 1,
            "scans": 1,
            "other_actions": 0,
            "active_fans": 2,
            "following": 4,
            "interaction_rate": 0.5,
        },
        {
            "period": "2026-07-06",
            "events": 1,
            "messages": 0,
            "menu_taps": 1,
            "scans": 0,
            "other_actions": 0,
            "active_fans": 1,
            "following": 4,
            "interaction_rate": 0.25,
        },
        {
            "period": "2026-07-13",
            "events": 1,
            "messages": 0,
            "menu_taps": 0,
            "scans": 0,
            "other_actions": 1,
            "active_fans": 1,
            "following": 4,
            "interaction_rate": 0.25,
        },
    ]
    assert body["meta"]["events_by_kind"] == {
        "event.click": 1,
        "event.scan": 1,
        "event.subscribe_msg_popup_event": 1,
        "event.view": 1,
        "text": 1,
    }
    assert [s["type"] for s in body_chart(account, "interactions")] == ["bar", "bar", "bar", "bar", "line"]


def body_chart(account: OfficialAccount, name: str) -> list[dict[str, Any]]:
    from liucun.analytics import running
    from liucun.analytics.report import spec_named

    spec = spec_named(name)
    assert spec is not None
    _query, report = running.run(spec, account, {**RANGE, "granularity": "week"})
    assert report.chart is not None
    return report.chart["series"]


def test_lifecycle_by_week_with_dormant_negative_and_the_quick_ratio() -> None:
    account = make_account()
    add_interaction(account, "o1", "text", MONDAY)
    add_interaction(account, "o2", "text", MONDAY + timedelta(days=1))
    add_interaction(account, "o2", "text", MONDAY + timedelta(days=8))
    add_interaction(account, "o1", "text", MONDAY + timedelta(days=14))
    add_interaction(account, "o3", "voice", MONDAY + timedelta(days=14))
    runner.run(ActivityConsumer())

    body = _report(account, "lifecycle", **RANGE)

    assert body["granularity"] == "week"
    assert body["rows"] == [
        {"period": "2026-06-29", "new": 2, "returning": 0, "resurrecting": 0, "dormant": 0, "active": 2},
        {"period": "2026-07-06", "new": 0, "returning": 1, "resurrecting": 0, "dormant": -1, "active": 1},
        {"period": "2026-07-13", "new": 1, "returning": 0, "resurrecting": 1, "dormant": -1, "active": 2},
    ]
    # (2 + 0 + 1 new, + 1 resurrecting) / 2 dormant
    assert body["meta"]["quick_ratio"] == 2.0


def test_interactions_and_lifecycle_by_channel_add_up_to_the_whole_account() -> None:
    account = make_account()
    followed = MONDAY - timedelta(days=3)
    for openid, scene in [("o1", "poster"), ("o2", "poster"), ("o3", None), ("o4", "store_1")]:
        add_event(account, openid, FOLLOW, followed, scene)
        Fan.objects.create(account=account, openid=openid, is_following=True, followed_at=followed)
    # o5 followed before Liucun (no follow event): no channel, but following in the whole account.
    Fan.objects.create(account=account, openid="o5", is_following=True)
    add_interaction(account, "o1", "text", MONDAY)
    add_interaction(account, "o2", "event.click", MONDAY + timedelta(days=1), "K1")
    add_interaction(account, "o3", "text", MONDAY)
    add_interaction(account, "o5", "text", MONDAY + timedelta(days=2))
    # o1 refollows through another QR code (without unfollowing): still under "poster".
    add_event(account, "o1", FOLLOW, MONDAY + timedelta(days=8), "store_1")
    add_interaction(account, "o1", "text", MONDAY + timedelta(days=9))
    runner.run(FollowingConsumer())
    runner.run(ActivityConsumer())

    def first_week(channel: str | None) -> dict[str, Any]:
        extra = {} if channel is None else {"channel": channel}
        return _report(account, "interactions", granularity="week", **RANGE, **extra)["rows"][0]

    columns = ("events", "messages", "menu_taps", "active_fans", "following", "interaction_rate")
    assert {
        c: [first_week(ch)[k] for k in columns]
        for c, ch in [("all", None), ("poster", "poster"), ("none", "~"), ("store_1", "store_1")]
    } == {
        "all": [4, 3, 1, 4, 5, 0.8],
        "poster": [2, 1, 1, 2, 2, 1.0],
        "none": [2, 2, 0, 2, 2, 1.0],  # o3 (a follow without a QR code) and o5 (no follow event)
        "store_1": [0, 0, 0, 0, 1, 0.0],
    }
    second = _report(account, "interactions", granularity="week", channel="poster", **RANGE)["rows"][1]
    assert (second["events"], second["active_fans"]) == (1, 1)

    lifecycle = {
        channel: _report(account, "lifecycle", **RANGE, **({"channel": channel} if channel else {}))["rows"]
        for channel in (None, "poster", "~", "store_1")
    }
    assert [(r["new"], r["returning"], r["dormant"]) for r in lifecycle["poster"]] == [
        (2, 0, 0),
        (0, 1, -1),  # o1 back in week two, o2 gone quiet
        (0, 0, -1),
    ]
    for i, row in enumerate(lifecycle[None]):
        for column in ("new", "returning", "resurrecting", "dormant", "active"):
            assert row[column] == sum(lifecycle[c][i][column] for c in ("poster", "~", "store_1"))


def test_menu_clicks_and_h5_visits_per_button_with_rates() -> None:
    account = make_account()
    _followers(account, ["o1", "o2", "o3", "o4", "o5"], MONDAY - timedelta(days=3))
    ButtonName.objects.create(account=account, key="K1", name="会员卡")
    for openid, kind, key, days in [
        ("o1", "event.click", "K1", 0),
        ("o1", "event.click", "K1", 1),
        ("o2", "event.click", "K1", 8),
        ("o1", "event.view", "https://x.test/a", 2),
        ("o3", "event.view", "https://x.test/a", 2),
        ("o3", "event.view", "https://x.test/b", 30),  # after the range
    ]:
        add_interaction(account, openid, kind, MONDAY + timedelta(days=days), key)
    runner.run(MenuClicksConsumer())

    menu = _report(account, "menu-clicks", **RANGE)
    assert menu["rows"] == [
        {"button": "K1", "name": "会员卡", "clicks": 3, "fans": 2, "click_rate": 0.4},
        {"button": "https://x.test/a", "name": "", "clicks": 2, "fans": 2, "click_rate": 0.4},
    ]
    assert menu["meta"] == {"menu_click_rate": 0.6, "clicking_fans": 3, "following_at_end": 5}

    h5 = _report(account, "h5-visits", **RANGE)
    assert h5["rows"] == [
        {"url": "https://x.test/a", "name": "", "visits": 2, "fans": 2, "visit_rate": 0.4},
    ]


def test_service_counts_questions_by_the_day_asked_with_percentiles_and_shares() -> None:
    account = make_account()
    InboxSettings.objects.create(account=account, first_response_minutes=30, promise_hours=24)
    day1 = datetime(2026, 6, 29, 2, tzinfo=UTC)  # 10:00 in Shanghai
    for minutes in (10, 20, 40, 50):
        Measure.objects.create(
            account=account,
            kind=Measure.Kind.FIRST_RESPONSE,
            started_at=day1,
            ended_at=day1 + timedelta(minutes=minutes),
            wall_seconds=minutes * 60.0,
            service_seconds=minutes * 60.0,
        )
    # Asked on day 2, answered after the promise (30 wall hours, 2 service hours).
    Measure.objects.create(
        account=account,
        kind=Measure.Kind.FIRST_RESPONSE,
        started_at=day1 + timedelta(days=1),
        ended_at=day1 + timedelta(days=1, hours=30),
        wall_seconds=30 * 3600.0,
        service_seconds=2 * 3600.0,
    )
    Measure.objects.create(
        account=account,
        kind=Measure.Kind.RESOLUTION,
        started_at=day1,
        ended_at=day1 + timedelta(hours=3),
        wall_seconds=3 * 3600.0,
        service_seconds=3 * 3600.0,
    )
    # Asked on day 2 and still waiting, long past the promise.
    Conversation.objects.create(
        account=account, openid="o9", state=State.OPEN, opened_at=day1, waiting_since=day1 + timedelta(days=1)
    )

    body = _report(account, "service", start="2026-06-29", end="2026-06-30")

    assert body["rows"] == [
        {
            "period": "2026-06-29",
            "asked": 4,
            "answered": 4,
            "waiting": 0,
            "first_response_p50": 20.0,
            "first_response_p90": 50.0,
            "within_target": 0.5,
            "within_promise": 1.0,
            "resolved": 1,
            "resolution_p50": 3.0,
        },
        {
            "period": "2026-06-30",
            "asked": 2,
            "answered": 1,
            "waiting": 1,
            "first_response_p50": 120.0,
            "first_response_p90": 120.0,
            "within_target": 0.0,
            "within_promise": 0.0,
            "resolved": 0,
            "resolution_p50": None,
        },
    ]
    assert body["meta"] == {"target_minutes": 30, "promise_hours": 24}

    # One week: percentiles are ranked over the whole bucket (nearest rank of 10, 20, 40, 50, 120).
    week = _report(account, "service", start="2026-06-29", end="2026-06-30", granularity="week")
    assert week["rows"] == [
        {
            "period": "2026-06-29",
            "asked": 6,
            "answered": 5,
            "waiting": 1,
            "first_response_p50": 40.0,
            "first_response_p90": 120.0,
            "within_target": 0.4,
            "within_promise": 0.666667,
            "resolved": 1,
            "resolution_p50": 3.0,
        }
    ]


def test_an_empty_account_answers_with_zero_rows_and_says_so() -> None:
    account = make_account()
    body = _report(account, "interactions", start="2026-07-01", end="2026-07-03")
    assert [(r["events"], r["active_fans"], r["following"], r["interaction_rate"]) for r in body["rows"]] == [
        (0, 0, 0, None)
    ] * 3
    assert body["findings"] == ["No fan interacted in the range."]
    assert date.fromisoformat(body["rows"][0]["period"]) == date(2026, 7, 1)


def test_a_question_asked_at_china_midnight_counts_on_the_new_day() -> None:
    account = make_account()
    midnight = datetime(2026, 6, 29, 16, tzinfo=UTC)  # 2026-06-30 00:00 in Shanghai
    for asked in (midnight - timedelta(milliseconds=1), midnight):
        Measure.objects.create(
            account=account,
            kind=Measure.Kind.FIRST_RESPONSE,
            started_at=asked,
            ended_at=asked + timedelta(minutes=5),
            wall_seconds=300.0,
            service_seconds=300.0,
        )

    body = _report(account, "service", start="2026-06-29", end="2026-06-30")

    assert [(r["period"], r["answered"]) for r in body["rows"]] == [("2026-06-29", 1), ("2026-06-30", 1)]
