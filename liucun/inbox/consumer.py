"""The inbox's read model: fans' messages (and rules handing a fan to a human) open and move conversations.

Reads message kinds and the short-window events (a menu click may hand to a human); only live callbacks
count, never imported history (nobody is waiting for an answer to last year's messages). Each
conversation remembers the last event folded into it, so a replay after a rebuild changes nothing it
already counted; `reset` empties the fan-side columns only, because the agent-side ones (assignee,
replies, resolution) come from people, not events, and a rebuild must not forget them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from liucun.events.kinds import MESSAGE_KINDS, WINDOW_EVENT_KINDS
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan
from liucun.inbox.assignment import assign_waiting
from liucun.inbox.models import Conversation, OpenedBy, State
from liucun.inbox.states import fan_spoke
from liucun.readmodels.consumer import Consumer, EventRow

CHUNK = 500
FAN_SIDE = ("messages", "last_fan_message_at", "handoff_at", "last_event_id")
WRITTEN = ("state", "opened_by", "opened_at", "waiting_since", "first_response_at", *FAN_SIDE)


@dataclass
class _Plan:
    events: list[EventRow] = field(default_factory=list)
    handoffs: set[int] = field(default_factory=set)
    fans: dict[tuple[int, str], int] = field(default_factory=dict)


class ConversationsConsumer(Consumer):
    name = "inbox-conversations"
    kinds = MESSAGE_KINDS | WINDOW_EVENT_KINDS
    version = 1

    def reset(self) -> None:
        Conversation.objects.update(messages=0, last_fan_message_at=None, handoff_at=None, last_event_id=0)

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        live = [e for e in events if e.source == EventSource.CALLBACK]
        plan = _Plan()
        ids = [e.id for e in live]
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            plan.handoffs.update(
                Event.objects.filter(id__in=chunk, handoff=True).values_list("id", flat=True)
            )
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
        Conversation.objects.bulk_update(list(changed.values()), WRITTEN, batch_size=CHUNK)
        now = datetime.now(UTC)
        for account_id in sorted(by_account):
            assign_waiting(account_id, now)
