"""The population engine: deterministic for a seed, responsive to what fans receive.

Time advances in steps; in each step new fans arrive by channel (Poisson), following fans act at
their own rate, and each fan may unfollow with a hazard made of the channel's baseline, a spike for
giveaway fans right after they follow, and penalties for questions left unanswered over 48 hours and
for pushes beyond the fan's tolerance. What a fan receives (customer-service messages, passive replies,
pushes) reaches the engine through `notify`, so Liucun's behaviour changes who stays.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field
from typing import Any

from wxsim.model import make_openid
from wxsim.population.scenario import Channel, Scenario

DAY = 86400.0
ANSWER_WITHIN = 48 * 3600.0


@dataclass(frozen=True, order=True)
class Action:
    time: int
    openid: str
    action: str
    detail: tuple[tuple[str, Any], ...] = ()
    reason: str = ""


@dataclass
class SimFan:
    openid: str
    channel: Channel
    activity: float  # this fan's multiplier on the channel's activity
    following: bool = False
    followed_at: float = 0.0
    pending_questions: list[float] = field(default_factory=list)
    unanswered: int = 0
    pushes: list[tuple[float, float]] = field(default_factory=list)  # (time, weight by relevance)


class Population:
    def __init__(self, scenario: Scenario, *, appid: str, seed: int) -> None:
        self.scenario = scenario
        self.appid = appid
        self.seed = seed
        self.rng = random.Random(f"{seed}:{appid}:{scenario.name}")
        self.fans: dict[str, SimFan] = {}
        self._weights = [c.weight for c in scenario.channels]

    # --- feedback -----------------------------------------------------------------------------------

    def notify(self, openid: str, kind: str, at: float, detail: dict[str, Any] | None = None) -> None:
        fan = self.fans.get(openid)
        if fan is None:
            return
        if kind in ("customer_service", "passive_reply"):
            fan.pending_questions = [t for t in fan.pending_questions if t > at]
        elif kind in ("mass", "template", "subscribe_message"):
            # Relevance: a push aimed at a tag the fan is in, or one the fan asked for, weighs half
            # of a push sent to everyone.
            targeted = kind != "mass" or bool(detail and detail.get("targeted"))
            fan.pushes.append((at, 0.5 if targeted else 1.0))

    # --- time steps ---------------------------------------------------------------------------------

    def advance(self, start: float, end: float) -> list[Action]:
        """Everything the population does in [start, end), sorted by time."""
        span = end - start
        if span <= 0:
            return []
        scale = span / DAY
        actions: list[Action] = []
        for _ in range(self._poisson(self.scenario.new_fans_per_day * scale)):
            actions.append(self._new_fan(start + self.rng.random() * span))
        for fan in list(self.fans.values()):
            if fan.following:
                actions.extend(self._live_fan(fan, start, end, scale))
            elif self.rng.random() < 1 - math.exp(-self.scenario.refollow_daily * scale):
                at = start + self.rng.random() * span
                fan.following, fan.followed_at = True, at
                actions.append(
                    Action(int(at), fan.openid, "follow", (("scene", fan.channel.scene),), "came back")
                )
        actions.sort()
        return actions

    def _new_fan(self, at: float) -> Action:
        channel = self.rng.choices(self.scenario.channels, self._weights)[0]
        openid = make_openid(self.appid, self.seed, len(self.fans))
        fan = SimFan(
            openid, channel, activity=self.rng.lognormvariate(0, 0.6), following=True, followed_at=at
        )
        self.fans[openid] = fan
        return Action(int(at), openid, "follow", (("scene", channel.scene),), f"channel {channel.label}")

    def _live_fan(self, fan: SimFan, start: float, end: float, scale: float) -> list[Action]:
        begin = max(start, fan.followed_at + 1)
        if begin >= end:
            return []
        actions = [
            self._act(fan, begin + self.rng.random() * (end - begin))
            for _ in range(self._poisson(fan.channel.activity * fan.activity * scale))
        ]
        self._expire_questions(fan, end)
        hazard, reason = self._hazard(fan, end)
        if self.rng.random() < 1 - math.exp(-hazard * scale):
            at = begin + self.rng.random() * (end - begin)
            actions = [a for a in actions if a.time < int(at)]
            fan.following = False
            fan.pending_questions.clear()
            actions.append(Action(int(at), fan.openid, "unfollow", (), reason))
        return actions

    def _act(self, fan: SimFan, at: float) -> Action:
        s, roll = self.scenario, self.rng.random()
        if roll < s.question_share:
            fan.pending_questions.append(at)
            return Action(
                int(at), fan.openid, "text", (("content", self.rng.choice(s.questions)),), "question"
            )
        if roll < s.question_share + 0.35:
            return Action(int(at), fan.openid, "click", (("key", self.rng.choice(s.menu_keys)),), "menu")
        if roll < s.question_share + 0.55:
            return Action(int(at), fan.openid, "view", (("url", self.rng.choice(s.h5_urls)),), "service page")
        if roll < s.question_share + 0.60 and fan.channel.scene:
            # Back at the store (or event) that recruited them, scanning its code again.
            return Action(int(at), fan.openid, "scan", (("scene", fan.channel.scene),), "scanned again")
        return Action(int(at), fan.openid, "text", (("content", "打卡"),), "check-in")

    def _expire_questions(self, fan: SimFan, now: float) -> None:
        cut = bisect.bisect_left(sorted(fan.pending_questions), now - ANSWER_WITHIN)
        if cut:
            fan.unanswered += cut
            fan.pending_questions = sorted(fan.pending_questions)[cut:]

    def _hazard(self, fan: SimFan, now: float) -> tuple[float, str]:
        s, channel = self.scenario, fan.channel
        parts = {"natural": channel.daily_hazard}
        if channel.giveaway and now - fan.followed_at < s.giveaway_days * DAY:
            parts["giveaway collected"] = channel.daily_hazard * (s.giveaway_multiplier - 1)
        if fan.unanswered:
            parts["unanswered questions"] = fan.unanswered * s.unanswered_hazard
        recent = sum(weight for t, weight in fan.pushes if t > now - 7 * DAY)
        if recent > s.push_tolerance_per_week:
            parts["too many pushes"] = (recent - s.push_tolerance_per_week) * s.push_hazard
        reason = max(parts, key=lambda k: parts[k])
        return sum(parts.values()), reason

    def _poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        if mean > 50:
            return max(0, round(self.rng.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1
