"""Who works a conversation: round robin among available agents, each under the account's cap.

The rotation is stored (AgentStatus.last_assigned_at): the agent who got a conversation longest ago
gets the next one, across runs and processes. A conversation counts against an agent's cap until it is
resolved (waiting on the fan still needs them). Assignment happens when the consumer opens
conversations, when an agent marks themselves available, and when a conversation is resolved.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Count

from liucun.inbox.models import AgentStatus, Conversation, InboxSettings, State
from liucun.sqlite_writelock import serialized_writes
from liucun.staff.models import Membership

ACTIVE = (State.OPEN, State.WAITING)


def settings_for(account_id: int) -> InboxSettings:
    """The account's settings, or the defaults (unsaved) while none were chosen."""
    return InboxSettings.objects.filter(account_id=account_id).first() or InboxSettings(account_id=account_id)


def auto_assign(account_id: int, now: datetime | None = None) -> int:
    with serialized_writes(), transaction.atomic():
        return assign_waiting(account_id, now or datetime.now(UTC))


def assign_waiting(account_id: int, now: datetime) -> int:
    """Give unassigned open conversations, oldest waiting first, to available agents in turn. Inside the
    caller's transaction; returns how many were assigned."""
    chosen = settings_for(account_id)
    if not chosen.auto_assign:
        return 0
    members = Membership.objects.filter(account_id=account_id, user__is_active=True).values("user_id")
    statuses = list(
        AgentStatus.objects.select_for_update()
        .filter(account_id=account_id, available=True, user_id__in=members)
        .order_by("last_assigned_at", "id")
    )
    # NULLS FIRST on both databases: someone who never got one goes first.
    statuses.sort(key=lambda s: (s.last_assigned_at is not None, s.last_assigned_at or now, s.id))
    if not statuses:
        return 0
    load = dict(
        Conversation.objects.filter(
            account_id=account_id, state__in=ACTIVE, assigned_to_id__in=[s.user_id for s in statuses]
        )
        .values_list("assigned_to_id")
        .annotate(n=Count("id"))
        .values_list("assigned_to_id", "n")
    )
    room = {s.user_id: chosen.max_open_per_agent - load.get(s.user_id, 0) for s in statuses}
    capacity = sum(max(r, 0) for r in room.values())
    if capacity <= 0:
        return 0
    waiting = list(
        Conversation.objects.select_for_update()
        .filter(account_id=account_id, state=State.OPEN, assigned_to__isnull=True)
        .order_by("waiting_since", "id")[:capacity]
    )
    turn = deque(s for s in statuses if room[s.user_id] > 0)
    assigned = 0
    for conversation in waiting:
        if not turn:
            break
        status = turn.popleft()
        conversation.assigned_to_id = status.user_id
        conversation.assigned_at = now
        conversation.save(update_fields=["assigned_to", "assigned_at", "updated_at"])
        # Microseconds apart, so the stored rotation keeps this order for the next run.
        status.last_assigned_at = now + timedelta(microseconds=assigned)
        status.save(update_fields=["last_assigned_at"])
        room[status.user_id] -= 1
        assigned += 1
        if room[status.user_id] > 0:
            turn.append(status)
    return assigned
