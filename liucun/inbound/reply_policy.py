"""Which answer a fan gets: the account's reply rules (liucun.autoreply), decided on the hot path.

Called by inbound/actions._store_one inside the batch's transaction, on the batch's own cursor: the
compiled matcher comes from the process cache (a version check at most once a second per account), the
fan row is read only when a candidate rule has conditions or placeholders, and service hours are read
(cached per process) only when the account has an out-of-hours rule.

`decided_early` is the same decision taken before the batch's transaction, for the deliveries whose
answer needs nothing from the database (no condition, no placeholder, a matcher checked within the
last second): the whole batch's matching then runs in one tight loop, where the compiled rules stay in
the CPU's caches, instead of between the SQL statements of each delivery, which evicted them and made
the same matching cost several times as much (docs/performance.md, "Reply rules").
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import DatabaseError

from liucun.autoreply.cache import matchers
from liucun.autoreply.decision import NOTHING, Decision, decide
from liucun.autoreply.fanfacts import read_channel_label, read_fan, read_version
from liucun.autoreply.matcher import probe_of
from liucun.inbound.accounts_cache import CallbackAccount
from liucun.rawsql import Sql
from liucun.servicehours.hours import is_open
from liucun.wechat.messages import InboundMessage

log = logging.getLogger(__name__)


def passive_reply_for(
    account: CallbackAccount, message: InboundMessage, *, cursor: Any, sql: Sql, now: datetime
) -> Decision:
    try:
        matcher = matchers.get(account.id, lambda account_id: read_version(cursor, sql, account_id))
        return decide(
            matcher,
            probe_of(message),
            now=now,
            load_fan=lambda with_tags: read_fan(cursor, sql, account.id, message.from_user, with_tags),
            is_open=lambda: is_open(account.id, now),
            welcome_text=account.welcome_text,
            label_of=lambda scene: read_channel_label(cursor, sql, account.id, scene),
        )
    except DatabaseError:
        raise  # the batch's transaction is broken: the group commit retries the deliveries alone
    except Exception:
        # A fault in the rules must not cost the fan's message its place in the event store (WeChat
        # would retry it into the same fault): store it unanswered, and say so.
        log.exception(
            "reply rules failed for appid=%s kind=%s; answering nothing", account.appid, message.kind
        )
        return NOTHING


class _NeedsTheDatabase(Exception):
    """The decision reads the fan row or a channel's name: it is taken inside the transaction."""


def _needs_the_database(*_args: object) -> Any:
    raise _NeedsTheDatabase


def decided_early(account: CallbackAccount, message: InboundMessage, *, now: datetime) -> Decision | None:
    """The decision `passive_reply_for` would take, when it needs neither the fan row, a channel's name
    nor the rules' version check (service hours come from their own per-process cache); else None."""
    matcher = matchers.fresh(account.id)
    if matcher is None:
        return None  # the version check is a query: the transaction makes it
    try:
        return decide(
            matcher,
            probe_of(message),
            now=now,
            load_fan=_needs_the_database,
            is_open=lambda: is_open(account.id, now),
            welcome_text=account.welcome_text,
            label_of=_needs_the_database,
        )
    except Exception:
        # _NeedsTheDatabase, or a fault: decided again in the transaction, which logs a fault once.
        return None
