"""The menu-clicks and H5-visits reports by acquisition channel, through the real API operation: a
channel's rows and rate, and every channel's adding up to the whole account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.activity.tests.support import add_interaction
from liucun.analytics.following import FollowingConsumer
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.events.kinds import FOLLOW
from liucun.fans.models import Fan
from liucun.menus.clicks import MenuClicksConsumer
from liucun.readmodels import runner
from liucun.readmodels.tests.support import add_event
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 6, 29, 2, tzinfo=UTC)  # 10:00 in Shanghai
RANGE = {"start": "2026-06-29", "end": "2026-07-19"}


def _report(account: OfficialAccount, name: str, channel: str | None) -> dict[str, Any]:
    client: Client = logged_in(member(make_user(f"op-{name}-{channel}"), account, Role.OPERATOR))
    params = {**RANGE, **({"channel": channel} if channel is not None else {})}
    response = client.get(reverse(f"api:report_{name.replace('-', '_')}", args=[account.appid]), params)
    assert response.status_code == 200, response.content
    return response.json()


def test_menu_clicks_and_h5_visits_by_channel_add_up_to_the_whole_account() -> None:
    account = make_account()
    followed = MONDAY - timedelta(days=3)
    for openid, scene in [("o1", "poster"), ("o2", "poster"), ("o3", None), ("o4", "store_1")]:
        add_event(account, openid, FOLLOW, followed, scene)
        Fan.objects.create(account=account, openid=openid, is_following=True, followed_at=followed)
    # o5 followed before Liucun (no follow event): no channel, but following in the whole account.
    Fan.objects.create(account=account, openid="o5", is_following=True)
    for openid, kind, key, days in [
        ("o1", "event.click", "K1", 0),
        ("o1", "event.click", "K1", 1),
        ("o2", "event.click", "K1", 8),
        ("o1", "event.view", "https://x.test/a", 2),
        ("o3", "event.view", "https://x.test/a", 2),
        ("o5", "event.click", "K1", 3),
    ]:
        add_interaction(account, openid, kind, MONDAY + timedelta(days=days), key)
    # o1 refollows through another QR code (without unfollowing): its taps stay under "poster".
    add_event(account, "o1", FOLLOW, MONDAY + timedelta(days=8), "store_1")
    # o6 tapped before its (late) first follow through store_1 arrived: counted under store_1.
    add_interaction(account, "o6", "event.click", MONDAY + timedelta(days=4), "K2")
    add_event(account, "o6", FOLLOW, MONDAY - timedelta(days=1), "store_1")
    Fan.objects.create(account=account, openid="o6", is_following=True, followed_at=followed)
    runner.run(FollowingConsumer())
    runner.run(MenuClicksConsumer())

    def menu(channel: str | None) -> tuple[list[tuple[str, int, int, float | None]], dict[str, Any]]:
        body = _report(account, "menu-clicks", channel)
        rows = [(r["button"], r["clicks"], r["fans"], r["click_rate"]) for r in body["rows"]]
        return rows, body["meta"]

    assert menu(None) == (
        [("K1", 4, 3, 0.5), ("https://x.test/a", 2, 2, 0.333333), ("K2", 1, 1, 0.166667)],
        {"menu_click_rate": 0.833333, "clicking_fans": 5, "following_at_end": 6},
    )
    assert menu("poster") == (
        [("K1", 3, 2, 1.0), ("https://x.test/a", 1, 1, 0.5)],
        {"menu_click_rate": 1.0, "clicking_fans": 2, "following_at_end": 2},
    )
    assert menu("~") == (  # o3 (a follow without a QR code) and o5 (no follow event)
        [("K1", 1, 1, 0.5), ("https://x.test/a", 1, 1, 0.5)],
        {"menu_click_rate": 1.0, "clicking_fans": 2, "following_at_end": 2},
    )
    # o4 and o6 follow through store_1 (o1's refollow does not add to it: o1 never unfollowed).
    assert menu("store_1") == (
        [("K2", 1, 1, 0.5)],
        {"menu_click_rate": 0.5, "clicking_fans": 1, "following_at_end": 2},
    )
    assert menu("nobody") == ([], {"menu_click_rate": None, "clicking_fans": 0, "following_at_end": 0})

    h5 = {ch: _report(account, "h5-visits", ch) for ch in (None, "poster", "~", "store_1")}
    assert [(r["url"], r["visits"], r["fans"]) for r in h5[None]["rows"]] == [("https://x.test/a", 2, 2)]
    assert [(r["url"], r["visits"], r["fans"]) for r in h5["poster"]["rows"]] == [("https://x.test/a", 1, 1)]
    assert [(r["url"], r["visits"], r["fans"]) for r in h5["~"]["rows"]] == [("https://x.test/a", 1, 1)]
    assert h5["store_1"]["rows"] == []
    assert [h5[ch]["meta"]["visiting_fans"] for ch in (None, "poster", "~", "store_1")] == [2, 1, 1, 0]
    assert any("first follow" in note for note in h5["poster"]["notes"])
