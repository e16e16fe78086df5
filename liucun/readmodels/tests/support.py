"""Helpers of the read-model tests: events written as the stores write them, and the table as tuples."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from django.db import connection

from liucun.accounts.models import OfficialAccount
from liucun.events.kinds import FOLLOW
from liucun.events.models import Event, EventSource
from liucun.readmodels.models import DailyFollows

_serial = itertools.count(1)


def add_event(
    account: OfficialAccount, openid: str, kind: str, at: datetime, channel: str | None = None
) -> Event:
    payload: dict[str, str] = {"FromUserName": openid, "MsgType": "event"}
    if kind == FOLLOW:
        payload["EventKey"] = f"qrscene_{channel}" if channel else ""
    source = EventSource.SYNC if kind.startswith("sync.") else EventSource.CALLBACK
    return Event.objects.create(
        account=account,
        openid=openid,
        kind=kind,
        dedupe_key=f"t:{next(_serial)}",
        wechat_time=at,
        received_at=at,
        source=source,
        payload=payload,
    )


def table(account: OfficialAccount | None = None) -> list[tuple[int, date, str, int, int, int, int]]:
    rows = DailyFollows.objects.all()
    if account is not None:
        rows = rows.filter(account=account)
    return sorted(
        rows.values_list(
            "account_id", "day", "channel", "follows", "refollows", "unfollows", "reconciled_unfollows"
        )
    )


def wipe_events() -> None:
    # The store refuses deletes through the ORM; property tests start each example from an empty store.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_event")
    ids_follow_on()


def ids_follow_on() -> None:
    """Make the next event id follow the highest stored one, as in a store that never lost an id.

    PostgreSQL's sequences ignore rollbacks, so after other tests the first id of a test is far above 1,
    and the ids below it look like a gap that a consumer has to wait out (test_gaps.py tests that wait).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('events_event', 'id'), "
            "COALESCE((SELECT MAX(id) FROM events_event), 0) + 1, false)"
        )
