"""How an inbound message or event changes a fan: pure rules, no database.

Kept apart from storage so the rules can be read and unit-tested on their own, and reused by bulk import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Messages a fan sends: each opens the 48-hour customer-service window.
MESSAGE_KINDS = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})
# Events that open WeChat's short window (3 customer-service messages within a minute).
WINDOW_EVENT_KINDS = frozenset(
    {"event.subscribe", "event.scan", "event.click", "event.scancode_push", "event.scancode_waitmsg"}
)
# Other things a fan does on purpose: they count as interaction but open no window.
OTHER_FAN_ACTION_KINDS = frozenset(
    {
        "event.view",
        "event.pic_sysphoto",
        "event.pic_photo_or_album",
        "event.pic_weixin",
        "event.location_select",
        "event.view_miniprogram",
        "event.subscribe_msg_popup_event",
        "event.subscribe_msg_change_event",
    }
)
FOLLOW = "event.subscribe"
UNFOLLOW = "event.unsubscribe"


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
    """Apply one fan event to `state` in place; return the follow-period changes it implies."""
    changes: list[PeriodChange] = []
    if kind in MESSAGE_KINDS:
        state.last_message_at = _later(state.last_message_at, at)
    if kind in WINDOW_EVENT_KINDS:
        state.last_event_at = _later(state.last_event_at, at)
    if kind != UNFOLLOW:
        state.last_interaction_at = _later(state.last_interaction_at, at)

    in_order = state.follow_state_at is None or at >= state.follow_state_at
    if kind == FOLLOW:
        state.follow_count += 1
        if state.first_followed_at is None or at < state.first_followed_at:
            state.first_followed_at = at
            state.channel = qr_scene or ""
        if in_order:
            was_following = state.is_following
            state.is_following = True
            state.follow_state_at = at
            state.followed_at = at
            if not was_following:
                changes.append(PeriodChange("open", at, qr_scene or ""))
    elif kind == UNFOLLOW:
        state.unfollow_count += 1
        if in_order:
            state.is_following = False
            state.follow_state_at = at
            state.unfollowed_at = at
            changes.append(PeriodChange("close", at))
    elif kind == "event.scan" and not state.is_following and state.follow_state_at is None:
        # SCAN is only sent to fans who already follow: a fan we never saw follow is following.
        state.is_following = True
    return changes
