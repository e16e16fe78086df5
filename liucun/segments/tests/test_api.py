"""Saved filters through the REST API: create, versions, fans, refusals that change nothing, scope, counts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from liucun.console.tests.conftest import add_fans, make_user, member
from liucun.segments.models import SavedFilter, SavedFilterVersion
from liucun.segments.queries import MISSING_TAG
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import AuditEntry, Role
from liucun.tags.models import FanTag, Tag
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


class World:
    def __init__(self) -> None:
        self.a, self.b = make_account(name="门店A"), make_account(name="门店B")
        operator = member(make_user("operator"), self.a, Role.OPERATOR)
        member(operator, self.b, Role.OPERATOR)  # on both: b's filters are still not a's
        agent = member(make_user("agent"), self.a, Role.AGENT)
        outsider = member(make_user("outsider"), self.b, Role.ADMIN)
        self.fans = add_fans(self.a, 12)  # following unless i % 4 == 3; channel store_{i % 3}
        add_fans(self.b, 4)
        self.vip = Tag.objects.create(account=self.a, wechat_id=100, name="常客")
        FanTag.objects.bulk_create([FanTag(fan=f, tag=self.vip) for f in self.fans[:6] if f.is_following])
        self.b_tag = Tag.objects.create(account=self.b, wechat_id=100, name="常客")
        self.op = _client(operator)
        self.agent = _client(agent)
        self.outsider = _client(outsider)

    def url(self, tail: str = "", account: Any = None) -> str:
        return f"/api/accounts/{(account or self.a).appid}/filters{tail}"


def _client(user: Any) -> Client:
    _, key = create_api_token(user, f"key of {user.get_username()}", max_role=Role.ADMIN)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _post(client: Client, url: str, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data, content_type="application/json")


def _patch(client: Client, url: str, body: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json")


def _state() -> tuple[Any, ...]:
    return (
        list(SavedFilter.objects.order_by("pk").values()),
        list(SavedFilterVersion.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


@pytest.fixture
def world() -> World:
    return World()


def test_save_read_and_list(world: World) -> None:
    created = _post(
        world.op,
        world.url(),
        {
            "name": " 门店1 关注者 ",
            "description": "store_1",
            "filter": {"following": True, "channel": "store_1"},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("name", "description", "version", "filter", "problems")} == {
        "name": "门店1 关注者",
        "description": "store_1",
        "version": 1,
        "filter": {"following": True, "channel": "store_1"},
        "problems": [],
    }
    assert (
        body["created_by"]
        == body["updated_by"]
        == AuditEntry.objects.get(action="segments.create").actor_label
    )
    assert body["created_by"].startswith("api-token:")  # a token's label names the key, not the user
    assert world.agent.get(world.url(f"/{body['id']}")).json() == body
    assert [s["name"] for s in world.agent.get(world.url()).json()] == ["门店1 关注者"]
    entry = AuditEntry.objects.get(action="segments.create")
    assert (entry.account, entry.target, entry.changes) == (
        world.a,
        "门店1 关注者",
        {"filter": {"following": True, "channel": "store_1"}},
    )


def test_fans_of_a_saved_filter_are_the_fan_lists_answer(world: World) -> None:
    query = {"following": "true", "tag": world.vip.pk, "ordering": "openid", "page_size": 2}
    listed = world.op.get(f"/api/accounts/{world.a.appid}/fans", query).json()
    saved = _post(world.op, world.url(), {"name": "常客", "filter": {"following": True, "tag": world.vip.pk}})
    fans = world.agent.get(world.url(f"/{saved.json()['id']}/fans"), {"ordering": "openid", "page_size": 2})
    assert fans.status_code == 200
    body = fans.json()
    assert body["count"] == listed["count"] == 5  # fans 0-5 minus fan 3, who does not follow
    assert body["results"] == listed["results"]
    assert (body["version"], body["filter"], body["problems"]) == (
        1,
        {"following": True, "tag": world.vip.pk},
        [],
    )
    page3 = world.agent.get(
        world.url(f"/{saved.json()['id']}/fans"), {"ordering": "openid", "page_size": 2, "page": 3}
    )
    assert [f["openid"] for f in page3.json()["results"]] == [world.fans[5].openid]
    bad = world.agent.get(world.url(f"/{saved.json()['id']}/fans"), {"ordering": "nickname"})
    assert bad.status_code == 400


def test_editing_adds_a_version_and_old_versions_stay_readable(world: World) -> None:
    saved = _post(world.op, world.url(), {"name": "门店", "filter": {"channel": "store_1"}}).json()
    one = world.url(f"/{saved['id']}")
    changed = _patch(
        world.op, one, {"filter": {"channel": "store_2", "following": True}, "description": "v2"}
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["version"], changed.json()["filter"], changed.json()["description"]) == (
        2,
        {"channel": "store_2", "following": True},
        "v2",
    )
    versions = world.agent.get(one + "/versions").json()
    assert [(v["version"], v["filter"]) for v in versions] == [
        (2, {"channel": "store_2", "following": True}),
        (1, {"channel": "store_1"}),
    ]
    assert world.agent.get(one + "/fans").json()["count"] == 3  # store_2: fans 2, 5, 8 (11 does not follow)
    old = world.agent.get(one + "/fans", {"version": 1}).json()
    assert (old["version"], old["count"]) == (1, 4)  # store_1: fans 1, 4, 7, 10
    assert world.agent.get(one + "/fans", {"version": 9}).status_code == 404
    # The same filter again writes nothing: no version, no audit entry.
    before = _state()
    same = _patch(world.op, one, {"filter": {"following": True, "channel": "store_2"}})
    assert same.json()["version"] == 2
    assert _state() == before
    renamed = _patch(world.op, one, {"name": "二号店"})
    assert (renamed.json()["name"], renamed.json()["version"]) == ("二号店", 2)
    assert list(
        AuditEntry.objects.filter(action__startswith="segments.")
        .values_list("action", flat=True)
        .order_by("pk")
    ) == [
        "segments.create",
        "segments.update",
        "segments.rename",
    ]


def test_delete_takes_the_versions_and_is_audited(world: World) -> None:
    saved = _post(world.op, world.url(), {"name": "门店", "filter": {"channel": "store_1"}}).json()
    _patch(world.op, world.url(f"/{saved['id']}"), {"filter": {"channel": "store_2"}})
    assert world.op.delete(world.url(f"/{saved['id']}")).status_code == 204
    assert (SavedFilter.objects.count(), SavedFilterVersion.objects.count()) == (0, 0)
    entry = AuditEntry.objects.get(action="segments.delete")
    assert (entry.target, entry.changes) == ("门店", {"versions": 2, "filter": {"channel": "store_2"}})
    assert world.agent.get(world.url(f"/{saved['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ("{not json", 400, None),
        ({"name": "x", "filter": {"nickname": "小明"}}, 400, "filter: unknown filter field: nickname"),
        ({"name": "x", "filter": {"following": "yes"}}, 400, "filter: following: true or false"),
        ({"name": "x", "filter": {"followed_after": "2026-01-01"}}, 400, None),
        ({"name": "x", "filter": {"channel": "c" * 65}}, 400, "filter: channel: at most 64 characters"),
        ({"name": "x", "filter": "following"}, 422, None),
        ({"name": "x", "filter": {}, "colour": "red"}, 422, None),
        ({"name": "   ", "filter": {}}, 400, "a saved filter needs a name"),
        ({"name": "n" * 61, "filter": {}}, 400, "the name is longer than 60 characters"),
        ({"name": "taken", "filter": {}}, 400, "a saved filter with this name already exists"),
        ({"name": "x", "filter": {"tag": "B_TAG"}}, 400, "tag: no such tag on this account"),
        ({"name": "x", "filter": {"tag": 999999}}, 400, "tag: no such tag on this account"),
    ],
)
def test_bad_filters_are_refused_and_nothing_is_saved(
    world: World, body: Any, status: int, detail: str | None
) -> None:
    _post(world.op, world.url(), {"name": "taken", "filter": {}})
    if isinstance(body, dict) and body.get("filter", {}) == {"tag": "B_TAG"}:
        body = {**body, "filter": {"tag": world.b_tag.pk}}  # another account's tag
    before = _state()
    refused = _post(world.op, world.url(), body)
    assert refused.status_code == status, refused.content
    if detail is not None:
        assert refused.json() == {"detail": detail}
    # The same refusals on an edit, which must not add a version either.
    if (
        isinstance(body, dict)
        and isinstance(body.get("filter"), dict)
        and status == 400
        and "name" not in (detail or "")
    ):
        saved = SavedFilter.objects.get(name="taken")
        assert _patch(world.op, world.url(f"/{saved.pk}"), {"filter": body["filter"]}).status_code == 400
    assert _state() == before


def test_a_filter_whose_tag_was_deleted_matches_no_fans_and_says_so(world: World) -> None:
    saved = _post(world.op, world.url(), {"name": "常客", "filter": {"tag": world.vip.pk}}).json()
    assert world.agent.get(world.url(f"/{saved['id']}/fans")).json()["count"] == 5
    Tag.objects.filter(pk=world.vip.pk).delete()  # as a pull does when the tag went in WeChat
    fans = world.agent.get(world.url(f"/{saved['id']}/fans"))
    assert fans.status_code == 200
    assert (fans.json()["count"], fans.json()["results"], fans.json()["problems"]) == (0, [], [MISSING_TAG])
    assert world.agent.get(world.url(f"/{saved['id']}")).json()["problems"] == [MISSING_TAG]
    assert world.agent.get(world.url()).json()[0]["problems"] == [MISSING_TAG]


def test_reading_is_for_any_role_writing_for_operators(world: World) -> None:
    saved = _post(world.op, world.url(), {"name": "门店", "filter": {"channel": "store_1"}}).json()
    before = _state()
    one = world.url(f"/{saved['id']}")
    assert _post(world.agent, world.url(), {"name": "x", "filter": {}}).status_code == 403
    assert _patch(world.agent, one, {"name": "y"}).status_code == 403
    assert world.agent.delete(one).status_code == 403
    assert _state() == before
    for tail in ("", f"/{saved['id']}", f"/{saved['id']}/versions", f"/{saved['id']}/fans"):
        assert world.agent.get(world.url(tail)).status_code == 200


def test_another_accounts_saved_filter_is_a_404(world: World) -> None:
    theirs = _post(world.op, world.url(account=world.b), {"name": "B店", "filter": {}}).json()
    mine = _post(world.op, world.url(), {"name": "A店", "filter": {}}).json()
    before = _state()
    # The operator holds both accounts, yet b's filter does not exist under a.
    for tail in (f"/{theirs['id']}", f"/{theirs['id']}/versions", f"/{theirs['id']}/fans"):
        response = world.op.get(world.url(tail))
        assert (response.status_code, response.json()) == (404, {"detail": "no such saved filter"})
    assert _patch(world.op, world.url(f"/{theirs['id']}"), {"name": "偷"}).status_code == 404
    assert world.op.delete(world.url(f"/{theirs['id']}")).status_code == 404
    assert [s["name"] for s in world.op.get(world.url()).json()] == ["A店"]
    # Someone with no role on a: every path under a is a 404, whatever the id.
    for tail in ("", f"/{mine['id']}", f"/{mine['id']}/versions", f"/{mine['id']}/fans"):
        assert world.outsider.get(world.url(tail)).status_code == 404
    assert world.outsider.delete(world.url(f"/{mine['id']}")).status_code == 404
    assert _post(world.outsider, world.url(), {"name": "x", "filter": {}}).status_code == 404
    assert _state() == before


# The token check and account scope (as the fan list: 8), the saved filter (with its current version's
# filter in the same query), the account's tags when a filter names one; the fans as the fan list reads them.
PINNED = {"list": 10, "one": 10, "versions": 10, "fans": 14, "fans-v1": 14}


@pytest.mark.parametrize("saved_filters", [2, 6])
def test_query_counts_are_pinned_and_do_not_grow(
    world: World, saved_filters: int, django_assert_num_queries: Any
) -> None:
    ids = []
    for i in range(saved_filters):
        made = _post(
            world.op, world.url(), {"name": f"f{i}", "filter": {"tag": world.vip.pk, "following": True}}
        )
        _patch(world.op, world.url(f"/{made.json()['id']}"), {"filter": {"tag": world.vip.pk}})
        ids.append(made.json()["id"])
    urls = {
        "list": world.url(),
        "one": world.url(f"/{ids[0]}"),
        "versions": world.url(f"/{ids[0]}/versions"),
        "fans": world.url(f"/{ids[0]}/fans"),
        "fans-v1": world.url(f"/{ids[0]}/fans?version=1&page_size=200"),
    }
    assert set(urls) == set(PINNED)
    for name, url in urls.items():
        with django_assert_num_queries(PINNED[name]):
            response = world.agent.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_the_fan_lists_text_limits_are_the_declared_ones(world: World) -> None:
    url = f"/api/accounts/{world.a.appid}/fans"
    assert world.agent.get(url, {"channel": "c" * 64}).json()["count"] == 0
    assert world.agent.get(url, {"channel": "c" * 65}).status_code == 422
    assert world.agent.get(url, {"openid_prefix": "o" * 65}).status_code == 422
    assert world.agent.get(url, {"channel": "store_1"}).json()["count"] == 4  # fans 1, 4, 7 and 10
