"""The menu-clicks rows of every channel at once (MenuClickDayAll, MenuClickGapAll, MenuClickLastAll): what
version 2 kept before channels, read whenever no channel is chosen (menus/clicks.py says why tables of
their own).

A fan is in one channel and carries its whole share there, so each all-channel row is the sum over channels
of the per-channel rows of its key, unique fans included: a fan's gap and last rows are counted once, in its
channel. The consumer's changes to them are therefore its per-channel changes with the channel summed out:
a move takes a fan's share from one channel and adds the same to another, which sums to nothing (the rows
stay as they are), and a new tap adds what it adds to its fan's channel. The set-based paths group the
per-channel rows the same way (clicks_bulk.py). The property tests check the result against a brute force
over every tap, not against this sum.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from liucun.rawsql import Sql

DayKey = tuple[int, date, str]  # account id, day, button
GapKey = tuple[int, str, str, date, date]  # account id, scope, button, day, previous day
LastKey = tuple[int, str, str, date]  # account id, scope, button, day

_ADD_DAY = (
    "INSERT INTO menus_menuclickdayall (account_id, day, button, clicks, fans) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (account_id, day, button) DO UPDATE SET clicks = menus_menuclickdayall.clicks + "
    "excluded.clicks, fans = menus_menuclickdayall.fans + excluded.fans"
)
_ADD_GAP = (
    "INSERT INTO menus_menuclickgapall (account_id, scope, button, day, previous, fans) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (account_id, day, previous, scope, button) "
    "DO UPDATE SET fans = menus_menuclickgapall.fans + excluded.fans"
)
_DROP_GAP = (
    "DELETE FROM menus_menuclickgapall WHERE account_id = %s AND scope = %s AND button = %s AND day = %s "
    "AND previous = %s AND fans = 0"
)
_ADD_LAST = (
    "INSERT INTO menus_menuclicklastall (account_id, scope, button, day, fans) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (account_id, day, scope, button) DO UPDATE SET fans = menus_menuclicklastall.fans + "
    "excluded.fans"
)
_DROP_LAST = (
    "DELETE FROM menus_menuclicklastall WHERE account_id = %s AND scope = %s AND button = %s AND day = %s "
    "AND fans = 0"
)

# The all-channel rows from per-channel ones: {day}, {gap}, {last} name tables shaped like MenuClickDay
# (or the staged taps: COUNT(*) for fans, one row per fan), MenuClickGap, MenuClickLast.
DAY_COLUMNS = "account_id, day, button, clicks, fans"
GAP_COLUMNS = "account_id, scope, button, day, previous, fans"
LAST_COLUMNS = "account_id, scope, button, day, fans"
SUM_DAYS = (
    "SELECT account_id, day, button, SUM(clicks) AS clicks, {fans} AS fans FROM {table} WHERE {where} "
    "GROUP BY account_id, day, button"
)
SUM_GAPS = (
    "SELECT account_id, scope, button, day, previous, SUM(fans) AS fans FROM {table} WHERE {where} "
    "GROUP BY account_id, scope, button, day, previous"
)
SUM_LASTS = (
    "SELECT account_id, scope, button, day, SUM(fans) AS fans FROM {table} WHERE {where} "
    "GROUP BY account_id, scope, button, day"
)


@dataclass
class Changes:
    """A batch's changes to the all-channel rows."""

    clicks: Counter[DayKey] = field(default_factory=Counter)
    fan_days: Counter[DayKey] = field(default_factory=Counter)
    gaps: Counter[GapKey] = field(default_factory=Counter)
    lasts: Counter[LastKey] = field(default_factory=Counter)


def summed(
    clicks: Counter[tuple[int, date, str, str]],
    fan_days: Counter[tuple[int, date, str, str]],
    gaps: Counter[tuple[int, str, str, str, date, date]],
    lasts: Counter[tuple[int, str, str, str, date]],
) -> Changes:
    """The per-channel changes of a batch (clicks.py's keys, channel fourth) with the channel summed out."""
    changes = Changes()
    for (account_id, day, button, _channel), n in clicks.items():
        changes.clicks[account_id, day, button] += n
    for (account_id, day, button, _channel), n in fan_days.items():
        changes.fan_days[account_id, day, button] += n
    for (account_id, scope, button, _channel, day, previous), n in gaps.items():
        changes.gaps[account_id, scope, button, day, previous] += n
    for (account_id, scope, button, _channel, day), n in lasts.items():
        changes.lasts[account_id, scope, button, day] += n
    return changes


def apply(changes: Changes, sql: Sql, cursor: Any, d: Any, chunk: int) -> None:
    """Add the changes (keys whose channels cancel out are no change). Day rows never go down: summed over
    channels a batch only adds taps, so none is left at zero; a gap or last row can (a backdated tap moves a
    fan's share to other days), and a rebuild has none such."""
    day_keys = sorted(set(changes.clicks) | set(changes.fan_days))
    days = [
        [a, d(day), b, changes.clicks[a, day, b], changes.fan_days[a, day, b]]
        for a, day, b in day_keys
        if changes.clicks[a, day, b] or changes.fan_days[a, day, b]
    ]
    gaps = [[a, s, b, d(day), d(p), n] for (a, s, b, day, p), n in sorted(changes.gaps.items()) if n]
    lasts = [[a, s, b, d(day), n] for (a, s, b, day), n in sorted(changes.lasts.items()) if n]
    for start in range(0, max(len(days), len(gaps), len(lasts)), chunk):
        sql.executemany(cursor, _ADD_DAY, days[start : start + chunk])
        sql.executemany(cursor, _ADD_GAP, gaps[start : start + chunk])
        sql.executemany(cursor, _ADD_LAST, lasts[start : start + chunk])
        sql.executemany(cursor, _DROP_GAP, [r[:5] for r in gaps[start : start + chunk] if r[5] < 0])
        sql.executemany(cursor, _DROP_LAST, [r[:4] for r in lasts[start : start + chunk] if r[4] < 0])
