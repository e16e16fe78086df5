"""The inbox's read model: fans' messages (and rules handing a fan to a human) open and move conversations.

Reads message kinds and the short-window events (a menu click may hand to a human); only live callbacks
count, never imported history (nobody is waiting for an answer to last year's messages), and the database
leaves the rest out (`events_filter`), so a year of imported history is walked, not read into Python.
Each conversation remembers the last event folded into it, so a replay after a rebuild changes nothing it
already counted; `reset` empties the fan-side columns only, because the agent-side ones (assignee,
replies, resolution) come from people, not events, and a rebuild must not forget them. A rebuild is
set-based (inbox/bulk.py: the same rows as a replay, ADR 21).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from django.db import connection
from django.db.models import Q

from liucun.events.kinds import MESSAGE_KINDS, WINDOW_EVENT_KINDS
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan
from liucun.inbox import bulk
from liucun.inbox.assignment import assign_waiting
from liucun.inbox.models import Conversation, OpenedBy, State
from liucun.inbox.states import fan_spoke
from liucun.rawsql import Sql
from liucun.readmodels.consumer import EventRow, StagedBulkConsumer

CHUNK = 500
FAN_SIDE = ("messages", "last_fan_message_at", "handoff_at", "last_event_id")
WRITTEN = ("state", "opened_by", "opened_at", "waiting_since", "first_response_at", *FAN_SIDE)
# One plain statement per changed conversation: Django's bulk_update builds a CASE per column over the
# batch, which took nearly 90 % of a replay of live traffic (bench/inbox/rebuild.py).
_UPDATE = f"UPDATE inbox_conversation SET {', '.join(f'{column} = %s' for column in WRITTEN)} WHERE id = %s"  # noqa: S608
_TIMES = frozenset({"opened_at", "waiting_since", "first_response_at", "last_fan_message_at", "handoff_at"})


@dataclass
class _Plan:
    events: list[EventRow] = field(default_factory=list)
    handoffs: set[int] = field(default_factory=set)
    fans: dict[tuple[int, str], int] = field(default_factory=dict)


class ConversationsConsumer(StagedBulkConsumer):
    name = "inbox-conversations"
    kinds = MESSAGE_KINDS | WINDOW_EVENT_KINDS
    # What prepare() keeps, said to the database as well: live callbacks, and of the window events only
    # those a rule handed to a human (prepare still checks both, so the filter only saves reading).
    events_filter = Q(source=EventSource.CALLBACK) & (Q(kind__in=MESSAGE_KINDS) | Q(handoff=True))
    version = 1

    def reset(self) -> None:
        if self._staged_upto is not None:
            # A set-based fill follows in this transaction and writes the other conversations' columns.
            bulk.reset_staged()
            return
        Conversation.objects.update(messages=0, last_fan_message_at=None, handoff_at=None, last_event_id=0)

    def stage_bulk(self, last_id: int) -> None:
        bulk.stage(last_id)

    def copy_bulk(self) -> None:
        touched = bulk.fill()
        # As a replay does after each batch: new open conversations go to available agents.
        now = datetime.now(UTC)
        for account_id in touched:
            assign_waiting(account_id, now)

    def drop_bulk(self) -> None:
        bulk.drop()

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        live = [e for e in events if e.source == EventSource.CALLBACK]
        plan = _Plan()
        if live:
            # One range of the primary key for the batch (handoffs are few) instead of an IN list per 500.
            span = Event.objects.filter(id__gte=live[0].id, id__lte=live[-1].id, handoff=True)
            wanted = {e.id for e in live}
            plan.handoffs.update(i for i in span.values_list("id", flat=True) if i in wanted)
        plan.events = [e for e in live if e.kind in MESSAGE_KINDS or e.id in plan.handoffs]
        by_account: dict[int, set[str]] = {}
        for e in plan.events:
            by_account.setdefault(e.account_id, set()).add(e.openid)
        for account_id, openids in by_account.items():
            ordered = sorted(openids)
            for start in range(0, len(ordered), CHUNK):
                rows = Fan.objects.filter(account_id=account_id, openid__in=ordered[start : start + CHUNK])
                for fan_id, openid in rows.values_list("id", "openid"):
                    plan.fans[account_id, openid] = fan_id
        return plan

    def apply(self, plan: _Plan) -> None:
        if not plan.events:
            return
        by_account: dict[int, set[str]] = {}
        for e in plan.events:
            by_account.setdefault(e.account_id, set()).add(e.openid)
        known: dict[tuple[int, str], Conversation] = {}
        for account_id, openids in by_account.items():
            ordered = sorted(openids)
            for start in range(0, len(ordered), CHUNK):
                # Locked: an agent's action on the same conversation waits for this batch (PostgreSQL).
                rows = Conversation.objects.select_for_update().filter(
                    account_id=account_id, openid__in=ordered[start : start + CHUNK]
                )
                for conversation in rows:
                    known[account_id, conversation.openid] = conversation
        created: dict[tuple[int, str], Conversation] = {}
        changed: dict[int, Conversation] = {}
        for e in plan.events:
            key = (e.account_id, e.openid)
            handoff = e.id in plan.handoffs
            found = known.get(key) or created.get(key)
            if found is None:
                conversation = Conversation(
                    account_id=e.account_id,
                    openid=e.openid,
                    fan_id=plan.fans.get(key),
                    state=State.OPEN,
                    opened_by=OpenedBy.HANDOFF if handoff else OpenedBy.MESSAGE,
                    opened_at=e.wechat_time,
                    waiting_since=e.wechat_time,
                )
                created[key] = conversation
            elif e.id <= found.last_event_id:
                continue
            else:
                conversation = found
            fan_spoke(conversation, e.wechat_time, message=e.kind in MESSAGE_KINDS, handoff=handoff)
            conversation.last_event_id = max(conversation.last_event_id, e.id)
            if conversation.pk is not None:
                changed[conversation.pk] = conversation
        Conversation.objects.bulk_create(list(created.values()), batch_size=CHUNK)
        _write(list(changed.values()))
        now = datetime.now(UTC)
        for account_id in sorted(by_account):
            assign_waiting(account_id, now)


def _write(conversations: list[Conversation]) -> None:
    if not conversations:
        return
    sql = Sql(connection)
    rows = [[*(_stored(sql, column, getattr(c, column)) for column in WRITTEN), c.pk] for c in conversations]
    cursor = sql.cursor()
    try:
        sql.executemany(cursor, _UPDATE, rows)
    finally:
        cursor.close()


def _stored(sql: Sql, column: str, value: Any) -> Any:
    if column in _TIMES:
        return sql.dt(value)
    # A state or opener set by fan_spoke is a choices member; the drivers are given its plain value.
    return value.value if isinstance(value, Enum) else value
