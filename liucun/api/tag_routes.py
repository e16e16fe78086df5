"""REST endpoints for tags and the blacklist: validation and orchestration; the tags app does the work."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from liucun.api.scope import account_for, principal
from liucun.fans.filters import FanFilter, FilterError
from liucun.staff.models import Role
from liucun.tags import actions, queries
from liucun.tags.models import Tag, TagJob

router = Router(tags=["tags"])


class TagOut(Schema):
    id: int
    wechat_id: int
    name: str
    fan_count: int
    synced_at: datetime | None


class TagIn(Schema):
    name: str


class MembersIn(Schema):
    """Either `openids`, or `filter` (a fan filter as the fan list takes it) for every following fan it
    matches; a filter job stores the filter, not the fans."""

    openids: list[str] = []
    filter: dict[str, Any] | None = None
    action: Literal["tag", "untag"] = "tag"


class TagJobOut(Schema):
    id: int
    kind: str
    status: str
    total: int
    done: int
    result: dict[str, Any]
    error: str
    created_at: datetime
    finished_at: datetime | None
    fan_filter: dict[str, Any] | None
    progress: float
    attempt: int
    started_at: datetime | None
    heartbeat_at: datetime | None


class BlacklistOut(Schema):
    openid: str
    since: datetime


class OpenidsIn(Schema):
    openids: list[str]
    action: Literal["add", "remove"] = "add"


def _actor(request: HttpRequest) -> Any:
    who = principal(request)
    return who.user if who.token is None else who.label


def _tag(account: Any, tag_id: int) -> Tag:
    tag = Tag.objects.filter(account=account, pk=tag_id).first()
    if tag is None:
        raise HttpError(404, "no such tag")
    return tag


@router.get("/accounts/{appid}/tags", response=list[TagOut], summary="Tags of an account")
def list_tags(request: HttpRequest, appid: str) -> Any:
    return list(queries.tags_with_counts(account_for(request, appid, Role.AGENT)))


@router.post("/accounts/{appid}/tags", response={201: TagOut}, summary="Create a tag (in WeChat first)")
def create_tag(request: HttpRequest, appid: str, body: TagIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    return Status(201, actions.create_tag(_actor(request), account, body.name))


@router.post("/accounts/{appid}/tags/pull", response={202: TagJobOut}, summary="Pull tags from WeChat")
def pull_tags(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    return Status(202, actions.start_pull_tags(_actor(request), account))


@router.patch("/accounts/{appid}/tags/{tag_id}", response=TagOut, summary="Rename a tag")
def rename_tag(request: HttpRequest, appid: str, tag_id: int, body: TagIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    tag = _tag(account, tag_id)
    return actions.rename_tag(_actor(request), account, tag.pk, body.name)


@router.delete("/accounts/{appid}/tags/{tag_id}", response={204: None}, summary="Delete a tag")
def delete_tag(request: HttpRequest, appid: str, tag_id: int) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    tag = _tag(account, tag_id)
    actions.delete_tag(_actor(request), account, tag.pk)
    return Status(204, None)


@router.post(
    "/accounts/{appid}/tags/{tag_id}/fans",
    response={200: dict[str, int], 202: TagJobOut},
    summary="Tag or untag fans (over 50 fans: a background job)",
)
def change_members(request: HttpRequest, appid: str, tag_id: int, body: MembersIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    tag = _tag(account, tag_id)
    if body.filter is not None:
        if body.openids:
            raise HttpError(400, "give either openids or a filter, not both")
        try:
            fan_filter = FanFilter.from_json(body.filter)
        except FilterError as exc:
            raise HttpError(400, str(exc)) from None
        matching = actions.tag_fans_matching if body.action == "tag" else actions.untag_fans_matching
        result = matching(_actor(request), account, tag.pk, fan_filter)
        return Status(202, result) if isinstance(result, TagJob) else {"fans": result}
    do = actions.tag_fans if body.action == "tag" else actions.untag_fans
    result = do(_actor(request), account, tag.pk, body.openids)
    return Status(202, result) if isinstance(result, TagJob) else {"fans": result}


@router.get("/accounts/{appid}/tag-jobs/{job_id}", response=TagJobOut, summary="A tag job's progress")
def tag_job(request: HttpRequest, appid: str, job_id: int) -> Any:
    account = account_for(request, appid, Role.AGENT)
    job = TagJob.objects.filter(account=account, pk=job_id).first()
    if job is None:
        raise HttpError(404, "no such job")
    return job


@router.get("/accounts/{appid}/blacklist", response=list[BlacklistOut], summary="The blacklist (our copy)")
def blacklist(request: HttpRequest, appid: str, page: int = 1, page_size: int = 100) -> Any:
    account = account_for(request, appid, Role.AGENT)
    if page < 1 or not 1 <= page_size <= 1000:
        raise HttpError(400, "page starts at 1; page_size is 1 to 1000")
    start = (page - 1) * page_size
    return list(queries.blacklist(account)[start : start + page_size])


@router.post("/accounts/{appid}/blacklist/sync", response=dict[str, int], summary="Read WeChat's blacklist")
def sync_blacklist(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    return {"blacklisted": actions.sync_blacklist(_actor(request), account)}


@router.post("/accounts/{appid}/blacklist", response=dict[str, int], summary="Blacklist or unblacklist fans")
def change_blacklist(request: HttpRequest, appid: str, body: OpenidsIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    do = actions.blacklist_fans if body.action == "add" else actions.unblacklist_fans
    return {"changed": do(_actor(request), account, body.openids)}
