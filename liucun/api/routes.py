"""The REST API's endpoints. Validation and orchestration only: reads go to queries, writes to actions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError

from liucun.accounts.models import OfficialAccount
from liucun.api.schemas import (
    AccountOut,
    FanListQuery,
    FanOut,
    FanPage,
    FanQuery,
    SyncJobOut,
    TimelineOut,
)
from liucun.api.scope import account_for, principal
from liucun.fans import privacy, queries
from liucun.fans.actions import start_follower_sync
from liucun.fans.filters import FanFilter
from liucun.fans.models import Fan, SyncJob
from liucun.staff.models import Role
from liucun.staff.permissions import accounts_visible_to

router = Router()


def _fan(fan: Fan) -> dict[str, Any]:
    data = {name: getattr(fan, name) for name in FanOut.model_fields if name != "window_open"}
    return {**data, "window_open": queries.window_open(fan)}


@router.get("/accounts", response=list[AccountOut], summary="Accounts the caller may see")
def list_accounts(request: HttpRequest) -> list[dict[str, Any]]:
    who = principal(request)
    out = []
    for account in accounts_visible_to(who.user):
        role = who.role(account)
        if role is None:
            continue
        out.append(
            {
                "appid": account.appid,
                "original_id": account.original_id,
                "name": account.name,
                "account_type": account.account_type,
                "verified": account.verified,
                "encryption_mode": account.encryption_mode,
                "role": role.value,
                "capabilities": account.capabilities.as_dict(),
            }
        )
    return out


@router.get("/accounts/{appid}/fans", response=FanPage, summary="Fans, filtered, sorted and paginated")
def list_fans(request: HttpRequest, appid: str, q: Query[FanQuery]) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    return fan_page(account, q.fan_filter(), q)


def fan_page(account: OfficialAccount, filt: FanFilter, q: FanListQuery) -> dict[str, Any]:
    """One page of a fan list as the API answers it (the fan list, a saved filter's fans)."""
    if q.page < 1 or not 1 <= q.page_size <= queries.MAX_PAGE_SIZE:
        raise HttpError(400, f"page starts at 1; page_size is 1 to {queries.MAX_PAGE_SIZE}")
    try:
        pages = queries.fan_pages(account, filt, q.ordering)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    return paged(pages, q)


def paged(pages: queries.PagedFans, q: FanListQuery) -> dict[str, Any]:
    start = (q.page - 1) * q.page_size
    return {
        "count": pages.count(),
        "page": q.page,
        "page_size": q.page_size,
        "results": [_fan(f) for f in pages[start : start + q.page_size]],
    }


@router.get("/accounts/{appid}/fans/{openid}", response=TimelineOut, summary="A fan and their whole story")
def fan_timeline(request: HttpRequest, appid: str, openid: str) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    try:
        fan, periods, events = queries.timeline(account, openid)
    except Fan.DoesNotExist:
        raise HttpError(404, "no such fan") from None
    return {"fan": _fan(fan), "periods": periods, "events": events}


@router.post("/accounts/{appid}/syncs", response={202: SyncJobOut}, summary="Start a follower sync")
def start_sync(request: HttpRequest, appid: str) -> Status[SyncJob]:
    account = account_for(request, appid, Role.OPERATOR)
    return Status(202, start_follower_sync(_actor(request), account))


@router.get("/accounts/{appid}/syncs/{job_id}", response=SyncJobOut, summary="A follower sync's progress")
def sync_status(request: HttpRequest, appid: str, job_id: int) -> SyncJob:
    account = account_for(request, appid, Role.AGENT)
    job = SyncJob.objects.filter(account=account, pk=job_id).first()
    if job is None:
        raise HttpError(404, "no such sync")
    return job


@router.get("/accounts/{appid}/fans/{openid}/export", summary="Everything held about a fan (audited)")
def export_fan(request: HttpRequest, appid: str, openid: str) -> dict[str, Any]:
    account = account_for(request, appid, Role.ADMIN)
    try:
        return privacy.export_fan(account, openid, _actor(request))
    except Fan.DoesNotExist:
        raise HttpError(404, "no such fan") from None


@router.post("/accounts/{appid}/fans/{openid}/erase", summary="Erase a fan's personal data (audited)")
def erase_fan(request: HttpRequest, appid: str, openid: str) -> dict[str, Any]:
    account = account_for(request, appid, Role.ADMIN)
    if not privacy.erase_fan(account, openid, _actor(request), "request"):
        raise HttpError(404, "no such fan")
    return {"erased": openid}


def _actor(request: HttpRequest) -> Any:
    who = principal(request)
    return who.user if who.token is None else who.label
