"""The push list from the console and the API: annotate, CSV upload (all or nothing, every bad line named),
import of published articles from wxsim, delete; duplicates are one push; agents and outsiders refused."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.pushimpact.models import Push, PushSource
from liucun.pushimpact.tests.fixtures import HOUR0, populate
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import AuditEntry, Role
from liucun.testing.factories import make_account, make_account_on_wxsim
from liucun.wechat.api import publishing
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=31) as url:
        yield url


@dataclass
class World:
    account: OfficialAccount
    operator: AbstractBaseUser
    control: WxsimControl
    console: Client
    api: Client
    agent: Client
    outsider_api: Client

    def url(self, name: str, *args: object) -> str:
        return reverse(f"console:{name}", args=[self.account.appid, *args])

    def api_url(self, tail: str = "") -> str:
        return f"/api/accounts/{self.account.appid}/pushes{tail}"


@pytest.fixture
def world(wxsim_url: str) -> World:
    control = WxsimControl(wxsim_url)
    account, other = make_account_on_wxsim(control), make_account()
    operator = member(make_user("operator"), account, Role.OPERATOR)
    outsider = member(make_user("outsider"), other, Role.ADMIN)
    return World(
        account=account,
        operator=operator,
        control=control,
        console=logged_in(operator),
        api=Client(
            HTTP_AUTHORIZATION=f"Bearer {create_api_token(operator, 'ops', max_role=Role.OPERATOR)[1]}"
        ),
        agent=logged_in(member(make_user("agent"), account, Role.AGENT)),
        outsider_api=Client(
            HTTP_AUTHORIZATION=f"Bearer {create_api_token(outsider, 'x', max_role=Role.ADMIN)[1]}"
        ),
    )


def _file(text: str, encoding: str = "utf-8", name: str = "pushes.csv") -> io.BytesIO:
    upload = io.BytesIO(text.encode(encoding))
    upload.name = name
    return upload


def _messages(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def _stored(account: OfficialAccount) -> list[tuple[str, str, str]]:
    return [
        (p.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"), p.title, p.source)
        for p in Push.objects.filter(account=account).order_by("at", "title")
    ]


def test_an_operator_annotates_uploads_and_deletes_from_the_console(world: World) -> None:
    page = world.console.get(world.url("push-list"))
    assert (
        page.status_code == 200
        and b'id="push-annotate"' in page.content
        and b"No pushes yet." in page.content
    )

    mark = {"date": "2026-02-01", "time": "20:00", "title": "春节促销", "note": "全场八折"}
    for _ in range(2):  # a double submit is one push
        assert world.console.post(world.url("push-annotate"), mark).status_code == 302
    # China time 20:00 is 12:00 UTC.
    assert _stored(world.account) == [("2026-02-01 12:00", "春节促销", PushSource.ANNOTATION)]

    sheet = "日期,时间,标题\n2026/02/08,20:30,周末特惠\n2026-02-01,20:00,春节促销\n"
    answer = world.console.post(world.url("push-import-csv"), {"file": _file(sheet, "gbk")}, follow=True)
    assert _messages(answer) == [
        "“春节促销” marked.",
        "“春节促销” marked.",
        "Pushes added: 1; already known: 1.",
    ]
    assert _stored(world.account) == [
        ("2026-02-01 12:00", "春节促销", PushSource.ANNOTATION),
        ("2026-02-08 12:30", "周末特惠", PushSource.CSV),
    ]
    listing = world.console.get(world.url("push-list")).content.decode()
    assert "2026-02-08 20:30" in listing and "全场八折" in listing

    push = Push.objects.get(account=world.account, title="周末特惠")
    assert world.console.post(world.url("push-delete", push.pk)).status_code == 302
    assert [t for _, t, _ in _stored(world.account)] == ["春节促销"]
    actions = list(
        AuditEntry.objects.filter(account=world.account, action__startswith="push.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["push.annotate", "push.import_csv", "push.delete"]


def test_a_csv_with_bad_lines_stores_nothing_and_names_every_line(world: World) -> None:
    sheet = (
        "date,time,title\n2026-02-01,20:00,好的一行\n2026-02-30,20:00,不存在的日期\n"
        "2026-02-02,8点,坏时间\n2026-02-03,09:00,\n"
    )
    answer = world.console.post(world.url("push-import-csv"), {"file": _file(sheet)}, follow=True)
    assert _messages(answer) == [
        "Line 3: the date and time must read like 2026-02-01 and 20:00, not “2026-02-30 20:00”.",
        "Line 4: the date and time must read like 2026-02-01 and 20:00, not “2026-02-02 8点”.",
        "Line 5: title: a push needs a title.",
    ]
    headless = world.console.post(world.url("push-import-csv"), {"file": _file("a,b\n1,2\n")}, follow=True)
    assert _messages(headless) == [
        "The first line must name the columns date, time and title (or 日期, 时间, 标题)."
    ]
    refused = world.api.post(world.api_url("/import-csv"), {"file": _file(sheet)})
    assert refused.status_code == 400 and refused.json()["code"] == "pushes.csv_lines"
    assert refused.json()["detail"].startswith("Line 3: the date and time")
    assert Push.objects.count() == 0 and not AuditEntry.objects.filter(action__startswith="push.").exists()


def test_published_articles_are_imported_once(world: World) -> None:
    client = client_for(world.account)
    for titles in (("周末活动", "会员日"), ("新品上市",)):
        publishing.submit(client, world.control.add_draft(world.account.appid, *titles))
    listing = publishing.published(client)
    answer = world.console.post(world.url("push-import-wechat"), follow=True)
    assert _messages(answer) == ["Pushes added: 2; already known: 0."]
    stored = {p.title: p for p in Push.objects.filter(account=world.account)}
    assert set(stored) == {"周末活动 (+1)", "新品上市"}
    for item in listing.items:
        push = next(p for p in stored.values() if p.external_id == item.id)
        assert push.source == PushSource.PUBLISHED
        assert push.at == datetime.fromtimestamp(item.update_time, UTC).replace(second=0)
    again = world.api.post(world.api_url("/import-published"))
    assert again.status_code == 200 and again.json() == {"added": 0, "already_known": 2}


def test_the_api_lists_annotates_and_deletes(world: World) -> None:
    made = world.api.post(
        world.api_url(), {"at": "2026-02-01T20:00:00", "title": "春节促销"}, content_type="application/json"
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["at"], body["title"], body["source"]) == (
        "2026-02-01T20:00:00+08:00",
        "春节促销",
        "annotation",
    )
    again = world.api.post(
        world.api_url(), {"at": "2026-02-01T12:00:00Z", "title": "春节促销"}, content_type="application/json"
    )
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    sheet = _file("date,time,title\n2026-02-08,20:30,周末特惠\n")
    assert world.api.post(world.api_url("/import-csv"), {"file": sheet}).json() == {
        "added": 1,
        "already_known": 0,
    }
    assert [p["title"] for p in world.api.get(world.api_url()).json()] == ["周末特惠", "春节促销"]
    assert [p["title"] for p in world.api.get(world.api_url(), {"offset": 1}).json()] == ["春节促销"]
    bad = world.api.post(
        world.api_url(), {"at": "0001-01-01T00:00:00+08:00", "title": "x"}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "pushes.time"

    assert world.outsider_api.get(world.api_url()).status_code == 404
    assert world.outsider_api.delete(world.api_url(f"/{body['id']}")).status_code == 404
    assert world.api.delete(world.api_url(f"/{body['id']}")).status_code == 204
    assert world.api.delete(world.api_url(f"/{body['id']}")).status_code == 404
    assert Push.objects.filter(account=world.account).count() == 1


def test_agents_may_not_see_or_change_pushes(world: World) -> None:
    push = Push.objects.create(
        account=world.account, at=datetime(2026, 2, 1, 12, tzinfo=UTC), title="x", source="csv"
    )
    assert world.agent.get(world.url("push-list")).status_code == 403
    assert world.agent.post(world.url("push-delete", push.pk)).status_code == 403
    assert (
        world.agent.post(
            world.url("push-annotate"), {"date": "2026-02-01", "time": "20:00", "title": "y"}
        ).status_code
        == 403
    )
    assert Push.objects.filter(account=world.account).count() == 1


def test_the_push_list_costs_the_same_queries_for_few_and_many_pushes(world: World) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert world.console.get(world.url("push-list")).status_code == 200
        return len(captured)

    populate(world.account, [])
    few = queries()
    for i in range(60):
        Push.objects.create(account=world.account, at=HOUR0 + timedelta(hours=i), title=f"p{i}", source="csv")
    assert queries() == few
