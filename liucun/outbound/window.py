"""The fan's customer-service window, as WeChat counts it (wxsim/api/custom.py holds the same rules).

After a message from the fan: up to 5 customer-service messages within 48 hours. After a menu click, a
follow or a scan: up to 3 within one minute. The newest action decides; each new action opens a new
window and resets the count. The count is this log's messages since the window opened that may have
reached the fan (sent, being sent, or unknown), so what Liucun shows is never more generous than WeChat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from liucun.fans.models import Fan
from liucun.outbound.models import OutboundMessage, Status

MESSAGE_WINDOW = timedelta(hours=48)
MESSAGE_WINDOW_COUNT = 5
EVENT_WINDOW = timedelta(minutes=1)
EVENT_WINDOW_COUNT = 3
# A send in these states may have reached the fan, so it uses up one of the window's messages.
COUNTED = (Status.SENT, Status.SENDING, Status.UNKNOWN)


@dataclass(frozen=True)
class Window:
    open: bool
    opened_at: datetime | None
    closes_at: datetime | None
    seconds_left: int
    messages_left: int | None  # None when unknown (no window, or nothing to count from)
    # When closed: why, and what else can reach the fan, in the reader's language; "" when open.
    reason: str | Promise


def alternatives() -> Promise:
    return _(
        "To reach the fan now, send a template message (service accounts) or a subscription notification "
        "the fan agreed to; both are outside the 48-hour rule."
    )


def window_for(account_id: int, openid: str, now: datetime | None = None) -> Window:
    now = now or datetime.now(UTC)
    fan = (
        Fan.objects.filter(account_id=account_id, openid=openid)
        .only("is_following", "follow_state_at", "last_message_at", "last_event_at")
        .first()
    )
    return window_of(fan, account_id, openid, now)


def window_of(
    fan: Fan | None, account_id: int, openid: str, now: datetime, *, exclude_id: int | None = None
) -> Window:
    """The same for a fan row already read; `exclude_id`: the send being made, not counted against it."""
    if fan is None:
        return _closed(_("Liucun has never heard from this fan, so WeChat allows no message to them."))
    if not fan.is_following and fan.follow_state_at is not None:
        # A fan Liucun never saw follow or leave (they followed before Liucun, and no sync ran) is
        # following if they write: WeChat takes messages only from followers. Only a recorded unfollow,
        # or a follow state a sync found, says they are gone.
        return _closed(_("The fan no longer follows the account; WeChat delivers nothing to them."))
    opened = _opened(fan, now)
    if opened is None:
        last = max((t for t in (fan.last_message_at, fan.last_event_at) if t is not None), default=None)
        if last is None:
            why = _("The fan has not sent a message or tapped the menu yet, so no window is open.")
        else:
            why = _(
                "The fan last wrote or tapped the menu more than 48 hours ago (a tap, follow or scan "
                "opens only one minute); WeChat accepts a customer-service message again after the fan's "
                "next message."
            )
        return _closed(why, last)
    opened_at, span, allowed = opened
    closes_at = opened_at + span
    sent = OutboundMessage.objects.filter(
        account_id=account_id, openid=openid, attempted_at__gte=opened_at, status__in=COUNTED
    )
    used = (sent.exclude(pk=exclude_id) if exclude_id is not None else sent).count()
    left = max(allowed - used, 0)
    seconds = max(int((closes_at - now).total_seconds()), 0)
    if left == 0:
        reason = format_lazy(
            _(
                "The fan has received {count} messages since their last action, all that WeChat allows; "
                "the fan's next message opens a new window."
            ),
            count=allowed,
        )
        return Window(False, opened_at, closes_at, seconds, 0, format_lazy("{} {}", reason, alternatives()))
    return Window(True, opened_at, closes_at, seconds, left, "")


def _opened(fan: Fan, now: datetime) -> tuple[datetime, timedelta, int] | None:
    windows = []
    if fan.last_message_at is not None and now - fan.last_message_at <= MESSAGE_WINDOW:
        windows.append((fan.last_message_at, MESSAGE_WINDOW, MESSAGE_WINDOW_COUNT))
    if fan.last_event_at is not None and now - fan.last_event_at <= EVENT_WINDOW:
        windows.append((fan.last_event_at, EVENT_WINDOW, EVENT_WINDOW_COUNT))
    return max(windows, key=lambda w: w[0]) if windows else None


def _closed(why: Promise, opened_at: datetime | None = None) -> Window:
    return Window(False, opened_at, None, 0, None, format_lazy("{} {}", why, alternatives()))
