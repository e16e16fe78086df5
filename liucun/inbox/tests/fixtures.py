"""Inbox rows for tests: fans' messages as the callback stores them, the consumer run, and populate()."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan
from liucun.inbox.consumer import ConversationsConsumer
from liucun.inbox.models import CannedReply, Conversation, Measure, Note, OpenedBy, State
from liucun.readmodels import runner

_serial = itertools.count(1)


def fan_message(
    account: OfficialAccount,
    openid: str,
    at: datetime,
    text: str = "你好",
    *,
    handoff: bool = False,
    kind: str = "text",
    source: str = EventSource.CALLBACK,
) -> Event:
    n = next(_serial)
    return Event.objects.create(
        account=account,
        openid=openid,
        kind=kind,
        dedupe_key=f"inbox-test:{n}",
        wechat_time=at,
        received_at=at,
        source=source,
        payload={"FromUserName": openid, "MsgType": kind, "Content": text, "MsgId": str(n)},
        handoff=handoff,
    )


def fold() -> runner.RunResult:
    """Run the conversations read model until it has caught up."""
    return runner.run(ConversationsConsumer(), grace=timedelta(0))


def populate(account: OfficialAccount, fans: Sequence[Fan]) -> dict[str, int]:
    """Inbox rows of every kind for the given fans: a conversation each (open, waiting, resolved in
    turn, half of them assigned), a note each, canned replies and measures; so a list or thread page
    that queries per row shows it. The first fan's conversation is open and assigned."""
    admin: AbstractBaseUser | None = None
    member = account.memberships.select_related("user").first()
    if member is not None:
        admin = member.user
    now = datetime.now(UTC)
    states = (State.OPEN, State.WAITING, State.RESOLVED)
    made = []
    for i, fan in enumerate(fans):
        state = states[i % 3]
        at = now - timedelta(hours=i + 1)
        made.append(
            Conversation(
                account=account,
                openid=fan.openid,
                fan=fan,
                state=state,
                opened_by=OpenedBy.MESSAGE,
                opened_at=at,
                waiting_since=at if state == State.OPEN else None,
                last_fan_message_at=at,
                messages=2,
                read_messages=1,
                replies=0 if state == State.OPEN else 1,
                last_reply_at=None if state == State.OPEN else at + timedelta(minutes=5),
                resolved_at=at + timedelta(minutes=30) if state == State.RESOLVED else None,
                assigned_to=admin if i % 2 == 0 else None,
                assigned_at=now if i % 2 == 0 else None,
            )
        )
    Conversation.objects.bulk_create(made)
    conversations = list(Conversation.objects.filter(account=account, openid__in=[f.openid for f in fans]))
    Note.objects.bulk_create(
        [Note(conversation=c, author=admin, text=f"备注 {c.openid}") for c in conversations]
    )
    CannedReply.objects.bulk_create(
        [
            CannedReply(
                account=account, shortcut=f"c{i}", title=f"回复{i}", text=f"您好，这是第{i}条快捷回复。"
            )
            for i in range(max(len(fans) // 3, 1))
        ]
    )
    Measure.objects.bulk_create(
        [
            Measure(
                account=account,
                conversation=c,
                kind=Measure.Kind.FIRST_RESPONSE,
                agent=admin,
                started_at=now - timedelta(hours=2),
                ended_at=now - timedelta(hours=1),
                wall_seconds=3600.0,
                service_seconds=3600.0,
            )
            for c in conversations
        ]
    )
    return {"conversations": len(conversations)}
