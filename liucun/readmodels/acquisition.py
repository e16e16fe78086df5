"""A fan's acquisition channel, as every per-channel read model reckons it: the QR scene of the fan's first
follow event by (WeChat time, id), "" when that follow had no QR scene or no follow event is stored.

Here, not in activity.definitions, so that read models activity itself builds on (menu clicks) can share
it without importing activity.
"""

from __future__ import annotations

from collections.abc import Iterable

from liucun.events.kinds import FOLLOW
from liucun.readmodels.consumer import EventRow
from liucun.readmodels.daily_follows import follow_channel
from liucun.readmodels.fanhistory import event_order
from liucun.wechat.messages import QR_SCENE_PREFIX


def first_follow(fan_events: Iterable[EventRow]) -> EventRow | None:
    """The fan's first follow event by (WeChat time, id): the one that names the acquisition channel."""
    return min((e for e in fan_events if e.kind == FOLLOW), key=event_order, default=None)


def acquisition_channel(follow: EventRow | None) -> str:
    return follow_channel(follow.fields.get("EventKey")) if follow is not None else ""


def follow_channel_sql(scene: str) -> tuple[str, list[str]]:
    """follow_channel in SQL, for the text expression `scene` (a follow's EventKey, NULL when absent), and
    its parameters: the same channel a set-based rebuild must give as the replay."""
    prefix = len(QR_SCENE_PREFIX)
    return (
        f"CASE WHEN substr(COALESCE({scene}, ''), 1, {prefix}) = %s THEN substr({scene}, {prefix + 1})"
        " ELSE '' END",
        [QR_SCENE_PREFIX],
    )
