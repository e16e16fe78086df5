"""Read-side questions about fans, shared by the API and the console (no writes here)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event
from liucun.fans.filters import FanFilter
from liucun.fans.models import Fan, FollowPeriod

MESSAGE_WINDOW = timedelta(hours=48)
EVENT_WINDOW = timedelta(minutes=1)
ORDERINGS = {
    "followed_at": "followed_at",
    "-followed_at": "-followed_at",
    "last_interaction_at": "last_interaction_at",
    "-last_interaction_at": "-last_interaction_at",
    "openid": "openid",
}
MAX_PAGE_SIZE = 200


def window_open(fan: Fan, now: datetime | None = None) -> bool:
    """WeChat's customer-service window: 48 h after a message, 1 minute after a click, follow or scan."""
    now = now or datetime.now(UTC)
    return bool(
        (fan.last_message_at and now - fan.last_message_at <= MESSAGE_WINDOW)
        or (fan.last_event_at and now - fan.last_event_at <= EVENT_WINDOW)
    )


def fans(account: OfficialAccount, filt: FanFilter, ordering: str = "-followed_at") -> QuerySet[Fan]:
    """Every fan matching the filter, sorted (exports and bulk actions walk all of them)."""
    return _ordered(_filtered(account, filt, tag_probe=False), ordering)


def fan_pages(account: OfficialAccount, filt: FanFilter, ordering: str = "-followed_at") -> PagedFans:
    """The same fans, to be read a page at a time (the fan list of the API and the console)."""
    # With a tag, a page walks the sort index and probes each fan's tags until it has enough (fast for
    # the first pages), while the count reads the tag's members once (one probe per fan would be slow).
    return PagedFans(
        _ordered(_filtered(account, filt, tag_probe=True), ordering),
        counted=_counted(account, filt),
    )


def _counted(account: OfficialAccount, filt: FanFilter) -> QuerySet[Any]:
    if filt.tag is not None and filt.following is not False and _nothing_but_tag(filt):
        from liucun.tags.models import FanTag

        # Only following fans carry tags (an unfollow clears them, as in WeChat: liucun/tags/unfollow.py),
        # so "fans with the tag" and "following fans with the tag" are the tag's memberships, counted from
        # its index without reading the fans table (which on PostgreSQL means every following fan's row).
        return FanTag.objects.filter(tag_id=filt.tag, tag__account=account)
    return _filtered(account, filt, tag_probe=False)


def _nothing_but_tag(filt: FanFilter) -> bool:
    others = (f.name for f in fields(filt) if f.name not in ("tag", "following"))
    return all(getattr(filt, name) in (None, "") for name in others)


def _ordered(qs: QuerySet[Fan], ordering: str) -> QuerySet[Fan]:
    if ordering not in ORDERINGS:
        raise ValueError(f"ordering must be one of {', '.join(ORDERINGS)}")
    # The tie-breaker runs the same way as the sort, so one index serves both and deep pages need no sort.
    field = ORDERINGS[ordering]
    return qs.order_by(field, "-id" if field.startswith("-") else "id")


def _filtered(  # noqa: PLR0912 - one branch per filter reads better than a table of lambdas
    account: OfficialAccount, filt: FanFilter, *, tag_probe: bool
) -> QuerySet[Fan]:
    qs = Fan.objects.filter(account=account)
    if filt.following is not None:
        # "IN (x)", not "= x": Django writes a boolean equality as the bare column on SQLite, which the
        # planner cannot match to an index column; IN with one value it can.
        qs = qs.filter(is_following__in=[filt.following])
    if filt.channel is not None:
        qs = qs.filter(channel=filt.channel)
    if filt.remark:
        qs = qs.filter(remark__icontains=filt.remark)
    if filt.stayed_days_min is not None:
        qs = qs.filter(_stayed(at_least=timedelta(days=filt.stayed_days_min)))
    if filt.stayed_days_max is not None:
        qs = qs.filter(_stayed(at_most=timedelta(days=filt.stayed_days_max)))
    if filt.followed_after is not None:
        qs = qs.filter(followed_at__gte=filt.followed_after)
    if filt.followed_before is not None:
        qs = qs.filter(followed_at__lt=filt.followed_before)
    if filt.interacted_after is not None:
        qs = qs.filter(last_interaction_at__gte=filt.interacted_after)
    if filt.openid_prefix:
        qs = qs.filter(openid__startswith=filt.openid_prefix)
        if connection.vendor == "sqlite":
            # SQLite's LIKE ignores case, so it cannot use the (account, openid) index; this range can (its
            # collation is binary, and openids are ASCII letters, digits, "-" and "_", all below DEL).
            qs = qs.filter(openid__gte=filt.openid_prefix, openid__lt=filt.openid_prefix + "\x7f")
    if filt.tag is not None:
        from liucun.tags.models import FanTag  # the tags app builds on fans, not the other way round

        members = FanTag.objects.filter(tag_id=filt.tag)
        if tag_probe:
            qs = qs.filter(Exists(members.filter(fan=OuterRef("pk"))))
        else:
            qs = qs.filter(pk__in=members.values("fan_id"))
    if filt.window_open is not None:
        now = datetime.now(UTC)
        open_q = Q(last_message_at__gte=now - MESSAGE_WINDOW) | Q(last_event_at__gte=now - EVENT_WINDOW)
        if filt.window_open:
            # Redundant but indexed: a message or event also moves last_interaction_at, so an open window
            # means an interaction within the last 48 hours; the index narrows to those first.
            qs = qs.filter(open_q, last_interaction_at__gte=now - MESSAGE_WINDOW)
        else:
            qs = qs.exclude(open_q)
    return qs


def _stayed(*, at_least: timedelta | None = None, at_most: timedelta | None = None) -> Q:
    """Fans whose current follow (followed_at to now) or, for those who left, last follow (followed_at to
    unfollowed_at) lasted at least / at most the given time."""
    now = datetime.now(UTC)
    if at_least is not None:
        staying = Q(is_following=True, followed_at__lte=now - at_least)
        left = Q(is_following=False, unfollowed_at__gte=F("followed_at") + at_least)
    else:
        assert at_most is not None
        staying = Q(is_following=True, followed_at__gte=now - at_most)
        left = Q(is_following=False, unfollowed_at__lte=F("followed_at") + at_most)
    # A fan who left needs both moments; one whose unfollow came before the follow we know of is no answer.
    left &= Q(followed_at__isnull=False, unfollowed_at__gte=F("followed_at"))
    return staying | left


def stayed(fan: Fan, now: datetime | None = None) -> timedelta | None:
    """How long the current follow has lasted, or the last one of a fan who left (None if unknown)."""
    if fan.followed_at is None:
        return None
    if fan.is_following:
        return max((now or datetime.now(UTC)) - fan.followed_at, timedelta(0))
    if fan.unfollowed_at is None or fan.unfollowed_at < fan.followed_at:
        return None
    return fan.unfollowed_at - fan.followed_at


def stayed_days(fan: Fan, now: datetime | None = None) -> str:
    """stayed() in days with one decimal, rounded down so the number shown never exceeds the stay that
    stayed_days_min/max compare; "" if unknown."""
    span = stayed(fan, now)
    if span is None:
        return ""
    tenths = int(span.total_seconds() // 8640)
    return f"{tenths // 10}.{tenths % 10}"


def tag_names(fan_ids: list[int], tags: dict[int, str]) -> dict[int, list[str]]:
    """The tag names of each of these fans, by name (one query; `tags` is the account's pk -> name)."""
    from liucun.tags.models import FanTag

    out: dict[int, list[str]] = {}
    if not fan_ids or not tags:
        return out  # nothing to ask: no fans on the page, or an account without tags
    for fan_id, tag_id in FanTag.objects.filter(fan_id__in=fan_ids).values_list("fan_id", "tag_id"):
        if tag_id in tags:
            out.setdefault(fan_id, []).append(tags[tag_id])
    return {fan_id: sorted(names) for fan_id, names in out.items()}


def timeline(
    account: OfficialAccount, openid: str, limit: int = 500
) -> tuple[Fan, list[FollowPeriod], list[Event]]:
    fan = Fan.objects.get(account=account, openid=openid)
    periods = list(FollowPeriod.objects.filter(fan=fan).order_by("followed_at", "id"))
    events = list(
        Event.objects.filter(account=account, openid=openid).order_by("-wechat_time", "-id")[:limit]
    )
    return fan, periods, events


def window_closes_at(fan: Fan) -> datetime | None:
    """When the customer-service window closes, if it is open now (the later of the two windows)."""
    ends = [
        t + span
        for t, span in ((fan.last_message_at, MESSAGE_WINDOW), (fan.last_event_at, EVENT_WINDOW))
        if t is not None
    ]
    end = max(ends, default=None)
    return end if end is not None and end > datetime.now(UTC) else None


class PagedFans:
    """A fan list to slice into pages: each slice reads the page's ids first, then only those rows.

    The ids come from the same index that filters and sorts (it holds the id), so a deep page skips its
    offset inside the index instead of reading every skipped fan's row. Works with Django's Paginator.
    """

    def __init__(self, qs: QuerySet[Fan], counted: QuerySet[Any] | None = None) -> None:
        self.qs = qs
        self._counted = counted if counted is not None else qs

    def count(self) -> int:
        return self._counted.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Fan]:
        ids = list(self.qs.values_list("id", flat=True)[window])
        rows = Fan.objects.in_bulk(ids)
        return [rows[i] for i in ids if i in rows]


def recent_fans(account_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The fans who interacted most recently (openid, remark, channel): the choices of a fan picker, such as
    "try it as this fan" of the reply rules and the conditional-menu preview. One query on an index."""
    rows = (
        Fan.objects.filter(account_id=account_id, last_interaction_at__isnull=False)
        .order_by("-last_interaction_at")
        .values("openid", "remark", "channel")[:limit]
    )
    return [dict(row) for row in rows]
