"""Saved fan filters (segments): list, create, read, edit (a new version), delete, versions, fans.

Validation and orchestration only; the work is in liucun.segments. Reading needs any role on the
account, writing operator or admin, as for the fan list and tags. Bodies are optional in the signatures
so the role check comes before the body's (see crm_routes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict

from liucun.accounts.models import OfficialAccount
from liucun.api.routes import _actor, paged
from liucun.api.schemas import FanListQuery, FanPage
from liucun.api.scope import account_for
from liucun.fans.filters import FanFilter, FilterError
from liucun.fans.queries import MAX_PAGE_SIZE
from liucun.segments import actions
from liucun.segments.models import SavedFilter, SavedFilterVersion
from liucun.segments.queries import fans_of, problems_of
from liucun.staff.models import Role
from liucun.tags.models import Tag

router = Router(tags=["saved filters"])

_FILTER_HELP = (
    "`filter` is a fan filter as JSON, with the fan list's parameters as fields: "
    '`{"following": true, "channel": "store_1", "tag": 12, "followed_after": "2026-01-01T00:00:00+08:00"}` '
    "(booleans, text, a tag's id, ISO 8601 with a time zone); `{}` is every fan."
)


class SavedFilterIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    filter: dict[str, Any]


class SavedFilterChange(Schema):
    """Only what is sent changes; a changed filter becomes the next version."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    filter: dict[str, Any] | None = None


class SavedFilterOut(Schema):
    id: int
    name: str
    description: str
    version: int
    filter: dict[str, Any]
    problems: list[str]
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class VersionOut(Schema):
    version: int
    filter: dict[str, Any]
    created_at: datetime
    created_by: str


class SavedFansQuery(FanListQuery):
    version: int | None = None


class SavedFanPage(FanPage):
    version: int
    filter: dict[str, Any] | None
    problems: list[str]


@router.get("/accounts/{appid}/filters", response=list[SavedFilterOut], summary="Saved fan filters")
def list_saved(request: HttpRequest, appid: str) -> list[dict[str, Any]]:
    account = account_for(request, appid, Role.AGENT)
    rows = list(_with_current(SavedFilter.objects.filter(account=account)).order_by("name", "id"))
    tag_ids = _tag_ids(account) if any("tag" in _current(s) for s in rows) else set()
    return [_out(s, tag_ids) for s in rows]


@router.post(
    "/accounts/{appid}/filters",
    response={201: SavedFilterOut},
    summary="Save a fan filter under a name",
    description=_FILTER_HELP,
)
def create_saved(request: HttpRequest, appid: str, payload: SavedFilterIn | None = None) -> Status[Any]:
    account = account_for(request, appid, Role.OPERATOR)
    if payload is None:
        raise HttpError(400, 'send {"name": "...", "filter": {...}}')
    filt = _filter(payload.filter)
    try:
        saved = actions.create_saved_filter(_actor(request), account, payload.name, filt, payload.description)
    except actions.SavedFilterError as exc:
        raise HttpError(400, str(exc)) from None
    return Status(201, _out(_get(account, saved.pk)))


@router.get("/accounts/{appid}/filters/{filter_id}", response=SavedFilterOut, summary="A saved fan filter")
def get_saved(request: HttpRequest, appid: str, filter_id: int) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    return _out(_get(account, filter_id))


@router.patch(
    "/accounts/{appid}/filters/{filter_id}",
    response=SavedFilterOut,
    summary="Rename a saved filter, change its description, or save a new version of its filter",
    description=_FILTER_HELP,
)
def change_saved(
    request: HttpRequest, appid: str, filter_id: int, payload: SavedFilterChange | None = None
) -> dict[str, Any]:
    account = account_for(request, appid, Role.OPERATOR)
    saved = _get(account, filter_id)
    if payload is None:
        raise HttpError(400, 'send what changes: {"name": ..., "description": ..., "filter": {...}}')
    filt = _filter(payload.filter) if payload.filter is not None else None
    actor = _actor(request)
    try:
        with transaction.atomic():  # a rename and a new version in one request: both or neither
            if payload.name is not None:
                saved = actions.rename_saved_filter(actor, saved, payload.name)
            if filt is not None or payload.description is not None:
                actions.update_saved_filter(actor, saved, filt, payload.description)
    except actions.SavedFilterError as exc:
        raise HttpError(400, str(exc)) from None
    return _out(_get(account, filter_id))


@router.delete(
    "/accounts/{appid}/filters/{filter_id}",
    response={204: None},
    summary="Delete a saved filter and its versions",
)
def delete_saved(request: HttpRequest, appid: str, filter_id: int) -> Status[None]:
    account = account_for(request, appid, Role.OPERATOR)
    actions.delete_saved_filter(_actor(request), _get(account, filter_id))
    return Status(204, None)


@router.get(
    "/accounts/{appid}/filters/{filter_id}/versions",
    response=list[VersionOut],
    summary="Every version of a saved filter, newest first",
)
def list_versions(request: HttpRequest, appid: str, filter_id: int) -> QuerySet[SavedFilterVersion]:
    account = account_for(request, appid, Role.AGENT)
    saved = _get(account, filter_id)
    return SavedFilterVersion.objects.filter(saved=saved).order_by("-version")


@router.get(
    "/accounts/{appid}/filters/{filter_id}/fans",
    response=SavedFanPage,
    summary="The fans a saved filter matches (its current version, or `version`), paged like the fan list",
)
def saved_fans(request: HttpRequest, appid: str, filter_id: int, q: Query[SavedFansQuery]) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    saved = _get(account, filter_id)
    if q.page < 1 or not 1 <= q.page_size <= MAX_PAGE_SIZE:
        raise HttpError(400, f"page starts at 1; page_size is 1 to {MAX_PAGE_SIZE}")
    try:
        found = fans_of(saved, q.version, q.ordering)
    except SavedFilterVersion.DoesNotExist:
        raise HttpError(404, "no such version") from None
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    return {
        **paged(found.fans, q),
        "version": found.version,
        "filter": found.filter.to_json() if found.filter is not None else None,
        "problems": found.problems,
    }


def _filter(data: dict[str, Any]) -> FanFilter:
    try:
        return FanFilter.from_json(data)
    except FilterError as exc:
        raise HttpError(400, f"filter: {exc}") from None


def _with_current(qs: QuerySet[SavedFilter]) -> QuerySet[SavedFilter]:
    current = SavedFilterVersion.objects.filter(saved=OuterRef("pk"), version=OuterRef("version"))
    return qs.select_related("account").annotate(current=Subquery(current.values("filter")[:1]))


def _get(account: OfficialAccount, filter_id: int) -> SavedFilter:
    saved = _with_current(SavedFilter.objects.filter(account=account, pk=filter_id)).first()
    if saved is None:
        raise HttpError(404, "no such saved filter")
    return saved


def _current(saved: SavedFilter) -> dict[str, Any]:
    """The current version's filter, annotated by _with_current (no query per saved filter)."""
    current: dict[str, Any] = getattr(saved, "current")  # noqa: B009
    return current


def _tag_ids(account: OfficialAccount) -> set[int]:
    return set(Tag.objects.filter(account=account).values_list("pk", flat=True))


def _out(saved: SavedFilter, tag_ids: set[int] | None = None) -> dict[str, Any]:
    current = _current(saved)
    try:
        problems = problems_of(saved, FanFilter.from_json(current), tag_ids)
    except FilterError as exc:
        problems = [f"the stored filter cannot be read: {exc}"]
    return {
        **{name: getattr(saved, name) for name in SavedFilterOut.model_fields if name not in _DERIVED},
        "filter": current,
        "problems": problems,
    }


_DERIVED = {"filter", "problems"}
