"""Helpers of the read-model tests: events written as the stores write them, and the table as tuples."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.db import connection

from liucun.accounts.models import OfficialAccount
from liucun.events.kinds import FOLLOW
from liucun.events.models import Event, EventSource
from liucun.readmodels import runner
from liucun.readmodels.consumer import Consumer
from liucun.readmodels.models import ConsumerState, DailyFollows

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


def runs_then_fill_then_more(
    new_consumer: Callable[[], Consumer],
    add: Callable[[tuple[Any, ...]], None],
    rows: Callable[[], Any],
    replayed_then_filled: Callable[[], tuple[Any, Any]],
    *,
    history: list[tuple[Any, ...]],
    runs: list[tuple[int, int, str]],
    cuts: list[int],
    later: list[tuple[Any, ...]],
    check: Callable[[Any], None] = lambda rows: None,
) -> None:
    """The shape every set-based property test shares: `history` added in slices, each followed by runs of
    the given batch sizes (some after a rebuild, replayed or set-based); the rows then equal a replay and a
    set-based fill; `later` events (older ones among them) carried on incrementally from the fill equal a
    replay again. `check` (the test's own, e.g. against a brute force over the events stored then) sees the
    rows after the runs and again after carrying on."""
    wipe_events()
    runner.rebuild(new_consumer())  # empty tables and a watermark at zero for this example
    ConsumerState.objects.all().delete()
    bounds = sorted({0, len(history), *(min(c, len(history)) for c in cuts)})
    slices = [history[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    for i, events in enumerate(slices):
        for event in events:
            add(event)
        batch, batches, rebuild_first = runs[i % len(runs)]
        if rebuild_first:
            runner.rebuild(new_consumer(), batch=batch, bulk=rebuild_first == "bulk")
        # A fresh consumer object each time: nothing may live in memory between runs.
        runner.run(new_consumer(), batch=batch, max_batches=batches or None)
    runner.run(new_consumer())
    incremental = rows()
    check(incremental)

    expected, filled = replayed_then_filled()
    assert filled == expected == incremental

    for event in later:
        add(event)
    runner.run(new_consumer(), batch=3)
    carried_on = rows()
    replayed = runner.rebuild(new_consumer(), bulk=False)
    assert replayed.bulk is None
    assert carried_on == rows()
    check(carried_on)
