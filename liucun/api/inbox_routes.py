"""The customer-service inbox: conversations (lists, one, assign, transfer, resolve, notes, replies), canned
replies, availability, the response commitment's settings and metrics.

Validation and orchestration only; the work is in liucun.inbox. Agents work conversations; operators
manage canned replies and read metrics; admins set the commitment. Bodies are optional in the signatures
so the role check comes before the body's (see crm_routes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict

from liucun.accounts.models import OfficialAccount
from liucun.api.scope import account_for, principal
from liucun.inbox import actions, queries
from liucun.inbox.assignment import settings_for
from liucun.inbox.models import CannedReply, Conversation, Note
from liucun.staff.models import Role

router = Router(tags=["inbox"])

NOT_FOUND = "no conversation with this fan (it opens with the fan's message, or start one in the console)"


class ConversationOut(Schema):
    id: int
    openid: str
    state: str = Field(description="open (the fan waits for us), waiting (on the fan), resolved")
    opened_by: str = Field(description="message, handoff (a rule handed the fan to a person) or agent")
    opened_at: datetime
    waiting_since: datetime | None = Field(description="the oldest unanswered fan message")
    last_fan_message_at: datetime | None
    window_closes_at: datetime | None = Field(description="when the 48-hour window of the last message ends")
    messages: int
    unread: int = Field(description="messages the assignee has not opened")
    replies: int
    assigned_to: str | None
    first_response_at: datetime | None
    last_reply_at: datetime | None
    resolved_at: datetime | None


class ConversationPage(Schema):
    page: int
    has_next: bool
    results: list[ConversationOut]


class ListQuery(Schema):
    view: Literal["mine", "unassigned", "all", "closing"] = Field(
        "all", description="closing: under 4 hours left of the 48-hour window"
    )
    state: Literal["open", "waiting", "resolved", "active"] = "open"
    page: int = Field(1, ge=1, le=100_000)


class AssignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(None, description="a colleague on this account; null: back to the queue")
    note: str = Field("", max_length=2000, description="an internal note for the colleague")


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=150)
    note: str = Field("", max_length=2000)


class NoteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)


class NoteOut(Schema):
    id: int
    author: str
    text: str
    created_at: datetime


class ReplyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(
        None, min_length=1, max_length=2048, description='a text, or "/shortcut" of a canned reply'
    )
    message: dict[str, Any] | None = Field(
        None,
        description="instead of text: a customer-service message body as WeChat's message/custom/send takes "
        'it without touser, e.g. {"msgtype": "image", "image": {"media_id": "..."}} or {"msgtype": "news", '
        '"news": {"articles": [{"title", "description", "url", "picurl"}]}}; '
        "checked against WeChat's limits",
    )
    key: str = Field(min_length=1, max_length=90, description="idempotency key: the same key sends once")
    seen_replies: int | None = Field(
        None,
        ge=0,
        description="the conversation's replies when you read it: refused (409) if someone answered since",
    )


class ReplyOut(Schema):
    id: int
    status: str
    idempotency_key: str


class CannedIn(Schema):
    model_config = ConfigDict(extra="forbid")

    shortcut: str = Field(min_length=1, max_length=33, examples=["hours"])
    title: str = Field(min_length=1, max_length=80, examples=["营业时间"])
    text: str = Field(min_length=1, max_length=2048, examples=["我们每天 9:00–21:00 在线。"])


class CannedOut(Schema):
    id: int
    shortcut: str
    title: str
    text: str


class AvailabilityIn(Schema):
    model_config = ConfigDict(extra="forbid")

    available: bool


class SettingsIo(Schema):
    model_config = ConfigDict(extra="forbid")

    first_response_minutes: int = Field(120, ge=1, le=7 * 24 * 60, description="target, in service hours")
    promise_hours: int = Field(48, ge=1, le=720, description="the promised maximum, on the clock")
    max_open_per_agent: int = Field(10, ge=1, le=1000)
    auto_assign: bool = True


class FiguresOut(Schema):
    answered: int
    first_response_p50: float | None
    first_response_p90: float | None
    within_target: float | None
    within_promise: float | None
    overdue: int
    resolved: int
    resolution_p50: float | None
    resolution_p90: float | None


class AgentFigures(FiguresOut):
    username: str


class MetricsOut(Schema):
    since: datetime
    until: datetime
    target_seconds: float
    promise_seconds: float
    account: FiguresOut
    agents: list[AgentFigures]


class MetricsQuery(Schema):
    days: int = Field(7, ge=1, le=366)


def _out(c: Conversation) -> dict[str, Any]:
    closes = c.last_fan_message_at + timedelta(hours=48) if c.last_fan_message_at else None
    return {
        "id": c.pk,
        "openid": c.openid,
        "state": c.state,
        "opened_by": c.opened_by,
        "opened_at": c.opened_at,
        "waiting_since": c.waiting_since,
        "last_fan_message_at": c.last_fan_message_at,
        "window_closes_at": closes,
        "messages": c.messages,
        "unread": c.unread,
        "replies": c.replies,
        "assigned_to": c.assigned_to.get_username() if c.assigned_to is not None else None,
        "first_response_at": c.first_response_at,
        "last_reply_at": c.last_reply_at,
        "resolved_at": c.resolved_at,
    }


def _conversation(account: OfficialAccount, openid: str) -> Conversation:
    found = Conversation.objects.filter(account=account, openid=openid).select_related(
        "assigned_to", "account"
    )
    conversation = found.first()
    if conversation is None:
        raise HttpError(404, NOT_FOUND)
    return conversation


def _user_id(account: OfficialAccount, username: str | None) -> int | None:
    if username is None:
        return None
    user = get_user_model().objects.filter(username=username, memberships__account=account).first()
    if user is None:
        raise HttpError(400, "username: no colleague of that name on this account")
    return int(user.pk)


def _body(payload: Any, example: str) -> Any:
    if payload is None:
        raise HttpError(400, f"send {example}")
    return payload


@router.get("/accounts/{appid}/conversations", response=ConversationPage, summary="Inbox conversations")
def list_conversations(request: HttpRequest, appid: str, q: Query[ListQuery]) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    user_id = principal(request).user.pk
    found = queries.list_page(
        account.pk, user_id, view=q.view, state=q.state, page=q.page, now=datetime.now(UTC)
    )
    return {"page": q.page, "has_next": found.has_next, "results": [_out(r.conversation) for r in found.rows]}


@router.get("/accounts/{appid}/conversations/{openid}", response=ConversationOut, summary="A conversation")
def get_conversation(request: HttpRequest, appid: str, openid: str) -> dict[str, Any]:
    return _out(_conversation(account_for(request, appid, Role.AGENT), openid))


@router.post(
    "/accounts/{appid}/conversations/{openid}/assign",
    response=ConversationOut,
    summary="Assign a conversation (or return it to the queue)",
    description="Agents may take an unassigned conversation and pass on their own; operators assign any.",
)
def assign_conversation(
    request: HttpRequest, appid: str, openid: str, payload: AssignIn | None = None
) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    body = _body(payload, '{"username": "...", "note": ""}')
    conversation = _conversation(account, openid)
    who = principal(request)
    actions.assign(
        who.user, conversation, _user_id(account, body.username), note=body.note, role=who.role(account)
    )
    return _out(_conversation(account, openid))


@router.post(
    "/accounts/{appid}/conversations/{openid}/transfer",
    response=ConversationOut,
    summary="Transfer an assigned conversation to a colleague, with a note",
)
def transfer_conversation(
    request: HttpRequest, appid: str, openid: str, payload: TransferIn | None = None
) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    body = _body(payload, '{"username": "...", "note": "..."}')
    conversation = _conversation(account, openid)
    if conversation.assigned_to_id is None:
        raise HttpError(409, "nobody has this conversation: assign it instead")
    who = principal(request)
    actions.assign(
        who.user, conversation, _user_id(account, body.username), note=body.note, role=who.role(account)
    )
    return _out(_conversation(account, openid))


@router.post(
    "/accounts/{appid}/conversations/{openid}/resolve",
    response=ConversationOut,
    summary="Resolve a conversation",
)
def resolve_conversation(request: HttpRequest, appid: str, openid: str) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    actions.resolve(principal(request).user, _conversation(account, openid))
    return _out(_conversation(account, openid))


@router.get(
    "/accounts/{appid}/conversations/{openid}/notes", response=list[NoteOut], summary="Internal notes"
)
def list_notes(request: HttpRequest, appid: str, openid: str) -> list[dict[str, Any]]:
    conversation = _conversation(account_for(request, appid, Role.AGENT), openid)
    notes = (
        Note.objects.filter(conversation=conversation).select_related("author").order_by("created_at", "id")
    )
    return [
        {
            "id": n.pk,
            "author": n.author.get_username() if n.author else "",
            "text": n.text,
            "created_at": n.created_at,
        }
        for n in notes
    ]


@router.post(
    "/accounts/{appid}/conversations/{openid}/notes",
    response={201: NoteOut},
    summary="Add an internal note (never sent to the fan)",
)
def add_note(request: HttpRequest, appid: str, openid: str, payload: NoteIn | None = None) -> Status[Any]:
    account = account_for(request, appid, Role.AGENT)
    body = _body(payload, '{"text": "..."}')
    user = principal(request).user
    note = actions.add_note(user, _conversation(account, openid), body.text)
    return Status(
        201, {"id": note.pk, "author": user.get_username(), "text": note.text, "created_at": note.created_at}
    )


@router.post(
    "/accounts/{appid}/conversations/{openid}/replies",
    response=ReplyOut,
    summary="Reply to the fan (a customer-service text, image or article link, once per key)",
    description="Refused with the reason (409) when the fan's 48-hour window does not allow it. "
    "The delivery is in the outbound log: GET /api/accounts/{appid}/fans/{openid}/messages.",
)
def reply(request: HttpRequest, appid: str, openid: str, payload: ReplyIn | None = None) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    body = _body(payload, '{"text": "...", "key": "..."}')
    if (body.text is None) == (body.message is None):
        raise HttpError(422, "give either text or message")
    message = actions.reply(
        principal(request).user,
        _conversation(account, openid),
        text=body.text or "",
        key=body.key,
        seen_replies=body.seen_replies,
        message=body.message,
    )
    return {"id": message.pk, "status": message.status, "idempotency_key": message.idempotency_key}


def _canned(c: CannedReply) -> dict[str, Any]:
    return {"id": c.pk, "shortcut": c.shortcut, "title": c.title, "text": c.text}


@router.get("/accounts/{appid}/canned-replies", response=list[CannedOut], summary="Canned replies")
def list_canned(request: HttpRequest, appid: str) -> list[dict[str, Any]]:
    account = account_for(request, appid, Role.AGENT)
    return [_canned(c) for c in CannedReply.objects.filter(account=account).order_by("shortcut")]


@router.post("/accounts/{appid}/canned-replies", response={201: CannedOut}, summary="Add a canned reply")
def create_canned(request: HttpRequest, appid: str, payload: CannedIn | None = None) -> Status[Any]:
    account = account_for(request, appid, Role.OPERATOR)
    body = _body(payload, '{"shortcut": "hours", "title": "...", "text": "..."}')
    saved = actions.save_canned(
        principal(request).user, account, shortcut=body.shortcut, title=body.title, text=body.text
    )
    return Status(201, _canned(saved))


@router.put(
    "/accounts/{appid}/canned-replies/{canned_id}", response=CannedOut, summary="Change a canned reply"
)
def update_canned(
    request: HttpRequest, appid: str, canned_id: int, payload: CannedIn | None = None
) -> dict[str, Any]:
    account = account_for(request, appid, Role.OPERATOR)
    body = _body(payload, '{"shortcut": "hours", "title": "...", "text": "..."}')
    saved = actions.save_canned(
        principal(request).user,
        account,
        shortcut=body.shortcut,
        title=body.title,
        text=body.text,
        canned_id=canned_id,
    )
    return _canned(saved)


@router.delete("/accounts/{appid}/canned-replies/{canned_id}", response={204: None}, summary="Delete one")
def delete_canned(request: HttpRequest, appid: str, canned_id: int) -> Status[None]:
    account = account_for(request, appid, Role.OPERATOR)
    actions.delete_canned(principal(request).user, account, canned_id)
    return Status(204, None)


@router.put(
    "/accounts/{appid}/inbox/availability",
    response=AvailabilityIn,
    summary="Take new conversations (round robin) or pause",
)
def set_availability(
    request: HttpRequest, appid: str, payload: AvailabilityIn | None = None
) -> dict[str, Any]:
    account = account_for(request, appid, Role.AGENT)
    body = _body(payload, '{"available": true}')
    status = actions.set_available(account, principal(request).user, body.available)
    return {"available": status.available}


def _settings(account: OfficialAccount) -> dict[str, Any]:
    chosen = settings_for(account.pk)
    return {name: getattr(chosen, name) for name in SettingsIo.model_fields}


@router.get("/accounts/{appid}/inbox/settings", response=SettingsIo, summary="The response commitment")
def get_settings(request: HttpRequest, appid: str) -> dict[str, Any]:
    return _settings(account_for(request, appid, Role.AGENT))


@router.put("/accounts/{appid}/inbox/settings", response=SettingsIo, summary="Set the response commitment")
def put_settings(request: HttpRequest, appid: str, payload: SettingsIo | None = None) -> dict[str, Any]:
    account = account_for(request, appid, Role.ADMIN)
    body = _body(payload, '{"first_response_minutes": 120, "promise_hours": 48, ...}')
    actions.save_settings(principal(request).user, account, **body.dict())
    return _settings(account)


@router.get(
    "/accounts/{appid}/inbox/metrics",
    response=MetricsOut,
    summary="Response metrics per account and per agent",
    description="First response: from the fan's first unanswered message to the first reply, in service "
    "hours (p50/p90 by nearest rank, seconds). within_promise: share answered within the promise on the "
    "clock, questions unanswered past it counting as missed. Resolution: opening to resolved, on the clock.",
)
def get_metrics(request: HttpRequest, appid: str, q: Query[MetricsQuery]) -> dict[str, Any]:
    account = account_for(request, appid, Role.OPERATOR)
    until = datetime.now(UTC)
    found = queries.metrics(account.pk, until - timedelta(days=q.days), until)
    return {
        "since": found.since,
        "until": found.until,
        "target_seconds": found.target_seconds,
        "promise_seconds": found.promise_seconds,
        "account": vars(found.account),
        "agents": [{"username": name, **vars(f)} for name, f in found.agents],
    }
