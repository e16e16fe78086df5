"""A fan's export and erasure (liucun/fans/privacy.py) reach the inbox through hooks: staff notes about the
fan are personal data. Erasure blanks their text and keeps who wrote them and when; the conversation row
keeps only times and counts, which the response metrics need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from liucun.inbox.models import Note

ERASED_NOTE = "(erased)"


def erase_notes(account_id: int, openid: str) -> int:
    """Blank the text of the notes on the fan's conversation, inside the erasure's transaction."""
    return (
        Note.objects.filter(conversation__account_id=account_id, conversation__openid=openid)
        .exclude(text=ERASED_NOTE)
        .update(text=ERASED_NOTE)
    )


def export_notes(account_id: int, openid: str) -> list[dict[str, Any]]:
    rows = (
        Note.objects.filter(conversation__account_id=account_id, conversation__openid=openid)
        .order_by("created_at", "id")
        .values("text", "created_at", "author__username")
    )
    return [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()} for row in rows]
