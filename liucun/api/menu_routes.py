"""Custom menus: drafts, publish (default or conditional by tag), what WeChat has now, delete, history,
restore, trymatch and click statistics. Validation and orchestration only; the work is in liucun.menus.

Every endpoint needs the operator role: a menu is what every fan sees. Bodies are optional in the
signatures so the role check comes before the body's (see crm_routes). Buttons are WeChat's own JSON
(`{"type": "click", "name": "积分", "key": "MENU_POINTS"}`, or `{"name": "更多", "sub_button": [...]}`);
a menu over WeChat's limits is refused (400) with the offending button named, and nothing is saved.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict, Field

from liucun.accounts.models import OfficialAccount
from liucun.api.routes import _actor
from liucun.api.scope import account_for
from liucun.menus import actions, queries
from liucun.menus.models import MenuDraft, MenuReading, PublishedMenu
from liucun.staff.models import Role
from liucun.tags.models import Tag

router = Router(tags=["menus"])


class DraftIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    buttons: list[dict[str, Any]]


class DraftChange(Schema):
    """Only what is sent changes."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    buttons: list[dict[str, Any]] | None = None


class DraftOut(Schema):
    id: int
    name: str
    buttons: list[dict[str, Any]]
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


class PublishIn(Schema):
    """No body (or no tag): the default menu. With `tag_id` (a Liucun tag id): a conditional menu for that
    tag's fans (WeChat needs a default menu first)."""

    model_config = ConfigDict(extra="forbid")

    tag_id: int | None = None


class PublishedOut(Schema):
    id: int
    kind: str
    buttons: list[dict[str, Any]]
    draft_name: str
    tag_wechat_id: int | None
    tag_name: str
    menu_id: str
    restored_from_id: int | None
    published_by: str
    published_at: datetime
    ok: bool
    answer: str


class ConditionalOut(Schema):
    menu_id: str
    tag_wechat_id: int | None
    tag_name: str
    platform: int | None
    buttons: list[dict[str, Any]]


class CurrentOut(Schema):
    """What WeChat answered to menu/get just now (an empty `buttons`: no menu)."""

    buttons: list[dict[str, Any]]
    conditional: list[ConditionalOut]
    read_at: datetime


class TryMatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    openid: str = Field(max_length=64)


class ButtonStatsOut(Schema):
    button: str
    name: str
    clicks: int
    fan_days: int
    fans: int


class StatsOut(Schema):
    start: date
    end: date
    buttons: list[ButtonStatsOut]
    days: list[date]
    daily: dict[str, list[int]]
    clicking_fans: int
    following_at_end: int
    click_rate: float | None


class StatsQuery(Schema):
    start: date | None = Field(None, description="first day (site time zone); default: 29 days before end")
    end: date | None = Field(None, description="last day; default: today")


def _draft(account: OfficialAccount, draft_id: int) -> MenuDraft:
    draft = MenuDraft.objects.filter(account=account, pk=draft_id).first()
    if draft is None:
        raise HttpError(404, "no such draft")
    return draft


def _current(account: OfficialAccount, reading: MenuReading) -> dict[str, Any]:
    tags = dict(Tag.objects.filter(account=account).values_list("wechat_id", "name"))
    conditional = [{**c, "tag_name": tags.get(c["tag_wechat_id"], "")} for c in reading.conditional]
    return {"buttons": reading.buttons, "conditional": conditional, "read_at": reading.read_at}


@router.get("/accounts/{appid}/menus/drafts", response=list[DraftOut], summary="Menu drafts")
def list_drafts(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    return list(MenuDraft.objects.filter(account=account).order_by("name"))


@router.post("/accounts/{appid}/menus/drafts", response={201: DraftOut}, summary="Save a new menu draft")
def create_draft(request: HttpRequest, appid: str, payload: DraftIn | None = None) -> Status[Any]:
    account = account_for(request, appid, Role.OPERATOR)
    if payload is None:
        raise HttpError(400, 'send {"name": "...", "buttons": [...]}')
    return Status(201, actions.create_draft(_actor(request), account, payload.name, payload.buttons))


@router.get("/accounts/{appid}/menus/drafts/{draft_id}", response=DraftOut, summary="A menu draft")
def get_draft(request: HttpRequest, appid: str, draft_id: int) -> Any:
    return _draft(account_for(request, appid, Role.OPERATOR), draft_id)


@router.patch(
    "/accounts/{appid}/menus/drafts/{draft_id}", response=DraftOut, summary="Rename or edit a draft"
)
def change_draft(request: HttpRequest, appid: str, draft_id: int, payload: DraftChange | None = None) -> Any:
    draft = _draft(account_for(request, appid, Role.OPERATOR), draft_id)
    if payload is None:
        raise HttpError(400, 'send {"name": "..."} and/or {"buttons": [...]}')
    return actions.update_draft(_actor(request), draft, payload.name, payload.buttons)


@router.delete("/accounts/{appid}/menus/drafts/{draft_id}", response={204: None}, summary="Delete a draft")
def delete_draft(request: HttpRequest, appid: str, draft_id: int) -> Status[None]:
    draft = _draft(account_for(request, appid, Role.OPERATOR), draft_id)
    actions.delete_draft(_actor(request), draft)
    return Status(204, None)


@router.post(
    "/accounts/{appid}/menus/drafts/{draft_id}/publish",
    response={201: PublishedOut},
    summary="Publish a draft: the default menu, or a conditional menu for a tag",
)
def publish(request: HttpRequest, appid: str, draft_id: int, payload: PublishIn | None = None) -> Status[Any]:
    account = account_for(request, appid, Role.OPERATOR)
    draft = _draft(account, draft_id)
    tag = None
    if payload is not None and payload.tag_id is not None:
        tag = Tag.objects.filter(account=account, pk=payload.tag_id).first()
        if tag is None:
            raise HttpError(404, "no such tag")
    return Status(201, actions.publish(_actor(request), draft, tag))


@router.get(
    "/accounts/{appid}/menus/current",
    response=CurrentOut,
    summary="What WeChat has now (menu/get): the default menu and the conditional ones",
)
def current(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    return _current(account, actions.read_back(_actor(request), account))


@router.delete(
    "/accounts/{appid}/menus/current",
    response={201: PublishedOut},
    summary="Delete every menu in WeChat (menu/delete), the conditional ones too",
)
def delete_menus(request: HttpRequest, appid: str) -> Status[Any]:
    account = account_for(request, appid, Role.OPERATOR)
    return Status(201, actions.delete_menus(_actor(request), account))


@router.delete(
    "/accounts/{appid}/menus/conditional/{menu_id}",
    response={201: PublishedOut},
    summary="Delete one conditional menu (menu/delconditional)",
)
def delete_conditional(request: HttpRequest, appid: str, menu_id: str) -> Status[Any]:
    account = account_for(request, appid, Role.OPERATOR)
    return Status(201, actions.delete_conditional(_actor(request), account, menu_id))


@router.get(
    "/accounts/{appid}/menus/history",
    response=list[PublishedOut],
    summary="Every change sent to WeChat, newest first (100 at most), refused attempts too",
)
def history(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    return list(PublishedMenu.objects.filter(account=account).order_by("-id")[:100])


@router.post(
    "/accounts/{appid}/menus/history/{published_id}/restore",
    response={201: PublishedOut},
    summary="Publish an earlier version again",
)
def restore(request: HttpRequest, appid: str, published_id: int) -> Status[Any]:
    account = account_for(request, appid, Role.OPERATOR)
    published = PublishedMenu.objects.filter(account=account, pk=published_id).first()
    if published is None:
        raise HttpError(404, "no such published menu")
    return Status(201, actions.restore(_actor(request), published))


@router.post(
    "/accounts/{appid}/menus/trymatch",
    response=list[dict[str, Any]],
    summary="The menu a fan sees (menu/trymatch): the buttons",
)
def try_match(request: HttpRequest, appid: str, payload: TryMatchIn | None = None) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    if payload is None:
        raise HttpError(400, 'send {"openid": "..."}')
    return actions.try_match(account, payload.openid)


@router.get(
    "/accounts/{appid}/menus/stats",
    response=StatsOut,
    summary="Clicks and unique fans per button per day, and the menu click rate over a period",
    description="The click rate is the distinct fans who tapped any button in the period divided by the fans "
    "following at the end of its last day (from follow periods). Days are in the site's time zone.",
)
def stats(request: HttpRequest, appid: str, period: Query[StatsQuery]) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    start, end = queries.period_of(period.start, period.end)
    result = queries.menu_stats(account.pk, start, end)
    return {
        "start": result.start,
        "end": result.end,
        "buttons": result.buttons,
        "days": result.days,
        "daily": result.daily,
        "clicking_fans": result.clicking_fans,
        "following_at_end": result.following_at_end,
        "click_rate": result.click_rate,
    }
