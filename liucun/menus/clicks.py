"""The menu-clicks consumer: taps per account, China day and button, with the distinct fans of each.

Every event a menu button sends names its button by EventKey: the key (click, scancode_*, pic_*,
location_select), the URL (view) or the page path (view_miniprogram). What the tables hold is a function
of the set of events, never of their order: clicks count events, fans count distinct (day, button,
openid), and an event's day is the day of its WeChat time in the site's time zone. MenuClickFan keeps one
row per fan, day and button, so unique fans per day and over any period are exact; a rebuild from zero
gives the same rows as the incremental runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings

from liucun.menus.models import BUTTON_KEY_MAX, MenuClickDay, MenuClickFan
from liucun.readmodels.consumer import Consumer, EventRow

CLICK, VIEW = "event.click", "event.view"
MENU_TAP_KINDS = frozenset(
    {
        CLICK,
        VIEW,
        "event.view_miniprogram",
        "event.scancode_push",
        "event.scancode_waitmsg",
        "event.pic_sysphoto",
        "event.pic_photo_or_album",
        "event.pic_weixin",
        "event.location_select",
    }
)
CHUNK = 500

DayKey = tuple[int, date, str]  # account id, day, button
FanKey = tuple[int, date, str, str]  # ... and openid


def button_of(event: EventRow) -> str:
    """The button an event names ("" when it names none: nothing to count)."""
    return str(event.fields.get("EventKey") or "")[:BUTTON_KEY_MAX]


@dataclass
class _Plan:
    fans: list[MenuClickFan] = field(default_factory=list)
    inserts: list[MenuClickDay] = field(default_factory=list)
    updates: list[MenuClickDay] = field(default_factory=list)


class MenuClicksConsumer(Consumer):
    name = "menu-clicks"
    kinds = MENU_TAP_KINDS
    payload_fields = ("EventKey",)
    version = 1

    def __init__(self, time_zone: str | None = None) -> None:
        self.tz = ZoneInfo(time_zone or settings.TIME_ZONE)

    def fingerprint(self) -> str:
        return f"v{self.version}:{self.tz.key}"

    def reset(self) -> None:
        MenuClickFan.objects.all().delete()
        MenuClickDay.objects.all().delete()

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        clicks: Counter[DayKey] = Counter()
        seen: set[FanKey] = set()
        for event in events:
            button = button_of(event)
            if event.kind not in self.kinds or not button:
                continue
            day = event.wechat_time.astimezone(self.tz).date()
            clicks[event.account_id, day, button] += 1
            seen.add((event.account_id, day, button, event.openid))
        new_fans = seen - _stored_fans(seen)
        fans: Counter[DayKey] = Counter((a, d, b) for a, d, b, _o in new_fans)
        plan = _Plan(
            fans=[MenuClickFan(account_id=a, day=d, button=b, openid=o) for a, d, b, o in sorted(new_fans)]
        )
        existing = _stored_days(set(clicks))
        for key in sorted(clicks):
            row = existing.get(key)
            if row is None:
                account_id, day, button = key
                plan.inserts.append(
                    MenuClickDay(
                        account_id=account_id, day=day, button=button, clicks=clicks[key], fans=fans[key]
                    )
                )
            else:
                row.clicks += clicks[key]
                row.fans += fans[key]
                plan.updates.append(row)
        return plan

    def apply(self, plan: _Plan) -> None:
        MenuClickFan.objects.bulk_create(plan.fans, batch_size=CHUNK)
        MenuClickDay.objects.bulk_create(plan.inserts, batch_size=CHUNK)
        MenuClickDay.objects.bulk_update(plan.updates, ["clicks", "fans"], batch_size=CHUNK)


def _by_account_day(keys: set[FanKey] | set[DayKey]) -> dict[tuple[int, date], set[str]]:
    grouped: dict[tuple[int, date], set[str]] = {}
    for key in keys:
        grouped.setdefault((key[0], key[1]), set()).add(key[-1])
    return grouped


def _stored_fans(keys: set[FanKey]) -> set[FanKey]:
    """Which of these (account, day, button, openid) are stored already."""
    found: set[FanKey] = set()
    for (account_id, day), openids in _by_account_day(keys).items():
        ordered = sorted(openids)
        for start in range(0, len(ordered), CHUNK):
            rows = MenuClickFan.objects.filter(
                account_id=account_id, day=day, openid__in=ordered[start : start + CHUNK]
            ).values_list("button", "openid")
            found.update((account_id, day, button, openid) for button, openid in rows)
    return found & keys


def _stored_days(keys: set[DayKey]) -> dict[DayKey, MenuClickDay]:
    days_by_account: dict[int, set[date]] = {}
    for account_id, day, _button in keys:
        days_by_account.setdefault(account_id, set()).add(day)
    found: dict[DayKey, MenuClickDay] = {}
    for account_id, days in days_by_account.items():
        ordered = sorted(days)
        for start in range(0, len(ordered), CHUNK):
            for row in MenuClickDay.objects.filter(
                account_id=account_id, day__in=ordered[start : start + CHUNK]
            ):
                found[account_id, row.day, row.button] = row
    return {key: row for key, row in found.items() if key in keys}
