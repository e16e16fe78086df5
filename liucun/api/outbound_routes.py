"""REST endpoints for sending to a fan: validation and orchestration; liucun/outbound does the work."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict

from liucun.api.scope import account_for, principal
from liucun.outbound import actions
from liucun.outbound.models import Source
from liucun.outbound.queries import fan_outbound
from liucun.outbound.window import window_for
from liucun.staff.models import Role

router = Router(tags=["sending"])

TEXT_EXAMPLE = {"msgtype": "text", "text": {"content": "您好，您预约的时间已确认。"}}
NEWS_EXAMPLE = {
    "msgtype": "news",
    "news": {
        "articles": [{"title": "会员日活动", "description": "本周六全场八折", "url": "https://example.com/a"}]
    },
}


class MessageIn(Schema):
    """A customer-service message: `content` is the body message/custom/send takes without `touser`
    ({"msgtype": "text", "text": {"content": "..."}}, image/voice by media_id, one news article, ...)."""

    content: dict[str, Any] = Field(..., examples=[TEXT_EXAMPLE])
    key: str | None = Field(
        None,
        max_length=actions.KEY_MAX_CHARS,
        description="The idempotency key, when no Idempotency-Key header is sent: a retry with the same key "
        "returns the first message and sends nothing.",
        examples=["reply-7f3c2a"],
    )
    conversation_id: int | None = None


class LogQuery(Schema):
    limit: int = Field(50, ge=1, le=200, description="How many of the newest to list")


class SentOut(Schema):
    at: datetime
    kind: str
    summary: str
    source: str = Field(..., description="agent, rule, system; reply for a passive reply")
    status: str = Field(..., description="queued, sending, sent, refused, failed, unknown; passive")
    message_id: int | None
    event_id: int | None
    rule_id: int | None
    staff: str
    errcode: int | None
    error: str
    content: dict[str, Any] | None
    sent_at: datetime | None


class MessageOut(Schema):
    id: int
    openid: str
    kind: str
    content: dict[str, Any]
    source: str
    status: Literal["queued", "sending", "sent", "refused", "failed", "unknown"]
    errcode: int | None
    error: str
    idempotency_key: str
    created_at: datetime
    sent_at: datetime | None
    attempt: int


class WindowOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "open": True,
                    "opened_at": "2026-12-01T09:30:00Z",
                    "closes_at": "2026-12-03T09:30:00Z",
                    "seconds_left": 171000,
                    "messages_left": 4,
                    "reason": "",
                }
            ]
        }
    )
    open: bool
    opened_at: datetime | None
    closes_at: datetime | None
    seconds_left: int
    messages_left: int | None
    reason: str = Field(..., description="When closed: why, and the alternatives; empty when open")


@router.post(
    "/accounts/{appid}/fans/{openid}/messages",
    response={201: MessageOut},
    summary="Send a customer-service message to a fan (idempotent by key)",
    description="Sent at most once: a second request with the same key returns the first message. Refused "
    "(409, code window_closed) when the fan's window does not allow it, with the reason and the "
    "alternatives; "
    "a message WeChat's limits refuse is a 400 naming the field. The answer's status is WeChat's outcome: "
    "sent, refused, failed, or unknown when WeChat's answer was lost (it is never resent by itself).",
    openapi_extra={
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": actions.KEY_MAX_CHARS},
                "description": "The idempotency key (or the body's `key`); one of the two is required.",
                "example": "reply-7f3c2a",
            }
        ],
        "requestBody": {
            "content": {
                "application/json": {
                    "examples": {
                        "text": {"value": {"content": TEXT_EXAMPLE, "key": "reply-7f3c2a"}},
                        "news": {"value": {"content": NEWS_EXAMPLE, "key": "reply-7f3c2b"}},
                    }
                }
            }
        },
    },
)
def send_message(request: HttpRequest, appid: str, openid: str, body: MessageIn) -> Any:
    account = account_for(request, appid, Role.AGENT)
    key = request.headers.get("Idempotency-Key") or body.key or ""
    message = actions.queue_message(
        account_id=account.pk,
        openid=openid,
        content=body.content,
        key=key,
        source=Source.AGENT,
        staff_id=principal(request).user.pk,
        conversation_id=body.conversation_id,
    )
    return Status(201, actions.deliver_now(message))


@router.get(
    "/accounts/{appid}/fans/{openid}/messages",
    response=list[SentOut],
    summary="Everything sent to a fan, newest first (customer-service messages and passive replies)",
)
def list_messages(request: HttpRequest, appid: str, openid: str, q: Query[LogQuery]) -> Any:
    account = account_for(request, appid, Role.AGENT)
    return fan_outbound(account.pk, openid, q.limit)


@router.get(
    "/accounts/{appid}/fans/{openid}/window",
    response=WindowOut,
    summary="The fan's customer-service window: open or not, time and messages left, or why closed",
)
def fan_window(request: HttpRequest, appid: str, openid: str) -> Any:
    account = account_for(request, appid, Role.AGENT)
    window = window_for(account.pk, openid)
    if window.opened_at is None and not window.open and not _known(account.pk, openid):
        raise HttpError(404, "no such fan")
    return {**window.__dict__, "reason": str(window.reason)}


def _known(account_id: int, openid: str) -> bool:
    from liucun.fans.models import Fan

    return Fan.objects.filter(account_id=account_id, openid=openid).exists()
