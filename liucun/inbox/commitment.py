"""The response commitment: the account's first-response target (service hours) and promise (wall clock).

A conversation waiting for an answer is "due soon" once 75 % of the target has passed in service hours,
"over target" past it, and "over promise" once the promise (48 h by default) has passed on the clock.
The schedule is read once per page (one query, not the per-process cache, so a page's queries are fixed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from liucun.inbox.models import Conversation, InboxSettings
from liucun.servicehours.hours import Schedule, build_schedule

DUE_SOON_SHARE = 0.75
WINDOW = timedelta(hours=48)
CLOSING_SOON = timedelta(hours=4)


class Urgency(StrEnum):
    NONE = ""
    DUE_SOON = "due-soon"
    OVER_TARGET = "over-target"
    OVER_PROMISE = "over-promise"


def schedule_of(account_id: int) -> Schedule | None:
    from liucun.servicehours.models import ServiceHours

    row = ServiceHours.objects.filter(account_id=account_id).values("enabled", "weekly", "holidays").first()
    if row is None or not row["enabled"]:
        return None
    return build_schedule(row["weekly"], row["holidays"])


def service_seconds(schedule: Schedule | None, start: datetime, end: datetime) -> float:
    if schedule is None:
        return max(0.0, (end - start).total_seconds())
    return schedule.open_seconds_between(start, end)


@dataclass(frozen=True)
class Commitment:
    settings: InboxSettings
    schedule: Schedule | None

    def urgency(self, conversation: Conversation, now: datetime) -> Urgency:
        since = conversation.waiting_since
        if since is None:
            return Urgency.NONE
        if now - since > timedelta(hours=self.settings.promise_hours):
            return Urgency.OVER_PROMISE
        waited = service_seconds(self.schedule, since, now)
        target = self.settings.first_response_minutes * 60
        if waited > target:
            return Urgency.OVER_TARGET
        if waited > target * DUE_SOON_SHARE:
            return Urgency.DUE_SOON
        return Urgency.NONE


def window_left(conversation: Conversation, now: datetime) -> timedelta | None:
    """What is left of the 48-hour window the fan's last message opened (None when closed)."""
    if conversation.last_fan_message_at is None:
        return None
    left = conversation.last_fan_message_at + WINDOW - now
    return left if left > timedelta(0) else None
