"""The menu pages of the console: the editor form round trip, refusals shown with the operator's input,
publish against wxsim, history with restore, a fan's menu, statistics, and who may see them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.console.views.menus import buttons_from_form
from liucun.menus import actions
from liucun.menus.models import MenuDraft, PublishedMenu
from liucun.staff.models import Role
from liucun.testing.factories import make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db

MENU = [
    {"type": "click", "name": "积分查询", "key": "MENU_POINTS"},
    {
        "name": "服务",
        "sub_button": [
            {"type": "click", "name": "预约到店", "key": "MENU_BOOKING"},
            {"type": "view", "name": "官网", "url": "https://shop.example.cn/"},
        ],
    },
]


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=13) as url:
        yield url


@pytest.fixture
def world(wxsim_url: str) -> dict[str, Any]:
    control = WxsimControl(wxsim_url)
    account = make_account_on_wxsim(control)
    operator = member(make_user("op"), account, Role.OPERATOR)
    agent = member(make_user("agent"), account, Role.AGENT)
    return {"account": account, "control": control, "op": logged_in(operator), "agent": logged_in(agent)}


def _url(name: str, account: Any, **kw: Any) -> str:
    return reverse(f"console:{name}", kwargs={"appid": account.appid, **kw})


def _form(buttons: list[dict[str, Any]], name: str = "春季") -> dict[str, str]:
    data = {"name": name}
    for i, top in enumerate(buttons):
        data.update({f"b{i}-{k}": v for k, v in top.items() if k != "sub_button"})
        if top.get("sub_button"):
            data[f"b{i}-type"] = "group"
        for j, sub in enumerate(top.get("sub_button", [])):
            data.update({f"b{i}s{j}-{k}": v for k, v in sub.items()})
    return data


def test_the_editor_form_reads_back_the_buttons_it_shows() -> None:
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    query.update(_form(MENU))
    assert buttons_from_form(query) == MENU


def test_create_edit_publish_and_restore_from_the_console(world: dict[str, Any]) -> None:
    account, op = world["account"], world["op"]
    made = op.post(_url("menu-draft-create", account), {"name": "春季", "source": ""})
    draft = MenuDraft.objects.get(account=account)
    assert made.url == _url("menu-draft", account, draft_id=draft.pk)
    assert draft.buttons == [{"type": "click", "name": "菜单", "key": "MENU_1"}]
    saved = op.post(_url("menu-draft-save", account, draft_id=draft.pk), _form(MENU))
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.buttons == MENU
    page = op.get(_url("menu-draft", account, draft_id=draft.pk)).content.decode()
    assert 'name="b1s1-url" value="https://shop.example.cn/"' in page and "预约到店" in page
    op.post(_url("menu-publish", account, draft_id=draft.pk))
    with_menu = op.get(_url("menus", account)).content.decode()
    assert "积分查询" in with_menu and "Read from WeChat at" in with_menu
    first = PublishedMenu.objects.get(account=account)
    op.post(_url("menu-draft-save", account, draft_id=draft.pk), _form(MENU[:1]))
    op.post(_url("menu-publish", account, draft_id=draft.pk))
    assert op.get(_url("menu-draft", account, draft_id=draft.pk)).context["same_as_wechat"] is True
    op.post(_url("menu-restore", account, published_id=first.pk))
    assert actions.read_back("test", account).buttons == MENU
    history = op.get(_url("menu-history", account)).content.decode()
    assert history.count("Restore") == 3 and "restored" in history


def test_a_refused_save_keeps_what_was_typed_and_names_the_button(world: dict[str, Any]) -> None:
    account, op = world["account"], world["op"]
    draft = actions.create_draft("op", account, "春季", MENU)
    bad = _form(MENU)
    bad["b1s0-name"] = "这是一个非常非常非常非常非常非常长的子菜单名字超过六十个字节"
    answer = op.post(_url("menu-draft-save", account, draft_id=draft.pk), bad)
    assert answer.status_code == 400
    page = answer.content.decode()
    assert f"Button 2.1 “{bad['b1s0-name']}”: the name must be 1 to 60 bytes" in page
    assert f'value="{bad["b1s0-name"]}"' in page  # the operator's input is still in the form
    draft.refresh_from_db()
    assert draft.buttons == MENU


def test_a_fans_menu_and_statistics_pages(world: dict[str, Any]) -> None:
    account, control, op = world["account"], world["control"], world["op"]
    actions.publish("op", actions.create_draft("op", account, "春季", MENU))
    (openid,) = control.add_fans(account.appid, count=1)
    page = op.get(_url("menu-trymatch", account) + f"?openid={openid}")
    assert page.context["buttons"] == MENU
    stats = op.get(_url("menu-stats", account) + "?start=2026-03-01&end=2026-03-07")
    assert stats.status_code == 200 and stats.context["chart"]["days"][0] == "2026-03-01"
    backwards = op.get(_url("menu-stats", account) + "?start=2026-03-07&end=2026-03-01", follow=True)
    assert "The period starts after it ends." in backwards.content.decode()


def test_agents_are_refused_and_nothing_changes(world: dict[str, Any]) -> None:
    account, agent = world["account"], world["agent"]
    draft = actions.create_draft("op", account, "春季", MENU)
    assert agent.get(_url("menus", account)).status_code == 403
    assert agent.post(_url("menu-publish", account, draft_id=draft.pk)).status_code == 403
    assert agent.post(_url("menu-draft-delete", account, draft_id=draft.pk)).status_code == 403
    assert not PublishedMenu.objects.exists() and MenuDraft.objects.count() == 1
    assert _url("menus", account) not in agent.get(_url("overview", account)).content.decode()
    assert _url("menus", account) in world["op"].get(_url("overview", account)).content.decode()
    outsider = Client()
    assert outsider.get(_url("menus", account)).status_code == 302  # to the login page


def test_menu_taps_read_as_button_names_on_the_fan_timeline(world: dict[str, Any]) -> None:
    from datetime import UTC, datetime

    from liucun.events.models import Event, EventSource
    from liucun.fans.models import Fan

    account, op = world["account"], world["op"]
    actions.create_draft("op", account, "春季", MENU)
    Fan.objects.create(account=account, openid="oTapper", is_following=True)
    now = datetime.now(UTC)
    for i, (kind, key) in enumerate(
        [
            ("event.click", "MENU_BOOKING"),
            ("event.view", "https://shop.example.cn/"),
            ("event.click", "OLD_KEY"),
        ]
    ):
        Event.objects.create(
            account=account,
            openid="oTapper",
            kind=kind,
            dedupe_key=f"tap{i}",
            wechat_time=now,
            received_at=now,
            source=EventSource.CALLBACK,
            payload={"Event": kind.split(".")[1].upper(), "EventKey": key},
        )
    page = op.get(_url("fan", account, openid="oTapper")).content.decode()
    assert "预约到店" in page and "官网" in page and "OLD_KEY" in page  # no menu named OLD_KEY: the key
    assert "MENU_BOOKING" not in page


MENU_PAGES = ("menus", "menu-draft", "menu-history", "menu-trymatch", "menu-stats")
MENU_ACTIONS = (
    "menu-draft-create", "menu-draft-save", "menu-draft-delete", "menu-publish", "menu-readback",
    "menu-delete", "menu-conditional-delete", "menu-restore",
)  # fmt: skip


def _counts(fans: int) -> dict[str, tuple[int, int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from liucun.console.tests.conftest import add_fans
    from liucun.menus.tests.fixtures import populate
    from liucun.testing.factories import make_account

    account = make_account()
    client = logged_in(member(make_user(f"admin{fans}"), account, Role.ADMIN))
    ids = populate(account, add_fans(account, fans, prefix=f"oM{fans}"))
    client.get(reverse("console:home"))
    found = {}
    for name in MENU_PAGES + MENU_ACTIONS:
        url = reverse(f"console:{name}", kwargs={"appid": account.appid, **_ids_for(name, ids)})
        with CaptureQueriesContext(connection) as queries:
            status = client.get(url).status_code
        found[name] = (status, len(queries))
    return found


def _ids_for(name: str, ids: dict[str, Any]) -> dict[str, Any]:
    if name in ("menu-draft", "menu-draft-save", "menu-draft-delete", "menu-publish"):
        return {"draft_id": ids["draft_id"]}
    if name == "menu-restore":
        return {"published_id": ids["published_id"]}
    if name == "menu-conditional-delete":
        return {"menu_id": ids["menu_id"]}
    return {}


def test_menu_pages_answer_in_a_fixed_number_of_queries_whatever_the_rows() -> None:
    small, large = _counts(6), _counts(30)
    assert {n for n, (status, _q) in small.items() if status == 405} == set(MENU_ACTIONS)
    pages = {n: q for n, (status, q) in small.items() if status == 200}
    assert set(pages) == set(MENU_PAGES)
    assert pages == {n: large[n][1] for n in MENU_PAGES}
    assert pages == {"menus": 8, "menu-draft": 7, "menu-history": 5, "menu-trymatch": 5, "menu-stats": 9}
