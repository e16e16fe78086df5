"""Read side of the inbox: the lists (mine, unassigned, all, window closing soon), tab counts, a
conversation's thread, and the response-commitment metrics."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from liucun.events.kinds import MESSAGE_KINDS
from liucun.events.models import Event
from liucun.inbox.assignment import settings_for
from liucun.inbox.commitment import CLOSING_SOON, WINDOW, Commitment, Urgency, schedule_of, window_left
from liucun.inbox.models import AgentStatus, Conversation, Measure, Note, State

PAGE_SIZE = 50
VIEWS = ("mine", "unassigned", "all", "closing")
STATES = ("open", "waiting", "resolved", "active")
COUNT_CAP = 1000


def conversations(
    account_id: int, user_id: int | None, *, view: str = "all", state: str = "open", now: datetime
) -> QuerySet[Conversation]:
    """A list's conversations: waiting on us, oldest waiting first; the others, latest fan message first.
    Each order is one of the table's indexes, so a page never sorts the account's conversations."""
    rows = Conversation.objects.filter(account_id=account_id)
    if view == "mine":
        rows = rows.filter(assigned_to_id=user_id)
    elif view == "unassigned":
        rows = rows.filter(assigned_to__isnull=True)
    if view == "closing":
        # Still open for the fan, with under 4 hours of the 48 left, and nobody has answered since.
        return rows.filter(
            state=State.OPEN,
            last_fan_message_at__gt=now - WINDOW,
            last_fan_message_at__lte=now - WINDOW + CLOSING_SOON,
        ).order_by("last_fan_message_at", "id")
    if state == "active":
        return rows.filter(state__in=(State.OPEN, State.WAITING)).order_by("-last_fan_message_at", "-id")
    if state in (State.WAITING, State.RESOLVED):
        return rows.filter(state=state).order_by("-last_fan_message_at", "-id")
    return rows.filter(state=State.OPEN).order_by("waiting_since", "id")


@dataclass
class Row:
    conversation: Conversation
    unread: int
    urgency: Urgency
    window_left: timedelta | None

    @property
    def window_text(self) -> str:
        return hours_minutes(self.window_left) if self.window_left is not None else ""

    waiting_text: str = ""  # when the fan started waiting, local time, and for how long
    href: str = ""  # set by the console

    @property
    def closing(self) -> bool:
        return self.window_left is not None and self.window_left <= CLOSING_SOON


def _waiting_text(c: Conversation, now: datetime, zone: tzinfo) -> str:
    # Formatted here rather than with the template's date filters: for 50 rows those cost more than the
    # page's queries.
    if c.waiting_since is None:
        return ""
    return f"{c.waiting_since.astimezone(zone):%m-%d %H:%M} · {hours_minutes(now - c.waiting_since)}"


def hours_minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m"


@dataclass
class ListPage:
    rows: list[Row]
    page: int
    has_next: bool
    counts: dict[str, int] = field(default_factory=dict)


def list_page(
    account_id: int, user_id: int | None, *, view: str, state: str, page: int, now: datetime
) -> ListPage:
    page = max(page, 1)
    start = (page - 1) * PAGE_SIZE
    ids = list(
        conversations(account_id, user_id, view=view, state=state, now=now).values_list("id", flat=True)[
            start : start + PAGE_SIZE + 1
        ]
    )
    # The page's ids from the index alone, then its rows: a deep page skips index entries, not joined rows.
    found = Conversation.objects.filter(id__in=ids[:PAGE_SIZE]).select_related("fan", "assigned_to")
    by_id = {c.pk: c for c in found}
    batch = [by_id[i] for i in ids[:PAGE_SIZE] if i in by_id]
    commitment = Commitment(settings_for(account_id), schedule_of(account_id))
    zone = timezone.get_current_timezone()
    rows = [
        Row(c, c.unread, commitment.urgency(c, now), window_left(c, now), _waiting_text(c, now, zone))
        for c in batch
    ]
    return ListPage(rows, page, len(ids) > PAGE_SIZE)


def tab_counts(account_id: int, user_id: int | None, now: datetime) -> dict[str, int | str]:
    """Open conversations per list (shown as "1000+" past COUNT_CAP: a tab needs no exact 10,000) and the
    user's unread messages: each count one index range, bounded."""
    mine = Conversation.objects.filter(account_id=account_id, assigned_to_id=user_id)
    open_ = Conversation.objects.filter(account_id=account_id, state=State.OPEN)
    unread = mine.filter(state__in=(State.OPEN, State.WAITING)).aggregate(
        n=Coalesce(Sum(F("messages") - F("read_messages")), 0)
    )["n"]
    lists = {
        "mine": mine.filter(state=State.OPEN),
        "unassigned": open_.filter(assigned_to__isnull=True),
        "all": open_,
        "closing": conversations(account_id, user_id, view="closing", now=now),
    }
    counts: dict[str, int | str] = {name: _capped(rows) for name, rows in lists.items()}
    counts["unread"] = int(unread or 0)
    return counts


def _capped(rows: QuerySet[Conversation]) -> str:
    n = rows.order_by().values("id")[:COUNT_CAP].count()
    return f"{COUNT_CAP}+" if n >= COUNT_CAP else str(n)


def is_available(account_id: int, user_id: int) -> bool:
    return AgentStatus.objects.filter(account_id=account_id, user_id=user_id, available=True).exists()


@dataclass(frozen=True)
class ThreadItem:
    at: datetime
    side: str  # "fan", "sent" (everything sent: agents' replies, rules' replies), "note"
    kind: str
    text: str
    who: str = ""
    status: str = ""
    error: str = ""
    payload: dict[str, Any] | None = None


def thread(conversation: Conversation, limit: int = 50) -> list[ThreadItem]:
    """The fan's messages, everything sent to them and the internal notes, oldest first (the newest
    `limit` of each)."""
    from liucun.outbound.queries import fan_outbound

    fan_events = (
        Event.objects.filter(
            account_id=conversation.account_id, openid=conversation.openid, kind__in=MESSAGE_KINDS
        )
        .order_by("-wechat_time", "-id")
        .values("wechat_time", "kind", "payload")[:limit]
    )
    items = [ThreadItem(e["wechat_time"], "fan", e["kind"], "", payload=e["payload"]) for e in fan_events]
    for sent in fan_outbound(conversation.account_id, conversation.openid, limit):
        items.append(
            ThreadItem(
                sent.at, "sent", sent.kind, sent.summary, sent.staff or sent.source, sent.status, sent.error
            )
        )
    notes = Note.objects.filter(conversation=conversation).select_related("author").order_by("-created_at")
    for note in notes[:limit]:
        author = note.author.get_username() if note.author is not None else ""
        items.append(ThreadItem(note.created_at, "note", "note", note.text, author))
    items.sort(key=lambda i: i.at)
    return items


def thread_fingerprint(items: list[ThreadItem]) -> str:
    """What the thread's poll compares: changes when an item arrives or a send's status moves."""
    digest = hashlib.sha256(repr([(i.at.isoformat(), i.side, i.status) for i in items]).encode()).hexdigest()
    return digest[:16]


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


@dataclass
class Figures:
    answered: int = 0
    first_response_p50: float | None = None  # seconds of service hours
    first_response_p90: float | None = None
    within_target: float | None = None  # share of first responses within the target (service hours)
    within_promise: float | None = None  # share of questions answered within the promise (wall clock)
    overdue: int = 0  # still unanswered past the promise
    resolved: int = 0
    resolution_p50: float | None = None  # seconds, wall clock
    resolution_p90: float | None = None


def _figures(
    first: list[Measure], resolutions: list[Measure], overdue: int, target: float, promise: float
) -> Figures:
    service = [m.service_seconds for m in first]
    within_promise = sum(1 for m in first if m.wall_seconds <= promise)
    asked = len(first) + overdue
    walls = [m.wall_seconds for m in resolutions]
    return Figures(
        answered=len(first),
        first_response_p50=percentile(service, 50),
        first_response_p90=percentile(service, 90),
        within_target=(sum(1 for s in service if s <= target) / len(service)) if service else None,
        within_promise=(within_promise / asked) if asked else None,
        overdue=overdue,
        resolved=len(resolutions),
        resolution_p50=percentile(walls, 50),
        resolution_p90=percentile(walls, 90),
    )


@dataclass
class Metrics:
    since: datetime
    until: datetime
    target_seconds: float
    promise_seconds: float
    account: Figures
    agents: list[tuple[str, Figures]]


def metrics(account_id: int, since: datetime, until: datetime) -> Metrics:
    """First responses and resolutions that ended in [since, until), per account and per agent, plus
    the questions still unanswered past the promise at `until` (counted against the promise)."""
    chosen = settings_for(account_id)
    target = chosen.first_response_minutes * 60.0
    promise = chosen.promise_hours * 3600.0
    measures = list(
        Measure.objects.filter(account_id=account_id, ended_at__gte=since, ended_at__lt=until).select_related(
            "agent"
        )
    )
    overdue_rows = list(
        Conversation.objects.filter(
            account_id=account_id, state=State.OPEN, waiting_since__lt=until - timedelta(seconds=promise)
        )
        .values_list("assigned_to__username")
        .annotate(n=Count("id"))
    )
    overdue = {name or "": n for name, n in overdue_rows}
    by_agent: dict[str, tuple[list[Measure], list[Measure]]] = {}
    for m in measures:
        name = m.agent.get_username() if m.agent is not None else ""
        first, done = by_agent.setdefault(name, ([], []))
        (first if m.kind == Measure.Kind.FIRST_RESPONSE else done).append(m)
    for name in overdue:
        by_agent.setdefault(name, ([], []))
    first_all = [m for m in measures if m.kind == Measure.Kind.FIRST_RESPONSE]
    done_all = [m for m in measures if m.kind == Measure.Kind.RESOLUTION]
    agents = [
        (name, _figures(first, done, overdue.get(name, 0), target, promise))
        for name, (first, done) in sorted(by_agent.items())
        if name
    ]
    return Metrics(
        since,
        until,
        target,
        promise,
        _figures(first_all, done_all, sum(overdue.values()), target, promise),
        agents,
    )


def staff_choices(account_id: int) -> list[AbstractBaseUser]:
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(memberships__account_id=account_id, is_active=True)
        .order_by("username")
    )
