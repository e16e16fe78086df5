"""What every per-fan read model shares (daily follows, following, stays, hourly flows, activity): the order
of a fan's events, which fans of a batch have an event older than one already handled, and reading those
fans' stored events back in a few queries, so a backdated event can be folded in as a difference."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from liucun.events.models import Event
from liucun.readmodels.consumer import EventRow, event_rows

FanKey = tuple[int, str]  # (account id, openid)
CHUNK = 500  # openids per IN (...): far below SQLite's variable limit


def event_order(event: EventRow) -> tuple[datetime, int]:
    """A fan's events in the order they happened: WeChat time, then id."""
    return event.wechat_time, event.id


def fans_out_of_order(events: Sequence[EventRow], latest: dict[FanKey, tuple[datetime, int]]) -> set[FanKey]:
    """Fans with an event in the batch older than one already handled (`latest`: each fan's latest handled
    event's order), or than an earlier event of the same batch: their history must be read back."""
    latest = dict(latest)
    fans = set()
    for event in events:
        key, order = (event.account_id, event.openid), event_order(event)
        if key in latest and order < latest[key]:
            fans.add(key)
        else:
            latest[key] = order
    return fans


def fan_histories(
    fans: Iterable[FanKey], kinds: Iterable[str], payload_fields: tuple[str, ...] = ()
) -> dict[FanKey, list[EventRow]]:
    """Every stored event of these kinds for these fans, read in a few queries for the whole batch."""
    histories: dict[FanKey, list[EventRow]] = {fan: [] for fan in fans}
    by_account: dict[int, list[str]] = {}
    for account_id, openid in sorted(histories):
        by_account.setdefault(account_id, []).append(openid)
    kinds = list(kinds)
    for account_id, openids in by_account.items():
        for start in range(0, len(openids), CHUNK):
            fan_events = Event.objects.filter(
                account_id=account_id, openid__in=openids[start : start + CHUNK], kind__in=kinds
            )
            # Unordered: with an ORDER BY, SQLite's planner may walk the account's events instead of the
            # fans' timeline index (event_fan_timeline).
            for row in event_rows(fan_events, payload_fields, order=()):
                histories[account_id, row.openid].append(row)
    return histories
