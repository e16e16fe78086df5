"""Scenario files: the population's channels, rates, rhythms, pushes and sensitivities.

Format and the source (or the word "assumption") of every default: docs/wxsim.md. Every field but
`name`, `new_fans_per_day` and `channels` is optional, so older scenario files keep loading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wxsim.content import ReadingModel
from wxsim.population.rhythm import Rhythm, rhythms

DAY = 86400.0
# Fields of the first scenario format whose meaning the calibrated model replaced: accepted, ignored.
LEGACY_FIELDS = {"unanswered_hazard", "push_hazard", "giveaway_multiplier"}


@dataclass(frozen=True)
class Channel:
    scene: str  # the parametric QR scene ("" for search, article and other unattributed follows)
    label: str
    weight: float  # share of new fans arriving through this channel
    daily_hazard: float  # a settled fan's chance per day of unfollowing, before any effect
    activity: float  # expected fan actions (messages, clicks, visits) per day
    giveaway: bool = False  # locust fans: most leave in the days right after the prize


@dataclass(frozen=True)
class Push:
    """A push the account makes outside Liucun (its own articles, or a planted harmful one).

    Fans following when it goes out (of `channels`, or all) have their hazard multiplied by
    `hazard_multiplier` for `hours`; `every_days` repeats it until the run ends.
    """

    day: float  # days after the run's first day (history start, or the bulk file's start)
    hazard_multiplier: float = 2.0
    hours: float = 24.0
    name: str = ""
    every_days: float = 0.0
    targeted: bool = False  # aimed at a tag: felt half as much, like Liucun's targeted pushes
    channels: tuple[str, ...] = ()  # scenes of the channels whose fans receive it (empty: everyone)


@dataclass(frozen=True)
class Campaign:
    """A burst of new fans through one channel: its arrival rate multiplied for a few days."""

    channel: str  # the channel's scene or label
    day: float
    days: float = 3.0
    multiplier: float = 5.0


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
    # Early churn: an extra daily hazard right after following, decaying with this time constant.
    early_churn_hazard: float = 0.015
    early_churn_days: float = 2.0
    # Giveaway ("locust") fans: an extra daily hazard for the first giveaway_days after following.
    giveaway_days: float = 3.0
    giveaway_daily_hazard: float = 0.15
    # A question left unanswered for 48 h multiplies the fan's hazard by (1 + effect), decaying with
    # unanswered_decay_days; all such grudges together add at most unanswered_cap.
    unanswered_effect: float = 0.5
    unanswered_decay_days: float = 7.0
    unanswered_cap: float = 2.0
    # A push Liucun sends to everyone multiplies the receiving fan's hazard by (1 + push_effect) for
    # push_effect_hours (half that for targeted pushes and notifications); beyond
    # push_tolerance_per_week the effect is push_fatigue times larger. Pushes together add at most push_cap.
    push_effect: float = 1.0
    push_effect_hours: float = 24.0
    push_tolerance_per_week: float = 3.0
    push_fatigue: float = 3.0
    push_cap: float = 4.0
    refollow_daily: float = 0.0005  # an unfollowed fan's chance per day of following again
    pushes: tuple[Push, ...] = ()
    campaigns: tuple[Campaign, ...] = ()
    rhythm: dict[str, Any] = field(
        default_factory=dict
    )  # overrides: {follows|messages|reads: {hours, weekdays}}
    reading: dict[str, Any] = field(default_factory=dict)  # the account's reading model (wxsim/content.py)
    extra: dict[str, Any] = field(default_factory=dict)
    rhythm_of: dict[str, Rhythm] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rhythm_of", rhythms(self.rhythm))
        negative = [
            name
            for name in (
                "new_fans_per_day", "question_share", "early_churn_hazard", "giveaway_days",
                "giveaway_daily_hazard", "unanswered_effect", "unanswered_cap", "push_effect",
                "push_tolerance_per_week", "push_fatigue", "push_cap", "refollow_daily",
            )
            if getattr(self, name) < 0
        ]  # fmt: skip
        if negative:
            raise ValueError(f"must not be negative: {', '.join(negative)}")
        if min(self.early_churn_days, self.unanswered_decay_days, self.push_effect_hours) <= 0:
            raise ValueError("early_churn_days, unanswered_decay_days and push_effect_hours must be positive")
        if any(c.daily_hazard < 0 or c.activity < 0 or c.weight < 0 for c in self.channels):
            raise ValueError("channel weight, daily_hazard and activity must not be negative")
        for push in self.pushes:
            if push.hazard_multiplier < 0 or push.hours <= 0 or push.every_days < 0:
                raise ValueError("a push needs hazard_multiplier >= 0, hours > 0 and every_days >= 0")
            self.channel_indexes(push.channels)
        if self.reading:
            ReadingModel().update(dict(self.reading))  # a bad reading parameter is an error here already
        for campaign in self.campaigns:
            if campaign.multiplier < 0 or campaign.days <= 0:
                raise ValueError("a campaign needs multiplier >= 0 and days > 0")
            self.channel_indexes((campaign.channel,))

    def channel_indexes(self, names: tuple[str, ...]) -> frozenset[int]:
        """Indexes of the channels named by scene or label (empty names: every channel)."""
        if not names:
            return frozenset(range(len(self.channels)))
        found = {i for i, c in enumerate(self.channels) if c.scene in names or c.label in names}
        known = {c.scene for c in self.channels} | {c.label for c in self.channels}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown channels: {', '.join(unknown)}")
        return frozenset(found)

    def scheduled_pushes(self, origin: float, end: float) -> list[ScheduledPush]:
        """Every push of the scenario going out in [origin, end), in time order."""
        out = []
        for push in self.pushes:
            weight = 0.5 if push.targeted else 1.0
            audience = self.channel_indexes(push.channels)
            t = origin + push.day * DAY
            while t < end:
                if t >= origin:
                    out.append(
                        ScheduledPush(
                            t, weight * (push.hazard_multiplier - 1), push.hours * 3600, push.name, audience
                        )
                    )
                if push.every_days <= 0:
                    break
                t += push.every_days * DAY
        return sorted(out, key=lambda p: (p.time, p.name))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        channels = tuple(Channel(**c) for c in data.get("channels", []))
        if not channels or sum(c.weight for c in channels) <= 0:
            raise ValueError("a scenario needs at least one channel with a positive weight")
        known = set(cls.__dataclass_fields__) - {"channels", "extra", "pushes", "campaigns", "rhythm_of"}
        unknown = set(data) - known - {"channels", "pushes", "campaigns"} - LEGACY_FIELDS
        if unknown:
            raise ValueError(f"unknown scenario fields: {', '.join(sorted(unknown))}")
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
        }
        pushes = tuple(Push(**_tuples(p)) for p in data.get("pushes", []))
        campaigns = tuple(Campaign(**c) for c in data.get("campaigns", []))
        return cls(channels=channels, pushes=pushes, campaigns=campaigns, **fields)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _tuples(data: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


@dataclass(frozen=True)
class ScheduledPush:
    time: float
    effect: float  # added to the hazard multiplier while it lasts: weight * (hazard_multiplier - 1)
    seconds: float
    name: str
    audience: frozenset[int]  # channel indexes


DEMO = Scenario.from_dict(
    {
        "name": "demo",
        "new_fans_per_day": 30,
        "channels": [
            {"scene": "store_001", "label": "门店海报", "weight": 3, "daily_hazard": 0.0002, "activity": 0.3},
            {
                "scene": "event_autumn",
                "label": "线下活动",
                "weight": 1,
                "daily_hazard": 0.00035,
                "activity": 0.2,
            },
            {
                "scene": "giveaway_01",
                "label": "抽奖活动",
                "weight": 1,
                "daily_hazard": 0.0007,
                "activity": 0.05,
                "giveaway": True,
            },
            {"scene": "", "label": "搜索与文章", "weight": 2, "daily_hazard": 0.00017, "activity": 0.25},
        ],
        # The shop's own weekly article: 20:00 on day 4, 11, ... (a Thursday if day one is a Monday).
        "pushes": [{"name": "weekly article", "day": 3 + 20 / 24, "every_days": 7, "hazard_multiplier": 2.0}],
    }
)
