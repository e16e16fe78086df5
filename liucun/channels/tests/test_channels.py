"""Channels and QR codes through the console and the REST API, with WeChat played by wxsim over HTTP."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from liucun.accounts.models import OfficialAccount
from liucun.channels import actions
from liucun.channels.demo import DEMO_CHANNELS, seed_demo
from liucun.channels.models import Channel, QrCode, QrKind
from liucun.channels.queries import channel_choices, channel_labels
from liucun.console.tests.conftest import add_fans, logged_in, make_user, member
from liucun.fans.models import Fan
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import AuditEntry, Role
from liucun.testing.factories import make_account, make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim
from wxsim.population.scenario import DEMO

pytestmark = pytest.mark.django_db

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=12) as url:
        yield url


@dataclass
class World:
    account: OfficialAccount
    other: OfficialAccount
    operator: AbstractBaseUser
    agent: AbstractBaseUser
    outsider: AbstractBaseUser  # admin of the other account only
    control: WxsimControl
    op_key: str
    outsider_key: str

    @property
    def base(self) -> str:
        return f"/a/{self.account.appid}/channels/"


@pytest.fixture
def world(wxsim_url: str) -> World:
    control = WxsimControl(wxsim_url)
    account, other = make_account_on_wxsim(control), make_account()
    add_fans(account, 12)  # store_0, store_1, store_2: 4 fans each, 3 of them following
    add_fans(other, 3, prefix="oOther")
    operator = member(make_user("operator"), account, Role.OPERATOR)
    outsider = member(make_user("outsider"), other, Role.ADMIN)
    return World(
        account=account,
        other=other,
        operator=operator,
        agent=member(make_user("agent"), account, Role.AGENT),
        outsider=outsider,
        control=control,
        op_key=create_api_token(operator, "ops", max_role=Role.OPERATOR)[1],
        outsider_key=create_api_token(outsider, "x", max_role=Role.ADMIN)[1],
    )


def _messages(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]] if response.context else []


def _offline(account: OfficialAccount) -> str:
    """Point the account at a closed port: a call to WeChat would then answer 503, never a 400 of ours."""
    real = account.api_base_url
    account.api_base_url = "http://127.0.0.1:9"
    account.save(update_fields=["api_base_url"])
    return real


# --- naming --------------------------------------------------------------------------------------


def test_naming_a_seen_scene_moves_it_from_unnamed_to_channels(world: World) -> None:
    client = logged_in(world.operator)
    page = client.get(world.base)
    assert page.status_code == 200
    assert [s.scene for s in page.context["page"].unnamed] == ["store_0", "store_1", "store_2"]
    assert [s.ever for s in page.context["page"].unnamed] == [4, 4, 4]

    response = client.post(world.base + "create", {"scene": "store_1", "name": "门店海报", "note": "收银台"})
    channel = Channel.objects.get(account=world.account)
    assert response.status_code == 302
    assert response["Location"] == f"{world.base}{channel.pk}/"
    assert (channel.scene, channel.name, channel.note, channel.created_by) == (
        "store_1",
        "门店海报",
        "收银台",
        "operator",
    )
    assert (
        AuditEntry.objects.filter(account=world.account, action="channels.create", target="门店海报").count()
        == 1
    )

    page = client.get(world.base)
    rows = page.context["page"].channels
    assert [(r.channel.name, r.ever, r.following, r.qrcodes) for r in rows] == [("门店海报", 4, 3, 0)]
    assert [s.scene for s in page.context["page"].unnamed] == ["store_0", "store_2"]
    assert channel_labels(world.account.pk) == {"store_1": "门店海报"}
    # The counts link to the fan list filtered by the channel, and the list agrees with them.
    link = f"/a/{world.account.appid}/fans/?channel=store_1&amp;following=1"
    assert link in page.content.decode()
    listed = client.get(link.replace("&amp;", "&"))
    assert listed.context["page"].paginator.count == 3
    assert {f.channel for f in listed.context["page"].object_list} == {"store_1"}


def test_channel_choices_name_the_named_and_order_by_fans(world: World) -> None:
    Fan.objects.filter(account=world.account, channel="store_2").update(channel="store_0")
    actions.create_channel(world.operator, world.account, "store_1", "门店海报")
    actions.create_channel(world.operator, world.account, "flyer_9", "传单")
    with CaptureQueriesContext(connection) as queries:
        choices = channel_choices(world.account.pk)
    assert choices == [
        ("store_0", "store_0"),
        ("store_1", "门店海报 (store_1)"),
        ("flyer_9", "传单 (flyer_9)"),
    ]
    assert len(queries) == 2
    assert channel_choices(world.other.pk) == [
        ("store_0", "store_0"),
        ("store_1", "store_1"),
        ("store_2", "store_2"),
    ]


BAD_CHANNELS = [
    ("", "名字", "scene"),
    ("x" * 65, "名字", "scene"),
    ("has space", "名字", "scene"),
    ("nul\x00", "名字", "scene"),
    ("store_9", "", "name"),
    ("store_9", "长" * 41, "name"),
    ("store_9", "bell\x07", "name"),
]


def test_bad_scene_or_name_is_refused_with_its_field_and_changes_nothing(world: World) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.op_key}")
    for scene, name, field in BAD_CHANNELS:
        response = client.post(
            f"/api/accounts/{world.account.appid}/channels",
            {"scene": scene, "name": name},
            content_type="application/json",
        )
        assert response.status_code == 400, (scene, name)
        assert response.json()["code"] == f"channels.{field}"
        assert response.json()["detail"].startswith(f"{field}:")
    assert Channel.objects.count() == 0
    assert AuditEntry.objects.filter(action__startswith="channels.").count() == 0


def test_duplicate_scene_and_duplicate_name_are_refused(world: World) -> None:
    actions.create_channel(world.operator, world.account, "store_0", "门店")
    with pytest.raises(actions.ChannelError) as scene_taken:
        actions.create_channel(world.operator, world.account, "store_0", "别的名字")
    assert scene_taken.value.code == "channels.scene"
    with pytest.raises(actions.ChannelError) as name_taken:
        actions.create_channel(world.operator, world.account, "store_1", "门店")
    assert name_taken.value.code == "channels.name"
    # Names are per account: the other account may use the same one.
    actions.create_channel(world.outsider, world.other, "store_0", "门店")
    assert Channel.objects.filter(name="门店").count() == 2


def test_rename_and_delete_keep_the_scene_on_fans(world: World) -> None:
    channel = actions.create_channel(world.operator, world.account, "store_0", "门店")
    client = logged_in(world.operator)
    response = client.post(f"{world.base}{channel.pk}/update", {"name": "一号门店", "note": "新海报"})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.note, channel.scene) == ("一号门店", "新海报", "store_0")
    assert AuditEntry.objects.get(action="channels.update").changes == {
        "name": ["门店", "一号门店"],
        "note": ["", "新海报"],
    }

    response = client.post(f"{world.base}{channel.pk}/delete")
    assert response.status_code == 302
    assert response["Location"] == world.base
    assert Channel.objects.count() == 0
    assert Fan.objects.filter(account=world.account, channel="store_0").count() == 4
    assert [s.scene for s in client.get(world.base).context["page"].unnamed] == [
        "store_0",
        "store_1",
        "store_2",
    ]


# --- QR codes ------------------------------------------------------------------------------------


def test_temporary_code_made_by_wechat_with_its_lifetime(world: World) -> None:
    channel = actions.create_channel(world.operator, world.account, "store_0", "门店")
    client = logged_in(world.operator)
    before = datetime.now(UTC)
    response = client.post(f"{world.base}{channel.pk}/qrcodes/create", {"kind": "temporary", "days": "7"})
    assert response.status_code == 302
    code = QrCode.objects.get(channel=channel)
    assert code.kind == QrKind.TEMPORARY
    assert code.ticket.startswith("gQ") and len(code.ticket) == 42
    assert code.url == f"http://weixin.qq.com/q/{code.ticket[2:24]}"
    assert code.expires_at is not None
    lifetime = code.expires_at - before
    assert timedelta(days=7) - timedelta(seconds=1) <= lifetime <= timedelta(days=7, seconds=5)
    page = client.get(f"{world.base}{channel.pk}/")
    assert [row.code.pk for row in page.context["codes"]] == [code.pk]
    assert f'src="{world.base}{channel.pk}/qrcodes/{code.pk}/image"' in page.content.decode()


def test_permanent_code_of_a_numeric_scene_and_its_png(world: World) -> None:
    channel = actions.create_channel(world.operator, world.account, "100000", "最后一号")
    code = actions.create_qrcode(world.operator, world.account, channel.pk, actions.QrRequest("permanent"))
    assert (code.kind, code.expires_at) == (QrKind.PERMANENT, None)
    assert AuditEntry.objects.get(action="channels.qrcode_create").changes == {
        "kind": "permanent",
        "expire_seconds": None,
        "qrcode": code.pk,
    }

    client = logged_in(world.operator)
    image = client.get(f"{world.base}{channel.pk}/qrcodes/{code.pk}/image?download=1")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == f'attachment; filename="qrcode-100000-permanent-{code.pk}.png"'
    assert image.content[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", image.content[16:24])
    assert (width, height) == (168, 168)
    # Kept: the second view is served from our copy, byte for byte.
    code.refresh_from_db()
    assert bytes(code.image) == image.content
    world.control.reset()
    again = client.get(f"{world.base}{channel.pk}/qrcodes/{code.pk}/image")
    assert again.status_code == 200
    assert again["Content-Disposition"].startswith("inline;")
    assert again.content == image.content


def test_qr_limits_are_refused_before_calling_wechat(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    channel = actions.create_channel(world.operator, world.account, "store_0", "门店")
    real = _offline(world.account)
    url = f"/api/accounts/{world.account.appid}/channels/{channel.pk}/qrcodes"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.op_key}"}
    cases = [
        ({"kind": "temporary", "expire_seconds": 2592001}, "channels.expire_seconds"),
        ({"kind": "temporary", "expire_seconds": 59}, "channels.expire_seconds"),
        ({"kind": "permanent", "expire_seconds": 600}, "channels.expire_seconds"),
    ]
    for body, code in cases:
        response = Client().post(url, body, content_type="application/json", **auth)
        assert response.status_code == 400, body
        assert response.json()["code"] == code
        assert response.json()["detail"].startswith("expire_seconds:")
    assert QrCode.objects.count() == 0

    # The account's 100,000 permanent codes (3 here, so the test need not make 100,000 rows): the next one
    # is refused here, not by WeChat.
    assert actions.PERMANENT_MAX == 100000
    monkeypatch.setattr(actions, "PERMANENT_MAX", 3)
    QrCode.objects.bulk_create(
        QrCode(channel=channel, kind=QrKind.PERMANENT, ticket=f"t{i}") for i in range(3)
    )
    response = Client().post(url, {"kind": "permanent"}, content_type="application/json", **auth)
    assert response.status_code == 400
    assert response.json()["code"] == "channels.permanent_limit"
    assert QrCode.objects.count() == 3
    world.account.api_base_url = real
    world.account.save(update_fields=["api_base_url"])
    # A temporary code is still allowed at the limit, for the full 30 days.
    response = Client().post(
        url, {"kind": "temporary", "expire_seconds": 2592000}, content_type="application/json", **auth
    )
    assert response.status_code == 201
    assert QrCode.objects.count() == 4


def test_the_console_refuses_a_lifetime_over_30_days_with_a_message(world: World) -> None:
    channel = actions.create_channel(world.operator, world.account, "store_0", "门店")
    client = logged_in(world.operator)
    page = f"{world.base}{channel.pk}/"
    response = client.post(
        f"{page}qrcodes/create",
        {"kind": "temporary", "days": "31"},
        HTTP_REFERER=f"http://testserver{page}",
        follow=True,
    )
    assert response.redirect_chain == [(f"http://testserver{page}", 302)]
    assert any("expire_seconds" in m for m in _messages(response))
    assert QrCode.objects.count() == 0


def test_an_expired_code_without_a_copy_is_gone(world: World) -> None:
    channel = actions.create_channel(world.operator, world.account, "store_0", "门店")
    code = QrCode.objects.create(
        channel=channel,
        kind=QrKind.TEMPORARY,
        ticket="gQold",
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    response = Client().get(
        f"/api/accounts/{world.account.appid}/channels/{channel.pk}/qrcodes/{code.pk}/image",
        HTTP_AUTHORIZATION=f"Bearer {world.op_key}",
    )
    assert response.status_code == 410
    assert response.json()["code"] == "channels.expired"
    page = logged_in(world.operator).get(f"{world.base}{channel.pk}/")
    assert [row.showable for row in page.context["codes"]] == [False]


# --- the REST API ---------------------------------------------------------------------------------


def test_api_crud_and_qr_create_and_image(world: World) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.op_key}")
    root = f"/api/accounts/{world.account.appid}/channels"
    made = client.post(root, {"scene": "store_2", "name": "三号店"}, content_type="application/json")
    assert made.status_code == 201
    body = made.json()
    assert {k: body[k] for k in ("scene", "name", "note", "fans_following", "fans_ever")} == {
        "scene": "store_2",
        "name": "三号店",
        "note": "",
        "fans_following": 3,
        "fans_ever": 4,
    }
    cid = body["id"]
    assert [c["name"] for c in client.get(root).json()] == ["三号店"]
    scenes = client.get(f"{root}/scenes").json()
    assert [(s["scene"], s["name"], s["fans_ever"]) for s in scenes] == [
        ("store_0", None, 4),
        ("store_1", None, 4),
        ("store_2", "三号店", 4),
    ]
    patched = client.patch(f"{root}/{cid}", {"note": "商场店"}, content_type="application/json")
    assert (patched.status_code, patched.json()["name"], patched.json()["note"]) == (200, "三号店", "商场店")

    qr = client.post(
        f"{root}/{cid}/qrcodes",
        {"kind": "temporary", "expire_seconds": 3600},
        content_type="application/json",
    )
    assert qr.status_code == 201
    assert qr.json()["kind"] == "temporary" and qr.json()["ticket"].startswith("gQ")
    assert [q["id"] for q in client.get(f"{root}/{cid}/qrcodes").json()] == [qr.json()["id"]]
    image = client.get(f"{root}/{cid}/qrcodes/{qr.json()['id']}/image")
    assert image.status_code == 200
    assert image.content[:8] == PNG_SIGNATURE
    assert (
        image["Content-Disposition"]
        == f'attachment; filename="qrcode-store_2-temporary-{qr.json()["id"]}.png"'
    )

    assert client.delete(f"{root}/{cid}").status_code == 204
    assert Channel.objects.count() == 0 and QrCode.objects.count() == 0
    assert client.get(f"{root}/{cid}").status_code == 404


def test_the_openapi_schema_lists_the_channel_operations() -> None:
    paths = Client().get("/api/openapi.json")
    schema = paths.json() if paths.status_code == 200 else None
    if schema is None:  # the docs may be for staff only on this instance
        user = make_user("reader")
        schema = logged_in(user).get("/api/openapi.json").json()
    ops = {(m, p) for p, item in schema["paths"].items() for m in item if "channels" in p}
    assert ops == {
        ("get", "/api/accounts/{appid}/channels"),
        ("post", "/api/accounts/{appid}/channels"),
        ("get", "/api/accounts/{appid}/channels/scenes"),
        ("get", "/api/accounts/{appid}/channels/{channel_id}"),
        ("patch", "/api/accounts/{appid}/channels/{channel_id}"),
        ("delete", "/api/accounts/{appid}/channels/{channel_id}"),
        ("get", "/api/accounts/{appid}/channels/{channel_id}/qrcodes"),
        ("post", "/api/accounts/{appid}/channels/{channel_id}/qrcodes"),
        ("get", "/api/accounts/{appid}/channels/{channel_id}/qrcodes/{qrcode_id}/image"),
    }


# --- scoping --------------------------------------------------------------------------------------


def test_another_accounts_channel_is_404_and_untouched(world: World) -> None:
    theirs = actions.create_channel(world.outsider, world.other, "store_0", "他们的店")
    code = QrCode.objects.create(
        channel=theirs, kind=QrKind.PERMANENT, ticket="gQtheirs", image=PNG_SIGNATURE
    )
    mine = f"/a/{world.account.appid}/channels/{theirs.pk}/"
    client = logged_in(world.operator)
    assert client.get(mine).status_code == 404
    assert client.get(f"{mine}qrcodes/{code.pk}/image").status_code == 404
    assert client.post(f"{mine}update", {"name": "抢来的"}).status_code == 404
    assert client.post(f"{mine}delete").status_code == 404
    assert client.post(f"{mine}qrcodes/create", {"kind": "permanent"}).status_code == 404
    api = Client(HTTP_AUTHORIZATION=f"Bearer {world.op_key}")
    root = f"/api/accounts/{world.account.appid}/channels/{theirs.pk}"
    assert api.get(root).status_code == 404
    assert api.patch(root, {"name": "抢来的"}, content_type="application/json").status_code == 404
    assert api.delete(root).status_code == 404
    assert (
        api.post(f"{root}/qrcodes", {"kind": "permanent"}, content_type="application/json").status_code == 404
    )
    assert api.get(f"{root}/qrcodes/{code.pk}/image").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "他们的店"
    assert QrCode.objects.filter(channel=theirs).count() == 1
    # And the whole account is 404 to someone who holds no role on it.
    outsider = logged_in(world.outsider)
    assert outsider.get(world.base).status_code == 404
    outsider_api = Client(HTTP_AUTHORIZATION=f"Bearer {world.outsider_key}")
    assert outsider_api.get(f"/api/accounts/{world.account.appid}/channels").status_code == 404


def test_agents_are_refused_channel_pages(world: World) -> None:
    channel = actions.create_channel(world.operator, world.account, "store_0", "门店")
    client = logged_in(world.agent)
    assert client.get(world.base).status_code == 403
    assert client.get(f"{world.base}{channel.pk}/").status_code == 403
    assert client.post(world.base + "create", {"scene": "x1", "name": "x"}).status_code == 403
    assert Channel.objects.count() == 1
    overview = client.get(f"/a/{world.account.appid}/")
    assert f'href="{world.base}"' not in overview.content.decode()


# --- the demo -------------------------------------------------------------------------------------


def test_seed_demo_names_the_demo_scenario_scenes_once(world: World) -> None:
    assert set(DEMO_CHANNELS) == {c.scene for c in DEMO.channels if c.scene}
    seed_demo(world.account)
    seed_demo(world.account)
    assert channel_labels(world.account.pk) == {s: name for s, (name, _note) in DEMO_CHANNELS.items()}
    assert AuditEntry.objects.filter(action="channels.create").count() == 3
    # An operator's rename survives the next start.
    store = Channel.objects.get(account=world.account, scene="store_001")
    actions.update_channel(world.operator, world.account, store.pk, "收银台海报", store.note)
    seed_demo(world.account)
    assert channel_labels(world.account.pk)["store_001"] == "收银台海报"
    assert Channel.objects.filter(account=world.account).count() == 3
