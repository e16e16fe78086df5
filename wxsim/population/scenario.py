"""Scenario files: the population's channels, rates and sensitivities (format in docs/wxsim.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Channel:
    scene: str  # the parametric QR scene ("" for search, article and other unattributed follows)
    label: str
    weight: float  # share of new fans arriving through this channel
    daily_hazard: float  # baseline chance per day that a fan of this channel unfollows
    activity: float  # expected fan actions (messages, clicks, visits) per day
    giveaway: bool = False  # locust fans: they leave soon after the prize


@dataclass(frozen=True)
class Scenario:
    name: str
    new_fans_per_day: float
    channels: tuple[Channel, ...]
    menu_keys: tuple[str, ...] = ("MENU_POINTS", "MENU_BOOKING", "MENU_ORDERS")
    h5_urls: tuple[str, ...] = ("https://liucun.example.com/h5/points",)
    questions: tuple[str, ...] = (
        "营业时间是几点？",
        "我的积分怎么查？",
        "订单什么时候发货？",
        "可以预约吗？",
    )
    question_share: float = 0.35  # of actions that are a text question
    unanswered_hazard: float = 0.03  # extra daily hazard for each question left unanswered over 48 h
    push_tolerance_per_week: int = 3
    push_hazard: float = 0.01  # extra daily hazard for each push over the tolerance in the last 7 days
    giveaway_days: int = 3  # a giveaway fan's hazard is multiplied in the days right after following
    giveaway_multiplier: float = 25.0
    refollow_daily: float = 0.002
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        channels = tuple(Channel(**c) for c in data.get("channels", []))
        if not channels or sum(c.weight for c in channels) <= 0:
            raise ValueError("a scenario needs at least one channel with a positive weight")
        known = set(cls.__dataclass_fields__) - {"channels", "extra"}
        unknown = set(data) - known - {"channels"}
        if unknown:
            raise ValueError(f"unknown scenario fields: {', '.join(sorted(unknown))}")
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
        }
        return cls(channels=channels, **fields)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


DEMO = Scenario.from_dict(
    {
        "name": "demo",
        "new_fans_per_day": 30,
        "channels": [
            {"scene": "store_001", "label": "门店海报", "weight": 3, "daily_hazard": 0.002, "activity": 0.3},
            {
                "scene": "event_autumn",
                "label": "线下活动",
                "weight": 1,
                "daily_hazard": 0.004,
                "activity": 0.2,
            },
            {
                "scene": "giveaway_01",
                "label": "抽奖活动",
                "weight": 2,
                "daily_hazard": 0.006,
                "activity": 0.05,
                "giveaway": True,
            },
            {"scene": "", "label": "搜索与文章", "weight": 2, "daily_hazard": 0.0015, "activity": 0.25},
        ],
    }
)
