"""How what Liucun learns about a fan changes it: pure rules, no database.

Two sources teach Liucun about fans, and both go through `apply_event`:

- callbacks (and imported history): what the fan did, at WeChat's time, as it happened;
- the follower sync, which sees a state, not an action. Its facts:
  - `FOLLOW_FOUND`: the fan is in WeChat's follower list. For a fan Liucun believes gone (or never saw
    follow) it is a follow at the time user/info gives as `subscribe_time` (the latest follow) or, when
    the sync has no profile of the fan, at the time the list page was read, with the QR scene user/info
    reports. It counts a follow (`follow_count`), moves `followed_at` and opens a follow period, exactly
    as the lost follow callback would have. For a fan Liucun already believes following it changes
    nothing: the list does not say whether they left and came back in between.
  - `UNFOLLOW_RECONCILED`: a fan Liucun believes following is missing from the list and their last
    follow is older than the sync: an unfollow at the time the sync found out (the real time was lost
    with the callback). It counts and closes the period as an unfollow callback would.
  Neither is an interaction: a sync learns no message or event time, so the windows stay as they are.
  A sync fact older than the fan's recorded follow state (a callback that arrived after the list was
  read) is stale and changes nothing.

Storage (`fans/state_store.py`) writes what these rules decide: one fan at a time for callbacks, a page
at a time for the sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The kinds live in the one vocabulary (events/kinds.py); re-exported because the rules speak in them.
from liucun.events.kinds import (
    FOLLOW,
    MESSAGE_KINDS,
    OTHER_FAN_ACTION_KINDS,
    UNFOLLOW,
    UNFOLLOW_RECONCILED,
    WINDOW_EVENT_KINDS,
)

# The sync's other fact (module docstring). Not stored as an event: a first sync finds a million of them.
FOLLOW_FOUND = "sync.follow_found"


def is_fan_action(kind: str) -> bool:
    """True when the event is something the fan did (as opposed to a job report or an automatic ping)."""
    return (
        kind in MESSAGE_KINDS
        or kind in WINDOW_EVENT_KINDS
        or kind in OTHER_FAN_ACTION_KINDS
        or kind == UNFOLLOW
        or kind.startswith("unknown.")
    )


@dataclass
class FanState:
    is_following: bool = False
    follow_state_at: datetime | None = None
    first_followed_at: datetime | None = None
    followed_at: datetime | None = None
    unfollowed_at: datetime | None = None
    follow_count: int = 0
    unfollow_count: int = 0
    channel: str = ""
    last_message_at: datetime | None = None
    last_event_at: datetime | None = None
    last_interaction_at: datetime | None = None


@dataclass(frozen=True)
class PeriodChange:
    """open: start a follow period; close: end the open one (or record an unfollow with no known start)."""

    action: str  # "open" | "close"
    at: datetime
    channel: str = ""


def _later(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current


def apply_event(state: FanState, kind: str, at: datetime, qr_scene: str | None = None) -> list[PeriodChange]:
    """Apply one fan event or sync fact to `state` in place; return the follow-period changes it implies."""
    in_order = state.follow_state_at is None or at >= state.follow_state_at
    if kind == FOLLOW_FOUND:
        return _follow(state, at, qr_scene) if in_order and not state.is_following else []
    if kind == UNFOLLOW_RECONCILED:
        return _unfollow(state, at) if in_order and state.is_following else []

    if kind in MESSAGE_KINDS:
        state.last_message_at = _later(state.last_message_at, at)
    if kind in WINDOW_EVENT_KINDS:
        state.last_event_at = _later(state.last_event_at, at)
    if kind != UNFOLLOW:
        state.last_interaction_at = _later(state.last_interaction_at, at)

    if kind == FOLLOW:
        if in_order:
            return _follow(state, at, qr_scene)
        # A late follow older than the state still happened: it counts, and may be the first we know of.
        state.follow_count += 1
        _first_follow(state, at, qr_scene)
    elif kind == UNFOLLOW:
        if in_order:
            return _unfollow(state, at)
        state.unfollow_count += 1
    elif kind == "event.scan" and not state.is_following and state.follow_state_at is None:
        # SCAN is only sent to fans who already follow: a fan we never saw follow is following.
        state.is_following = True
    return []


def _first_follow(state: FanState, at: datetime, qr_scene: str | None) -> None:
    if state.first_followed_at is None or at < state.first_followed_at:
        state.first_followed_at = at
        state.channel = qr_scene or ""


def _follow(state: FanState, at: datetime, qr_scene: str | None) -> list[PeriodChange]:
    state.follow_count += 1
    _first_follow(state, at, qr_scene)
    was_following = state.is_following
    state.is_following, state.follow_state_at, state.followed_at = True, at, at
    return [] if was_following else [PeriodChange("open", at, qr_scene or "")]


def _unfollow(state: FanState, at: datetime) -> list[PeriodChange]:
    state.unfollow_count += 1
    state.is_following, state.follow_state_at, state.unfollowed_at = False, at, at
    return [PeriodChange("close", at)]
