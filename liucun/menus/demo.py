"""The demo account's menu: the buttons wxsim's demo fans tap (a test keeps the two in step), as a draft,
published to the demo's wxsim on every start (a fresh wxsim has no menu)."""

from __future__ import annotations

import logging

from liucun.accounts.models import OfficialAccount
from liucun.menus import actions
from liucun.menus.models import MenuDraft, PublishedMenu, PublishKind
from liucun.refusals import Refused
from liucun.wechat.apierrors import WeChatAPIError

log = logging.getLogger(__name__)

DEMO_DRAFT = "演示菜单"
DEMO_MENU = [
    {"type": "click", "name": "积分查询", "key": "MENU_POINTS"},
    {"type": "click", "name": "预约到店", "key": "MENU_BOOKING"},
    {
        "name": "我的",
        "sub_button": [
            {"type": "click", "name": "我的订单", "key": "MENU_ORDERS"},
            {"type": "view", "name": "积分商城", "url": "https://liucun.example.com/h5/points"},
        ],
    },
]


def seed_demo(account: OfficialAccount) -> None:
    """Safe on every start: the draft is made once (an operator's edits stay), and WeChat is given the
    menu last published here (else the draft) only when it does not show it already."""
    draft = MenuDraft.objects.filter(account=account, name=DEMO_DRAFT).first()
    if draft is None:
        draft = actions.create_draft("demo", account, DEMO_DRAFT, DEMO_MENU)
    latest = (
        PublishedMenu.objects.filter(account=account, ok=True, kind=PublishKind.DEFAULT)
        .order_by("-id")
        .first()
    )
    try:
        shown = actions.read_back("demo", account).buttons
        if latest is None:
            actions.publish("demo", draft)
        elif shown != latest.buttons:
            actions.restore("demo", latest)
    except (Refused, WeChatAPIError) as exc:
        # The demo still starts; the menu page says what WeChat has and the history what it refused.
        log.warning("demo: the menu was not published: %s", exc)
