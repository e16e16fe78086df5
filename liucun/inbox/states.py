"""How a fan's message moves a conversation: pure rules shared by the consumer and its tests.

Only a message newer than everything the conversation already knows changes its state: a message older
than the cycle's opening or than the last reply (a late delivery, a replay after a rebuild) is counted
and nothing else, so folding the same events again leaves the same row.
"""

from __future__ import annotations

from datetime import datetime

from liucun.inbox.models import Conversation, OpenedBy, State


def fan_spoke(conversation: Conversation, at: datetime, *, message: bool, handoff: bool) -> None:
    if message:
        conversation.messages += 1
        if conversation.last_fan_message_at is None or at > conversation.last_fan_message_at:
            conversation.last_fan_message_at = at
    if handoff and (conversation.handoff_at is None or at > conversation.handoff_at):
        conversation.handoff_at = at
    if at < conversation.opened_at:
        return
    if conversation.state == State.RESOLVED:
        if conversation.resolved_at is not None and at <= conversation.resolved_at:
            return
        # A resolved conversation reopens: a new cycle, measured from this message.
        conversation.state = State.OPEN
        conversation.opened_at = at
        conversation.opened_by = OpenedBy.HANDOFF if handoff else OpenedBy.MESSAGE
        conversation.first_response_at = None
        conversation.waiting_since = at
        return
    if conversation.last_reply_at is not None and at <= conversation.last_reply_at:
        return
    conversation.state = State.OPEN
    if conversation.waiting_since is None or at < conversation.waiting_since:
        conversation.waiting_since = at
