"""REST endpoints for pulling WeChat's follower statistics: validation and orchestration; liucun.reconcile
acts. The comparison itself is the report operation /accounts/{appid}/reports/reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from liucun.api.scope import account_for, principal
from liucun.reconcile.actions import request_pull
from liucun.reconcile.status import PullStatusView, pull_status
from liucun.staff.models import Role

router = Router(tags=["analytics"])


class PullStatusOut(Schema):
    status: str = Field(description="idle (up to date), queued, running, refused (waits for a pull), failed")
    running: bool
    allowed: bool = Field(description="false: WeChat gives statistics to verified accounts only")
    problem: str = Field(description="the last refusal or failure in words, or empty")
    error_code: str = Field(description='its stable code, e.g. "wechat.48001", or empty')
    requested_by: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_success_at: datetime | None
    days_wanted: int = Field(description="days the current or last run set out to pull")
    days_done: int = Field(description="days it has pulled")
    days_pulled: int = Field(description="days stored in the last year up to the newest published day")
    days_missing: int
    first_pulled: date | None
    last_pulled: date | None
    latest_published: date = Field(description="the newest day WeChat has published (yesterday after 08:00)")


def _out(view: PullStatusView) -> dict[str, Any]:
    return {name: getattr(view, name) for name in PullStatusOut.model_fields}


@router.get(
    "/accounts/{appid}/reconcile",
    response=PullStatusOut,
    summary="Where pulling WeChat's follower statistics stands",
)
def reconcile_status(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    return _out(pull_status(account))


@router.post(
    "/accounts/{appid}/reconcile/pull",
    response={202: PullStatusOut},
    summary="Pull WeChat's follower statistics now (every missing day, also after a refusal)",
)
def reconcile_pull(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    who = principal(request)
    request_pull(who.user if who.token is None else who.label, account)
    return Status(202, _out(pull_status(account)))
