"""The write at the heart of ingestion: store each delivery exactly once and decide its answer.

One transaction per batch of concurrent deliveries (inbound/groupcommit.py) appends the events and
updates the fans. Slower follow-up work (reading new fans' profiles) is found by the worker's
scheduler from the stored state, so it costs the callback nothing (runner/scheduler.py).

The passive reply is decided before the event is stored and kept with it, so a retried delivery gets
the first answer. If a batch fails as a whole, each delivery is retried alone so one bad delivery
cannot sink the others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction

from liucun.autoreply.decision import NOTHING, Decision
from liucun.autoreply.followups import queue_follow_ups
from liucun.events.models import EventSource
from liucun.events.store import append_event, find_event
from liucun.fans.state_store import record_fan_event
from liucun.inbound.accounts_cache import CallbackAccount
from liucun.inbound.groupcommit import GroupCommit
from liucun.inbound.reply_policy import decided_early, passive_reply_for
from liucun.rawsql import Sql
from liucun.sqlite_writelock import serialized_writes
from liucun.wechat.messages import InboundMessage, ScanEvent, SubscribeEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    account: CallbackAccount
    message: InboundMessage
    received_at: datetime
    source: str = EventSource.CALLBACK


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
    timeout: float | None = None,
) -> Outcome:
    delivery = Delivery(account, message, received_at or datetime.now(UTC), source)
    return _group_commit.submit(delivery, timeout)


def store_deliveries(deliveries: Sequence[Delivery]) -> list[Outcome | BaseException]:
    """Store a batch in one transaction; on failure fall back to one transaction per delivery."""
    ordered = sorted(range(len(deliveries)), key=lambda i: _lock_order(deliveries[i]))
    # Answers that need nothing from the database are decided for the whole batch first, before the
    # write lock is taken (reply_policy.decided_early); the rest inside the transaction, in order.
    early = {i: _early_answer(deliveries[i]) for i in ordered}
    try:
        with serialized_writes(), transaction.atomic():
            sql = Sql(connection)
            cursor = sql.cursor()
            try:
                stored = {i: _store_one(cursor, sql, deliveries[i], early[i]) for i in ordered}
            finally:
                cursor.close()
        return [stored[i] for i in range(len(deliveries))]
    except DatabaseError as exc:
        if len(deliveries) == 1:
            return [_retry_alone(deliveries[0], exc)]
        log.warning(
            "a batch of %d deliveries failed (%s); storing them one by one",
            len(deliveries),
            type(exc).__name__,
        )
        return [store_deliveries([d])[0] for d in deliveries]


def _retry_alone(delivery: Delivery, first_error: DatabaseError) -> Outcome | BaseException:
    if not isinstance(first_error, IntegrityError):
        return first_error
    # A concurrent delivery of the same message won the race (PostgreSQL, several processes).
    sql = Sql(connection)
    cursor = sql.cursor()
    try:
        existing = find_event(cursor, sql, delivery.account.id, delivery.message.dedupe_key)
    finally:
        cursor.close()
    if existing is None:
        return first_error
    return Outcome(event_id=existing[0], reply=existing[1], duplicate=True)


def _lock_order(delivery: Delivery) -> tuple[int, str]:
    # A stable sort by fan keeps one fan's deliveries in arrival order and makes every batch take row
    # locks in the same order, so two processes' batches cannot deadlock each other on PostgreSQL.
    return delivery.account.id, delivery.message.from_user


def _early_answer(delivery: Delivery) -> tuple[Decision, str] | None:
    # Imported history is not answered: nobody is waiting for a reply to last year's follow.
    if delivery.source != EventSource.CALLBACK:
        return NOTHING, ""
    decision = decided_early(delivery.account, delivery.message, now=delivery.received_at)
    if decision is None:
        return None
    try:
        return decision, _render(delivery, decision)
    except Exception:
        return None  # rendered again in the transaction, which fails the same way as it always has


def _render(delivery: Delivery, decision: Decision) -> str:
    if decision.reply is None:
        return ""
    return decision.reply.render(
        to_user=delivery.message.from_user,
        from_user=delivery.message.to_user,
        create_time=int(delivery.received_at.timestamp()),
    )


def _store_one(cursor: Any, sql: Sql, delivery: Delivery, early: tuple[Decision, str] | None) -> Outcome:
    account, message = delivery.account, delivery.message
    wechat_time = datetime.fromtimestamp(message.create_time, tz=UTC)
    if early is None:
        decision = passive_reply_for(account, message, cursor=cursor, sql=sql, now=delivery.received_at)
        reply_xml = _render(delivery, decision)
    else:
        decision, reply_xml = early
    event_id = append_event(
        cursor,
        sql,
        account_id=account.id,
        openid=message.from_user,
        kind=message.kind,
        dedupe_key=message.dedupe_key,
        wechat_time=wechat_time,
        received_at=delivery.received_at,
        source=delivery.source,
        payload=dict(message.raw),
        reply=reply_xml,
        rule_id=decision.rule_id,
        handoff=decision.handoff,
    )
    if event_id is None:
        existing = find_event(cursor, sql, account.id, message.dedupe_key)
        assert existing is not None  # the conflicting row is committed or ours: it is visible
        return Outcome(event_id=existing[0], reply=existing[1], duplicate=True)
    qr_scene = message.qr_scene if isinstance(message, SubscribeEvent | ScanEvent) else None
    record_fan_event(
        cursor,
        sql,
        account_id=account.id,
        openid=message.from_user,
        kind=message.kind,
        at=wechat_time,
        now=delivery.received_at,
        qr_scene=qr_scene,
        source=delivery.source,
    )
    if decision.follow_ups:
        queue_follow_ups(account.id, message.from_user, event_id, decision)
    return Outcome(event_id=event_id, reply=reply_xml, duplicate=False)


_group_commit: GroupCommit[Delivery, Outcome] = GroupCommit(store_deliveries)
