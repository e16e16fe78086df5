"""Named writes of the inbox, each in one transaction: open, assign/transfer, reply, resolve, notes,
canned replies, availability and settings. Replies go through liucun.outbound (the one outbound log)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan
from liucun.inbox.assignment import ACTIVE, assign_waiting
from liucun.inbox.models import (
    AgentStatus,
    CannedReply,
    Conversation,
    InboxSettings,
    Measure,
    Note,
    OpenedBy,
    State,
)
from liucun.inbox.refusals import AnsweredMeanwhile, InboxRefused, NotAllowed
from liucun.sqlite_writelock import serialized_writes
from liucun.staff.audit import record
from liucun.staff.models import ROLE_RANK, Membership, Role
from liucun.staff.permissions import role_on

NOTE_MAX_CHARS = 2000
CANNED_TITLE_MAX = 80
CANNED_TEXT_MAX_BYTES = 2048  # a customer-service text message
SHORTCUT = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,32}$")


def _now() -> datetime:
    return datetime.now(UTC)


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first()
    return user.get_username() if user is not None else str(user_id)


def open_conversation(actor: AbstractBaseUser, account: OfficialAccount, openid: str) -> Conversation:
    """An agent starts (or reopens) the conversation with a fan Liucun knows, assigned to themselves."""
    fan = Fan.objects.filter(account=account, openid=openid).first()
    if fan is None:
        raise InboxRefused(_("No fan with this OpenID on the account."))
    now = _now()
    with serialized_writes(), transaction.atomic():
        conversation = Conversation.objects.select_for_update().filter(account=account, openid=openid).first()
        if conversation is None:
            conversation = Conversation.objects.create(
                account=account,
                openid=openid,
                fan=fan,
                state=State.OPEN,
                opened_by=OpenedBy.AGENT,
                opened_at=now,
                assigned_to_id=actor.pk,
                assigned_at=now,
            )
        elif conversation.state == State.RESOLVED:
            conversation.state = State.OPEN
            conversation.opened_by = OpenedBy.AGENT
            conversation.opened_at = now
            conversation.first_response_at = None
            conversation.resolved_at = None
            conversation.waiting_since = None
            if conversation.assigned_to_id is None:
                conversation.assigned_to_id, conversation.assigned_at = actor.pk, now
            conversation.save()
        else:
            return conversation
        record(actor, "inbox.open", account=account, target=openid)
    return conversation


def assign(
    actor: AbstractBaseUser,
    conversation: Conversation,
    user_id: int | None,
    *,
    note: str = "",
    role: Role | None = None,
) -> Conversation:
    """Hand a conversation to a colleague (or back to the queue with None).

    Agents may take an unassigned conversation and pass on their own; operators and admins assign any.
    Passing an assigned conversation to someone else is a transfer (audited as one, with its note).
    """
    account = conversation.account
    # An API token may act with less than its user's role: the caller passes the role it acts with.
    role = role or role_on(actor, account)
    if role is None:
        raise NotAllowed(_("You have no role on this account."))
    if (
        user_id is not None
        and not Membership.objects.filter(account=account, user_id=user_id, user__is_active=True).exists()
    ):
        raise InboxRefused(_("Conversations can only be assigned to staff of this account."))
    note = note.strip()
    if len(note) > NOTE_MAX_CHARS:
        raise InboxRefused(_("note: at most %(max)s characters."), {"max": NOTE_MAX_CHARS})
    now = _now()
    with serialized_writes(), transaction.atomic():
        locked = _locked(conversation)
        current = locked.assigned_to_id
        if ROLE_RANK[role] < ROLE_RANK[Role.OPERATOR]:
            taking = current is None and user_id == actor.pk
            passing_own = current == actor.pk
            if not (taking or passing_own):
                raise NotAllowed(
                    _("Agents may take unassigned conversations and pass on their own; ask an operator.")
                )
        if current == user_id:
            return locked
        transfer = current is not None and user_id is not None
        locked.assigned_to_id = user_id
        locked.assigned_at = now if user_id is not None else None
        # The new assignee has not read it yet.
        locked.read_messages = 0 if user_id is not None and user_id != actor.pk else locked.read_messages
        locked.save(update_fields=["assigned_to", "assigned_at", "read_messages", "updated_at"])
        changes: dict[str, Any] = {"from": _name(current), "to": _name(user_id)}
        if note:
            Note.objects.create(conversation=locked, author_id=actor.pk, text=note)
            changes["note"] = True
        record(
            actor,
            "inbox.transfer" if transfer else "inbox.assign",
            account=account,
            target=locked.openid,
            changes=changes,
        )
    return locked


def set_available(account: OfficialAccount, user: AbstractBaseUser, available: bool) -> AgentStatus:
    if role_on(user, account) is None:
        raise NotAllowed(_("You have no role on this account."))
    with serialized_writes(), transaction.atomic():
        status, _created = AgentStatus.objects.select_for_update().get_or_create(
            account=account, user_id=user.pk
        )
        status.available = available
        status.save(update_fields=["available"])
        if available:
            assign_waiting(account.pk, _now())
    return status


def mark_read(user: AbstractBaseUser, conversation: Conversation) -> None:
    """The assignee opened the conversation: nothing unread for them. Others reading it change nothing."""
    if conversation.assigned_to_id != user.pk or conversation.messages == conversation.read_messages:
        return
    with serialized_writes(), transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk, assigned_to_id=user.pk).update(
            read_messages=conversation.messages
        )


def expand_shortcut(account_id: int, text: str) -> str:
    """A composer holding just "/shortcut" sends that canned reply (the composer's script does the same
    as the agent types; this covers a browser without it)."""
    stripped = text.strip()
    if stripped.startswith("/") and " " not in stripped:
        canned = CannedReply.objects.filter(account_id=account_id, shortcut=stripped[1:]).first()
        if canned is not None:
            return canned.text
    return text


def reply(
    actor: AbstractBaseUser,
    conversation: Conversation,
    *,
    text: str = "",
    key: str,
    seen_replies: int | None = None,
    message: dict[str, Any] | None = None,
) -> Any:
    """Send a reply through the outbound log, once per composer key: a text (a "/shortcut" expands to its
    canned reply) or `message`, a customer-service body such as an image or a news article, which the
    outbound app checks against WeChat's limits.

    The same key again (a double click, a retried request) returns the first send. A composer shown
    before someone else's reply (seen_replies behind) is refused: two agents answering the same question
    at once would send the fan two answers. The first reply of a cycle is its first response.
    """
    from liucun.outbound.actions import queue_message
    from liucun.outbound.models import OutboundMessage

    if message is None or message.get("msgtype") == "text":
        if message is not None:
            text = str((message.get("text") or {}).get("content", ""))
        text = expand_shortcut(conversation.account_id, text).strip()
        if not text:
            raise InboxRefused(_("text: write something to send."))
        message = {"msgtype": "text", "text": {"content": text}}
    outbound_key = f"inbox:{key.strip()}" if key.strip() else ""
    now = _now()
    with serialized_writes(), transaction.atomic():
        locked = _locked(conversation)
        earlier = OutboundMessage.objects.filter(
            account_id=locked.account_id, idempotency_key=outbound_key
        ).first()
        if earlier is not None:
            return earlier
        if seen_replies is not None and locked.replies != seen_replies:
            raise AnsweredMeanwhile(
                _("A colleague answered this fan while you were writing; read their reply, then send yours.")
            )
        sent = queue_message(
            account_id=locked.account_id,
            openid=locked.openid,
            content=message,
            key=outbound_key,
            source="agent",
            staff_id=actor.pk,
            conversation_id=locked.pk,
        )
        _replied(locked, actor, now)
    return sent


def _replied(conversation: Conversation, actor: AbstractBaseUser, now: datetime) -> None:
    if conversation.first_response_at is None and conversation.waiting_since is not None:
        conversation.first_response_at = now
        _measure(conversation, Measure.Kind.FIRST_RESPONSE, actor.pk, conversation.waiting_since, now)
    elif conversation.first_response_at is None and conversation.opened_by == OpenedBy.AGENT:
        conversation.first_response_at = now
    conversation.replies += 1
    conversation.last_reply_at = now
    conversation.waiting_since = None
    conversation.state = State.WAITING
    if conversation.assigned_to_id is None:
        conversation.assigned_to_id, conversation.assigned_at = actor.pk, now
    if conversation.assigned_to_id == actor.pk:
        conversation.read_messages = conversation.messages
    conversation.save()


def _measure(
    conversation: Conversation, kind: str, agent_id: int | None, start: datetime, end: datetime
) -> None:
    from liucun.servicehours.hours import open_seconds_between

    Measure.objects.create(
        account_id=conversation.account_id,
        conversation=conversation,
        kind=kind,
        agent_id=agent_id,
        started_at=start,
        ended_at=end,
        wall_seconds=max((end - start).total_seconds(), 0.0),
        service_seconds=max(open_seconds_between(conversation.account_id, start, end), 0.0),
    )


def resolve(actor: AbstractBaseUser, conversation: Conversation) -> Conversation:
    now = _now()
    with serialized_writes(), transaction.atomic():
        locked = _locked(conversation)
        if locked.state == State.RESOLVED:
            return locked
        locked.state = State.RESOLVED
        locked.resolved_at = now
        locked.waiting_since = None
        locked.read_messages = locked.messages
        locked.save()
        _measure(locked, Measure.Kind.RESOLUTION, locked.assigned_to_id or actor.pk, locked.opened_at, now)
        record(actor, "inbox.resolve", account=locked.account, target=locked.openid)
        # The assignee has room for the next one.
        assign_waiting(locked.account_id, now)
    return locked


def add_note(actor: AbstractBaseUser, conversation: Conversation, text: str) -> Note:
    text = text.strip()
    if not text:
        raise InboxRefused(_("note: write something."))
    if len(text) > NOTE_MAX_CHARS:
        raise InboxRefused(_("note: at most %(max)s characters."), {"max": NOTE_MAX_CHARS})
    with transaction.atomic():
        note = Note.objects.create(conversation=conversation, author_id=actor.pk, text=text)
        record(actor, "inbox.note", account=conversation.account, target=conversation.openid)
    return note


def _check_canned(shortcut: str, title: str, text: str) -> None:
    if not SHORTCUT.match(shortcut):
        raise InboxRefused(_("shortcut: 1 to 32 letters, digits, _ or - (no spaces, no slash)."))
    if not title.strip() or len(title) > CANNED_TITLE_MAX:
        raise InboxRefused(_("title: 1 to %(max)s characters."), {"max": CANNED_TITLE_MAX})
    if not text.strip():
        raise InboxRefused(_("text: write the reply."))
    if len(text.encode()) > CANNED_TEXT_MAX_BYTES:
        raise InboxRefused(
            _("text: at most %(max)s bytes (WeChat's limit for a text message)."),
            {"max": CANNED_TEXT_MAX_BYTES},
        )


def save_canned(
    actor: AbstractBaseUser | str,
    account: OfficialAccount,
    *,
    shortcut: str,
    title: str,
    text: str,
    canned_id: int | None = None,
) -> CannedReply:
    shortcut = shortcut.strip().lstrip("/")
    title, text = title.strip(), text.strip()
    _check_canned(shortcut, title, text)
    try:
        with transaction.atomic():
            if canned_id is None:
                canned = CannedReply.objects.create(
                    account=account, shortcut=shortcut, title=title, text=text
                )
            else:
                existing = (
                    CannedReply.objects.select_for_update().filter(account=account, pk=canned_id).first()
                )
                if existing is None:
                    raise InboxRefused(_("No such canned reply."), status=404, code="not_found")
                canned = existing
                canned.shortcut, canned.title, canned.text = shortcut, title, text
                canned.save()
            record(actor, "inbox.canned_save", account=account, target=f"/{shortcut}")
    except IntegrityError:
        raise InboxRefused(
            _("shortcut: /%(shortcut)s is already used by another canned reply."), {"shortcut": shortcut}
        ) from None
    return canned


def delete_canned(actor: AbstractBaseUser, account: OfficialAccount, canned_id: int) -> None:
    with transaction.atomic():
        canned = CannedReply.objects.filter(account=account, pk=canned_id).first()
        if canned is None:
            raise InboxRefused(_("No such canned reply."), status=404, code="not_found")
        canned.delete()
        record(actor, "inbox.canned_delete", account=account, target=f"/{canned.shortcut}")


SETTING_LIMITS = {
    "first_response_minutes": (1, 7 * 24 * 60),
    "promise_hours": (1, 24 * 30),
    "max_open_per_agent": (1, 1000),
}


def save_settings(actor: AbstractBaseUser, account: OfficialAccount, **values: Any) -> InboxSettings:
    for name, value in values.items():
        if name == "auto_assign":
            if not isinstance(value, bool):
                raise InboxRefused(_("auto_assign: true or false."))
            continue
        if name not in SETTING_LIMITS:
            raise InboxRefused(_("%(field)s: not a setting of the inbox."), {"field": name[:40]})
        low, high = SETTING_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InboxRefused(
                _("%(field)s: a whole number from %(low)s to %(high)s."),
                {"field": name, "low": low, "high": high},
            )
    with serialized_writes(), transaction.atomic():
        chosen, _created = InboxSettings.objects.select_for_update().get_or_create(account=account)
        before = {name: getattr(chosen, name) for name in values}
        for name, value in values.items():
            setattr(chosen, name, value)
        chosen.save()
        changed = {n: [before[n], v] for n, v in values.items() if before[n] != v}
        record(actor, "inbox.settings", account=account, changes=changed)
        assign_waiting(account.pk, _now())
    return chosen


def active_count(account_id: int, user_id: int) -> int:
    return Conversation.objects.filter(
        account_id=account_id, assigned_to_id=user_id, state__in=ACTIVE
    ).count()
