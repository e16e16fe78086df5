"""REST endpoints for the moments push impact judges: validation and orchestration; liucun.pushimpact acts.
The report itself is GET /accounts/{appid}/reports/push-impact (a registered report)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from pydantic import Field

from liucun.analytics.periods import site_zone
from liucun.api.scope import account_for, principal
from liucun.crm.csvfile import MAX_UPLOAD_BYTES
from liucun.pushimpact import actions
from liucun.pushimpact.models import NOTE_MAX_CHARS, TITLE_MAX_CHARS, Push
from liucun.staff.models import Role

router = Router(tags=["pushes"])


class PushOut(Schema):
    id: int
    at: datetime
    title: str
    source: str  # liucun | published | csv | annotation
    note: str
    external_id: str  # WeChat's article_id for a published article


class PushIn(Schema):
    # A time without an offset is China time (the site's time zone).
    at: datetime
    title: str = Field(max_length=TITLE_MAX_CHARS)
    note: str = Field("", max_length=NOTE_MAX_CHARS)


class AddedOut(Schema):
    added: int
    already_known: int


class Page(Schema):
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(100, ge=1, le=1000)


def _actor(request: HttpRequest) -> Any:
    who = principal(request)
    return who.user if who.token is None else who.label


def _out(push: Push) -> dict[str, Any]:
    return {
        "id": push.pk,
        "at": push.at.astimezone(site_zone()),
        "title": push.title,
        "source": push.source,
        "note": push.note,
        "external_id": push.external_id,
    }


@router.get(
    "/accounts/{appid}/pushes", response=list[PushOut], summary="Pushes and marked moments, newest first"
)
def list_pushes(request: HttpRequest, appid: str, page: Query[Page]) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    pushes = Push.objects.filter(account=account).order_by("-at", "-pk")[
        page.offset : page.offset + page.limit
    ]
    return [_out(p) for p in pushes]


@router.post(
    "/accounts/{appid}/pushes",
    response={201: PushOut},
    summary="Mark a moment to judge (its time and what happened); the same time and title is one push",
)
def annotate(request: HttpRequest, appid: str, body: PushIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    push = actions.annotate(_actor(request), account, body.at, body.title, body.note)
    return Status(201, _out(push))


@router.post(
    "/accounts/{appid}/pushes/import-csv",
    response=AddedOut,
    summary="Pushes from a CSV with columns date, time and title (China time): all of it or nothing",
    description=(
        "Upload as the multipart field `file`. UTF-8 (with or without BOM), GBK/GB18030 and UTF-16 "
        "are read; the header names the columns date, time and title (or 日期, 时间, 标题). A refusal "
        "lists every bad line with its number and stores nothing; rows already known (same time and "
        "title) are not doubled."
    ),
)
def import_csv(request: HttpRequest, appid: str, file: File[UploadedFile | None] = None) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    if file is None:
        raise HttpError(400, "upload the CSV as the multipart field `file`")
    if (file.size or 0) > MAX_UPLOAD_BYTES:
        raise HttpError(413, f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it")
    added = actions.import_csv(_actor(request), account, file.read(), file.name or "")
    return {"added": added.added, "already_known": added.already_known}


@router.post(
    "/accounts/{appid}/pushes/import-published",
    response=AddedOut,
    summary="Articles published in WeChat (freepublish), each as a push at its update time",
)
def import_published(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    added = actions.import_published(_actor(request), account)
    return {"added": added.added, "already_known": added.already_known}


@router.delete("/accounts/{appid}/pushes/{push_id}", response={204: None}, summary="Delete a push")
def delete_push(request: HttpRequest, appid: str, push_id: int) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    actions.delete_push(_actor(request), account, push_id)
    return Status(204, None)
