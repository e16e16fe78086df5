"""Everything sent to a fan, as one list: this app's customer-service messages and the passive replies
kept on the events they answered (events.Event.reply), newest first. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from liucun.events.models import Event
from liucun.outbound.content import summary
from liucun.outbound.models import OutboundMessage, Status
from liucun.wechat.errors import ProtocolError
from liucun.wechat.xmlparse import parse_xml_fields

PASSIVE = "passive"  # the status of a passive reply: it went back in the callback's answer


@dataclass(frozen=True)
class Sent:
    at: datetime
    kind: str  # msgtype
    summary: str
    source: str  # agent, rule, system; "reply" for a passive reply
    status: str  # an outbound Status, or "passive"
    message_id: int | None = None  # None for a passive reply
    event_id: int | None = None  # the event a passive reply answered
    rule_id: int | None = None
    staff: str = ""  # who sent it (an agent's login)
    errcode: int | None = None
    error: str = ""
    content: dict[str, Any] | None = None
    sent_at: datetime | None = None


def fan_outbound(account_id: int, openid: str, limit: int = 50) -> list[Sent]:
    sent = [_from_row(m) for m in messages(account_id, openid)[:limit]]
    passive = _passive_replies(account_id, openid, limit)
    return sorted(sent + passive, key=lambda s: s.at, reverse=True)[:limit]


def messages(account_id: int, openid: str) -> QuerySet[OutboundMessage]:
    """The fan's customer-service messages, newest first (the fan-timeline index)."""
    return (
        OutboundMessage.objects.filter(account_id=account_id, openid=openid)
        .select_related("staff")
        .order_by("-created_at", "-id")
    )


def _from_row(m: OutboundMessage) -> Sent:
    return Sent(
        at=m.created_at,
        kind=m.kind,
        summary=summary(m.content),
        source=m.source,
        status=m.status,
        message_id=m.pk,
        rule_id=m.rule_id,
        staff=m.staff.get_username() if m.staff is not None else "",
        errcode=m.errcode,
        error=m.error,
        content=m.content,
        sent_at=m.sent_at,
    )


def _passive_replies(account_id: int, openid: str, limit: int) -> list[Sent]:
    has_rule = any(f.name == "rule_id" for f in Event._meta.concrete_fields)
    fields = ["id", "received_at", "reply"] + (["rule_id"] if has_rule else [])
    rows = (
        Event.objects.filter(account_id=account_id, openid=openid)
        .exclude(reply="")
        .order_by("-wechat_time", "-id")
        .values(*fields)[:limit]
    )
    return [_from_reply(row) for row in rows]


def _from_reply(row: dict[str, Any]) -> Sent:
    kind, text = _reply_kind_and_text(row["reply"])
    return Sent(
        at=row["received_at"],
        kind=kind,
        summary=text,
        source="reply",
        status=PASSIVE,
        event_id=row["id"],
        rule_id=row.get("rule_id"),
        sent_at=row["received_at"],
    )


def _reply_kind_and_text(xml: str) -> tuple[str, str]:
    try:
        fields = parse_xml_fields(xml)
    except ProtocolError:
        # An erased reply is "(erased)", not XML: the fact of a reply is kept, its content is not.
        return "", xml[:80]
    kind = str(fields.get("MsgType", ""))
    if kind == "text":
        return kind, summary({"msgtype": "text", "text": {"content": str(fields.get("Content", ""))}})
    return kind, ""


__all__ = ["PASSIVE", "Sent", "Status", "fan_outbound", "messages"]
