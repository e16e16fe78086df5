"""Which passive reply a fan gets. Today: the account's welcome text on follow; the rule engine (F4)
replaces this module and keeps its signature."""

from __future__ import annotations

from liucun.events.kinds import FOLLOW
from liucun.inbound.accounts_cache import CallbackAccount
from liucun.wechat.messages import InboundMessage
from liucun.wechat.replies import TextReply


def passive_reply_for(account: CallbackAccount, message: InboundMessage) -> TextReply | None:
    if message.kind == FOLLOW and account.welcome_text.strip():
        return TextReply(account.welcome_text)
    return None
