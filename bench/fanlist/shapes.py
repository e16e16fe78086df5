"""The query shapes timed by bench.fanlist: what the API's list_fans does for each filter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from django.test import Client

from bench.fanlist.load import World
from liucun.fans import queries
from liucun.fans.queries import FanFilter

PAGE = 50


def _page(world: World, filt: FanFilter, ordering: str, page: int) -> int:
    """count + one page + the window flag of each fan: exactly list_fans' work for a page."""
    pages = queries.fan_pages(world.account, filt, ordering)
    count = pages.count()
    fans = pages[(page - 1) * PAGE : page * PAGE]
    for fan in fans:
        queries.window_open(fan)
    return count


def shapes(world: World) -> Iterator[tuple[str, Callable[[int], int]]]:
    now = world.now
    ch = world.channels
    yield "all fans, newest follows first", lambda i: _page(world, FanFilter(), "-followed_at", 1 + i % 3)
    yield (
        "following, one channel, newest first",
        lambda i: _page(world, FanFilter(following=True, channel=ch[i % 8]), "-followed_at", 1 + i % 3),
    )
    yield (
        "following, newest first, page 500",
        lambda i: _page(world, FanFilter(following=True), "-followed_at", 500 + i),
    )
    yield (
        "48h window open, latest interaction first",
        lambda i: _page(world, FanFilter(window_open=True), "-last_interaction_at", 1 + i % 3),
    )
    yield (
        "active in the last 30 days, latest first",
        lambda i: _page(
            world, FanFilter(interacted_after=now - timedelta(days=30)), "-last_interaction_at", 1
        ),
    )
    yield (
        "followed within a quarter, oldest first",
        lambda i: _page(
            world,
            FanFilter(
                followed_after=now - timedelta(days=90 * (i % 8 + 1)),
                followed_before=now - timedelta(days=90 * (i % 8)),
            ),
            "followed_at",
            1 + i % 3,
        ),
    )
    yield (
        "following, one tag, newest first",
        lambda i: _page(
            world, FanFilter(following=True, tag=world.tags[i % 10].pk), "-followed_at", 1 + i % 3
        ),
    )
    yield (
        "following, one tag and one channel, newest first",
        lambda i: _page(
            world,
            FanFilter(following=True, tag=world.tags[i % 10].pk, channel=ch[i % 4]),
            "-followed_at",
            1,
        ),
    )
    yield (
        "unfollowed, newest first",
        lambda i: _page(world, FanFilter(following=False), "-followed_at", 1 + i % 3),
    )
    yield (
        "openid prefix (beyond the issue's filters)",
        lambda i: _page(world, FanFilter(openid_prefix=f"o010000{i % 10}"), "openid", 1),
    )


_client: dict[str, Any] = {}


def api_page(world: World, i: int) -> None:
    if "client" not in _client:
        from django.contrib.auth import get_user_model

        from liucun.staff.api_tokens import create_api_token
        from liucun.staff.models import Membership, Role

        user = get_user_model().objects.create_user("bench", password="x" * 16)
        Membership.objects.create(user=user, account=world.account, role=Role.AGENT)
        key = create_api_token(user, "bench", max_role=Role.AGENT)[1]
        _client["client"] = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    channel = world.channels[i % 8]
    response = _client["client"].get(
        f"/api/accounts/{world.account.appid}/fans",
        {"following": "true", "channel": channel, "page": 1 + i % 3},
    )
    assert response.status_code == 200, response.content
