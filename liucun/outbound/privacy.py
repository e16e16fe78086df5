"""A fan's export and erasure (liucun/fans/privacy.py) reach the outbound log through hooks.

What was said to the fan is erased; kind, times, source, status and WeChat's answer stay (what the
response-time and delivery statistics need).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from liucun.outbound.models import OutboundMessage

ERASED_CONTENT = {"erased": True}


def erase_outbound_content(account_id: int, openid: str) -> int:
    """Blank the content of the fan's outbound messages, inside the erasure's transaction."""
    return OutboundMessage.objects.filter(
        account_id=account_id, openid=openid, content_erased_at__isnull=True
    ).update(content=ERASED_CONTENT, content_erased_at=datetime.now(UTC))


def export_outbound(account_id: int, openid: str) -> list[dict[str, Any]]:
    """The fan's outbound messages for their export, oldest first."""
    rows = (
        OutboundMessage.objects.filter(account_id=account_id, openid=openid)
        .order_by("created_at", "id")
        .values("kind", "content", "source", "status", "errcode", "created_at", "sent_at")
    )
    return [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()} for row in rows]
