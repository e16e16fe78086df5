"""The write at the heart of ingestion: store a delivery exactly once and decide its answer.

One transaction appends the event, updates the fan and queues follow-up jobs. The passive reply is
decided before the event is stored and kept with it, so a retried delivery gets the first answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction

from liucun.events.models import Event, EventSource
from liucun.fans.ingest import record_fan_event
from liucun.inbound.accounts_cache import CallbackAccount
from liucun.inbound.reply_policy import passive_reply_for
from liucun.sqlite_writelock import serialized_writes
from liucun.wechat.messages import InboundMessage, ScanEvent, SubscribeEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    event_id: int
    reply: str  # plaintext reply XML; "" means answer "success"
    duplicate: bool


def record_delivery(
    account: CallbackAccount,
    message: InboundMessage,
    *,
    received_at: datetime | None = None,
    source: str = EventSource.CALLBACK,
) -> Outcome:
    received_at = received_at or datetime.now(UTC)
    try:
        with serialized_writes(), transaction.atomic():
            existing = _existing(account.id, message.dedupe_key)
            if existing is not None:
                return existing
            return _store(account, message, received_at, source)
    except IntegrityError:
        # A concurrent delivery of the same message won the race (PostgreSQL with several processes).
        existing = _existing(account.id, message.dedupe_key)
        if existing is None:
            raise
        return existing


def _existing(account_id: int, dedupe_key: str) -> Outcome | None:
    row = (
        Event.objects.filter(account_id=account_id, dedupe_key=dedupe_key).values_list("id", "reply").first()
    )
    if row is None:
        return None
    return Outcome(event_id=row[0], reply=row[1], duplicate=True)


def _store(account: CallbackAccount, message: InboundMessage, received_at: datetime, source: str) -> Outcome:
    wechat_time = datetime.fromtimestamp(message.create_time, tz=UTC)
    reply = passive_reply_for(account, message)
    reply_xml = (
        reply.render(
            to_user=message.from_user,
            from_user=message.to_user,
            create_time=int(received_at.timestamp()),
        )
        if reply is not None
        else ""
    )
    event = Event.objects.create(
        account_id=account.id,
        openid=message.from_user,
        kind=message.kind,
        dedupe_key=message.dedupe_key,
        wechat_time=wechat_time,
        received_at=received_at,
        source=source,
        payload=dict(message.raw),
        reply=reply_xml,
    )
    qr_scene = message.qr_scene if isinstance(message, SubscribeEvent | ScanEvent) else None
    fan = record_fan_event(account.id, message.from_user, message.kind, wechat_time, qr_scene=qr_scene)
    if fan is not None and message.kind == "event.subscribe" and account.capabilities.user_management:
        from liucun.fans.tasks import refresh_fan_profile

        # The task row is written in this transaction: it exists exactly when the event does.
        refresh_fan_profile.enqueue(account.id, message.from_user)
    return Outcome(event_id=event.id, reply=reply_xml, duplicate=False)
