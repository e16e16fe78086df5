"""A rule's replies after the passive one, handed to the outbound log as customer-service messages.

Queued inside the callback's transaction, after the event row exists, keyed `rule:<event id>:<n>` so the
outbound log's idempotency makes a retried delivery queue nothing twice. Whether the fan's window still
allows each message is the outbound log's decision when it sends. A refused follow-up must not cost the
fan the passive reply or the event: each is queued in its own savepoint and a failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import DatabaseError, transaction

from liucun.autoreply.decision import Decision
from liucun.outbound.actions import queue_message
from liucun.refusals import Refused

log = logging.getLogger(__name__)


def customer_service_body(content: Mapping[str, str]) -> dict[str, Any]:
    """A rule's reply content as the body message/custom/send takes."""
    kind = content["type"]
    if kind == "text":
        return {"msgtype": "text", "text": {"content": content["text"]}}
    if kind in ("image", "voice"):
        return {"msgtype": kind, kind: {"media_id": content["media_id"]}}
    if kind == "video":
        video = {"media_id": content["media_id"]}
        video.update({k: content[k] for k in ("title", "description") if content.get(k)})
        return {"msgtype": "video", "video": video}
    article = {k: content.get(k, "") for k in ("title", "description", "url", "picurl")}
    return {"msgtype": "news", "news": {"articles": [article]}}


def queue_follow_ups(account_id: int, openid: str, event_id: int, decision: Decision) -> int:
    queued = 0
    for n, content in enumerate(decision.follow_ups, start=1):
        try:
            with transaction.atomic():
                queue_message(
                    account_id=account_id,
                    openid=openid,
                    content=customer_service_body(content),
                    key=f"rule:{event_id}:{n}",
                    source="rule",
                    rule_id=decision.rule_id,
                )
            queued += 1
        except (Refused, DatabaseError) as exc:
            log.warning(
                "rule %s follow-up %d for event %d not queued: %s",
                decision.rule_id,
                n,
                event_id,
                type(exc).__name__,
            )
    return queued
