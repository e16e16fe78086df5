"""The demo account's reply rules and service hours, matching its welcome text, menu and fans' questions.

Safe on every start: rules are created only while the account has none, and service hours only while it
has none, so an operator's changes in the demo survive a restart.
"""

from __future__ import annotations

from typing import Any

from liucun.accounts.models import OfficialAccount
from liucun.autoreply.actions import replace_rules
from liucun.autoreply.models import Rule
from liucun.servicehours.actions import save_service_hours
from liucun.servicehours.models import ServiceHours

ACTOR = "demo"
HOURS = [[day, "09:00", "21:00"] for day in range(7)]


def _text(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


def _keyword(
    name: str, match: str, values: list[str], *replies: dict[str, str], **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "trigger": "keyword",
        "match": match,
        "values": values,
        "replies": list(replies),
        **extra,
    }


DEMO_RULES: list[dict[str, Any]] = [
    {
        "name": "门店海报欢迎",
        "trigger": "follow",
        "values": ["store_001"],
        "replies": [
            _text("欢迎来到门店！出示本消息可领到店小礼品。回复“积分”查询积分，点击菜单预约到店服务。")
        ],
    },
    {
        "name": "线下活动欢迎",
        "trigger": "follow",
        "values": ["event_autumn"],
        "replies": [_text("感谢参加秋季活动！活动照片和优惠券稍后发给您。回复“积分”查询积分。")],
    },
    {
        "name": "抽奖活动欢迎",
        "trigger": "follow",
        "values": ["giveaway_01"],
        "replies": [_text("抽奖已登记，开奖结果会通过本号通知您。回复“积分”查询积分。")],
    },
    {
        "name": "默认欢迎",
        "trigger": "follow",
        "values": [],
        "replies": [_text("欢迎关注留存演示号！回复“积分”查询积分，点击菜单预约到店服务。")],
    },
    {
        "name": "老朋友扫码",
        "trigger": "scan",
        "values": [],
        "replies": [_text("欢迎回来！回复“积分”查询积分。")],
    },
    _keyword(
        "营业时间",
        "contains",
        ["营业时间", "几点", "开门", "关门"],
        _text("门店每天 9:00–21:00 营业，节假日照常。"),
    ),
    _keyword(
        "积分查询",
        "contains",
        ["积分"],
        _text("{remark}您好！积分可在菜单“会员中心 › 我的积分”查看，消费 1 元积 1 分。"),
    ),
    _keyword(
        "发货",
        "regex",
        ["(订单|快递).*(发货|到)|什么时候发货"],
        _text("订单付款后 48 小时内发货，发货后会推送快递单号。"),
    ),
    _keyword(
        "预约",
        "contains",
        ["预约"],
        {
            "type": "news",
            "title": "在线预约到店服务",
            "description": "选择门店和时间，到店免排队",
            "url": "https://liucun.example.com/h5/booking",
            "picurl": "",
        },
    ),
    _keyword(
        "人工客服",
        "exact",
        ["人工客服", "人工", "客服"],
        _text("正在为您转接人工客服，请稍候；服务时间每天 9:00–21:00。"),
        handoff=True,
        priority=10,
    ),
    {
        "name": "菜单：我的积分",
        "trigger": "click",
        "values": ["MENU_POINTS"],
        "replies": [_text("{remark}您好！积分明细请看会员中心，回复“积分”了解积分规则。")],
    },
    {
        "name": "菜单：预约",
        "trigger": "click",
        "values": ["MENU_BOOKING"],
        "replies": [
            {"type": "news", "title": "在线预约到店服务", "url": "https://liucun.example.com/h5/booking"}
        ],
    },
    {
        "name": "菜单：我的订单",
        "trigger": "click",
        "values": ["MENU_ORDERS"],
        "replies": [_text("订单付款后 48 小时内发货；回复“人工客服”查询具体订单。")],
    },
    {
        "name": "图片语音",
        "trigger": "message_type",
        "values": ["image", "voice", "video", "shortvideo"],
        "replies": [_text("收到啦！客服会在 48 小时内回复您。")],
    },
    {
        "name": "非服务时间",
        "trigger": "out_of_hours",
        "replies": [_text("现在是非服务时间（每天 9:00–21:00），我们会在上班后尽快回复您。")],
    },
    {
        "name": "默认回复",
        "trigger": "default",
        "replies": [_text("收到您的留言，我们会在 48 小时内回复您。回复“人工客服”转人工。")],
    },
]


def seed_demo(account: OfficialAccount) -> None:
    if not ServiceHours.objects.filter(account=account).exists():
        save_service_hours(ACTOR, account, enabled=True, weekly=HOURS, holidays=[])
    if not Rule.objects.filter(account=account).exists():
        replace_rules(ACTOR, account, DEMO_RULES)
