"""Menu rows of every kind for a list of fans, so a page that reads them per row shows it (the console's
query-count test calls populate)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan
from liucun.menus.clicks import derive_shares
from liucun.menus.models import (
    ButtonName,
    MenuClickDay,
    MenuClickFan,
    MenuDraft,
    MenuReading,
    PublishedMenu,
    PublishKind,
)

MENU = [
    {"type": "click", "name": "积分查询", "key": "MENU_POINTS"},
    {"name": "服务", "sub_button": [{"type": "view", "name": "官网", "url": "https://shop.example.cn/"}]},
]


def populate(account: OfficialAccount, fans: list[Fan]) -> dict[str, Any]:
    """Per fan: a draft, a published version (every kind in turn), a conditional menu in the last
    read-back, and a tap on each of the last days. Returns the ids the menu URLs take."""
    from django.utils import timezone

    drafts = MenuDraft.objects.bulk_create(
        MenuDraft(account=account, name=f"草稿{i}", buttons=MENU, created_by="op", updated_by="op")
        for i in range(len(fans))
    )
    kinds = list(PublishKind)
    published = PublishedMenu.objects.bulk_create(
        PublishedMenu(
            account=account,
            kind=kinds[i % len(kinds)],
            buttons=MENU,
            draft_name=f"草稿{i}",
            tag_wechat_id=100 if kinds[i % len(kinds)] == PublishKind.CONDITIONAL else None,
            published_by="op",
            ok=i % 5 != 4,
            answer="ok" if i % 5 != 4 else "65303 no default menu",
        )
        for i in range(len(fans))
    )
    conditional = [
        {"menu_id": str(400000000 + i), "tag_wechat_id": 100 + i % 2, "platform": None, "buttons": MENU}
        for i in range(len(fans))
    ]
    MenuReading.objects.update_or_create(
        account=account,
        defaults={"buttons": MENU, "conditional": conditional, "read_by": "op", "read_at": timezone.now()},
    )
    ButtonName.objects.bulk_create(
        [
            ButtonName(account=account, key="MENU_POINTS", name="积分查询", published=True),
            ButtonName(account=account, key="https://shop.example.cn/", name="官网", published=True),
        ],
        ignore_conflicts=True,
    )
    today = timezone.localdate()
    days = [today - timedelta(days=d) for d in range(3)]
    MenuClickFan.objects.bulk_create(
        MenuClickFan(account=account, day=day, button=button, openid=fan.openid)
        for fan in fans
        for day in days
        for button in ("MENU_POINTS", "https://shop.example.cn/")
    )
    MenuClickDay.objects.bulk_create(
        MenuClickDay(account=account, day=day, button=button, clicks=len(fans) * 2, fans=len(fans))
        for day in days
        for button in ("MENU_POINTS", "https://shop.example.cn/", f"KEY_{len(fans)}")
    )
    # What the click consumer keeps alongside MenuClickFan and MenuClickDay: gap rows, every channel's rows.
    derive_shares(account.pk)
    return {"draft_id": drafts[0].pk, "published_id": published[0].pk, "menu_id": conditional[0]["menu_id"]}


def stats_days() -> tuple[date, date]:
    from django.utils import timezone

    today = timezone.localdate()
    return today - timedelta(days=6), today
