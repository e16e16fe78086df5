"""The REST API: account scoping on every endpoint, token caps, fans, timelines and syncs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from liucun.api.main import api
from liucun.events.models import Event
from liucun.fans.models import Fan, FollowPeriod, SyncJob
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import AuditEntry, Membership, Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    users = get_user_model().objects
    a, b = make_account(name="门店A"), make_account(name="门店B")
    operator = users.create_user("operator", password="x" * 12)
    outsider = users.create_user("outsider", password="x" * 12)
    Membership.objects.create(user=operator, account=a, role=Role.OPERATOR)
    Membership.objects.create(user=outsider, account=b, role=Role.ADMIN)
    now = datetime.now(UTC)
    for i in range(30):
        Fan.objects.create(
            account=a,
            openid=f"oA{i:03d}",
            is_following=i % 3 != 0,
            channel="store_1" if i < 10 else "",
            followed_at=now - timedelta(days=i),
            last_message_at=now - timedelta(hours=i * 3),
            last_interaction_at=now - timedelta(hours=i * 3),  # a message is an interaction too
        )
    fan = Fan.objects.get(openid="oA001")
    FollowPeriod.objects.create(
        account=a, fan=fan, followed_at=now - timedelta(days=1), channel="store_1", follow_source="callback"
    )
    Event.objects.create(
        account=a,
        openid="oA001",
        kind="text",
        dedupe_key="msg:1",
        wechat_time=now,
        received_at=now,
        payload={"Content": "你好"},
    )
    _, op_key = create_api_token(operator, "ops", max_role=Role.OPERATOR)
    _, agent_key = create_api_token(operator, "read only", max_role=Role.AGENT)
    _, out_key = create_api_token(outsider, "outsider", max_role=Role.ADMIN)
    return a, b, op_key, agent_key, out_key


def _auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _snapshot() -> tuple[int, ...]:
    return (SyncJob.objects.count(), AuditEntry.objects.count(), Fan.objects.count(), Event.objects.count())


def test_every_account_endpoint_is_a_404_for_an_outsider(client: Client, world) -> None:
    a, _, _, _, out_key = world
    schema = api.get_openapi_schema()
    checked = 0
    before = _snapshot()
    for path, operations in schema["paths"].items():
        if "{appid}" not in path:
            continue
        url = path.replace("{appid}", a.appid).replace("{openid}", "oA001").replace("{job_id}", "1")
        url = re.sub(r"\{[^}]+\}", "x", url)
        for method in operations:
            response = client.generic(method.upper(), url, **_auth(out_key))
            assert response.status_code == 404, (method, url, response.content)
            checked += 1
    assert checked == 100  # every account operation; a new one is walked automatically and counted here
    assert _snapshot() == before


def test_no_credentials_no_access(client: Client, world) -> None:
    a, *_ = world
    assert client.get("/api/accounts").status_code == 401
    assert (
        client.get(f"/api/accounts/{a.appid}/fans", HTTP_AUTHORIZATION="Bearer lc_nope_nope").status_code
        == 401
    )


def test_accounts_lists_only_what_the_caller_sees(client: Client, world) -> None:
    a, _, op_key, agent_key, out_key = world
    mine = client.get("/api/accounts", **_auth(op_key)).json()
    assert [(x["appid"], x["role"]) for x in mine] == [(a.appid, "operator")]
    assert client.get("/api/accounts", **_auth(agent_key)).json()[0]["role"] == "agent"  # capped by the token
    assert a.appid not in {x["appid"] for x in client.get("/api/accounts", **_auth(out_key)).json()}


def test_fan_list_filters_sorts_and_pages(client: Client, world) -> None:
    a, _, op_key, *_ = world
    url = f"/api/accounts/{a.appid}/fans"
    page = client.get(url, {"following": "true", "page_size": 5}, **_auth(op_key)).json()
    assert page["count"] == 20 and len(page["results"]) == 5
    assert page["results"][0]["openid"] == "oA001"  # newest follow first
    store = client.get(url, {"channel": "store_1"}, **_auth(op_key)).json()
    assert store["count"] == 10
    open_window = client.get(url, {"window_open": "true"}, **_auth(op_key)).json()
    assert open_window["count"] == 16  # messages within 48 h: i*3 <= 48
    oldest = client.get(url, {"ordering": "followed_at", "page_size": 1}, **_auth(op_key)).json()
    assert oldest["results"][0]["openid"] == "oA029"
    assert client.get(url, {"ordering": "bogus"}, **_auth(op_key)).status_code == 400
    assert client.get(url, {"page_size": 1000}, **_auth(op_key)).status_code == 400


def test_a_fans_timeline(client: Client, world) -> None:
    a, _, op_key, *_ = world
    story = client.get(f"/api/accounts/{a.appid}/fans/oA001", **_auth(op_key)).json()
    assert story["fan"]["channel"] == "store_1" and story["periods"][0]["follow_source"] == "callback"
    assert story["events"][0]["payload"]["Content"] == "你好"
    assert client.get(f"/api/accounts/{a.appid}/fans/oNobody", **_auth(op_key)).status_code == 404


def test_starting_a_sync_needs_an_operator_and_is_audited(client: Client, world) -> None:
    a, _, op_key, agent_key, _ = world
    url = f"/api/accounts/{a.appid}/syncs"
    assert client.post(url, **_auth(agent_key)).status_code == 403
    assert SyncJob.objects.count() == 0
    started = client.post(url, **_auth(op_key))
    assert started.status_code == 202
    job_id = started.json()["id"]
    assert client.post(url, **_auth(op_key)).status_code == 409
    status = client.get(f"{url}/{job_id}", **_auth(agent_key)).json()
    assert status["status"] == "queued" and status["progress"] == 0.0
    assert AuditEntry.objects.filter(action="fans.start_follower_sync", account=a).count() == 1


@override_settings(LIUCUN_API_DOCS_PUBLIC=True)
def test_openapi_docs_are_served_without_a_cdn(client: Client, world) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"cdn." not in page.content and b"/static/ninja/" in page.content
    assert "/api/accounts/{appid}/fans" in client.get("/api/openapi.json").json()["paths"]
