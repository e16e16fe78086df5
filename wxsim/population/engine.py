"""The population engine: deterministic for a seed, responsive to what fans receive.

Time advances in steps; in each step new fans arrive by channel (Poisson, following the follows
rhythm and the scenario's campaigns), following fans act at their own rate (messages rhythm), and
each may unfollow with the hazard of wxsim/population/hazard.py: the channel's baseline, early churn,
the giveaway window, decaying grudges for questions unanswered over 48 hours, and the pushes the fan
received (the scenario's own and Liucun's). What a fan receives (customer-service messages, passive
replies, pushes) reaches the engine through `notify`, so Liucun's behaviour changes who stays.
Unfollowed fans may come back. The bulk generator (bulk.py) draws the same model in closed form.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from wxsim.model import make_openid
from wxsim.population import hazard
from wxsim.population.hazard import ANSWER_WITHIN, DAY, GRUDGE_HORIZON
from wxsim.population.scenario import Channel, Scenario

WEEK = 7 * DAY


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
    channel_index: int
    activity: float  # this fan's multiplier on the channel's activity
    following: bool = False
    followed_at: float = 0.0
    pending_questions: list[float] = field(default_factory=list)
    # Grudges for questions that expired unanswered: sum of exp(-(t - expiry) / tau), as of grudge_at.
    grudge_level: float = 0.0
    grudge_at: float = 0.0
    fresh_grudges: list[float] = field(default_factory=list)  # expiries found in the current step
    unanswered: int = 0  # questions ever left unanswered (all follow periods)
    pushes: list[tuple[float, float, float, str]] = field(default_factory=list)  # (time, effect, s, name)
    liucun_pushes: list[tuple[float, float]] = field(default_factory=list)  # (time, weight): fatigue


def _order(action: Action) -> tuple[int, str, str]:
    return action.time, action.openid, action.action


class Population:
    def __init__(self, scenario: Scenario, *, appid: str, seed: int, origin: float | None = None) -> None:
        self.scenario = scenario
        self.appid = appid
        self.seed = seed
        self.origin = origin  # the run's day one: scheduled pushes and campaigns count from it
        self.rng = random.Random(f"{seed}:{appid}:{scenario.name}")
        self.fans: dict[str, SimFan] = {}
        self._weights = [c.weight for c in scenario.channels]
        self._rhythm = scenario.rhythm_of

    # --- feedback -----------------------------------------------------------------------------------

    def notify(self, openid: str, kind: str, at: float, detail: dict[str, Any] | None = None) -> None:
        fan = self.fans.get(openid)
        if fan is None or not fan.following:
            return
        if kind in ("customer_service", "passive_reply"):
            fan.pending_questions = [t for t in fan.pending_questions if t > at]
        elif kind in ("mass", "template", "subscribe_message"):
            # A push aimed at a tag the fan is in, or one the fan asked for, weighs half of a push to
            # everyone; pushes beyond the weekly tolerance weigh push_fatigue times more.
            s = self.scenario
            targeted = kind != "mass" or bool(detail and detail.get("targeted"))
            weight = 0.5 if targeted else 1.0
            fan.liucun_pushes = [(t, w) for t, w in fan.liucun_pushes if t > at - WEEK]
            recent = sum(w for _, w in fan.liucun_pushes) + weight
            fatigue = s.push_fatigue if recent > s.push_tolerance_per_week else 1.0
            fan.liucun_pushes.append((at, weight))
            name = "too many pushes" if fatigue > 1 else "pushes"
            fan.pushes.append((at, weight * s.push_effect * fatigue, s.push_effect_hours * 3600, name))

    # --- time steps ---------------------------------------------------------------------------------

    def advance(self, start: float, end: float) -> list[Action]:
        """Everything the population does in [start, end), sorted by time."""
        if end <= start:
            return []
        if self.origin is None:
            self.origin = start
        actions: list[Action] = []
        actions.extend(self._arrivals(start, end))
        for push in self.scenario.scheduled_pushes(self.origin, end):
            if push.time < start:
                continue
            for fan in self.fans.values():
                if fan.following and fan.channel_index in push.audience and fan.followed_at <= push.time:
                    fan.pushes.append((push.time, push.effect, push.seconds, f"push {push.name}".strip()))
        follows = self._rhythm["follows"]
        step_messages = self._rhythm["messages"].integral(start, end)
        refollow = 1 - math.exp(-self.scenario.refollow_daily * follows.integral(start, end))
        for fan in list(self.fans.values()):
            if fan.following:
                actions.extend(self._live_fan(fan, start, end, step_messages))
            elif self.rng.random() < refollow:
                at = follows.place(start, end, self.rng.random())
                self._start_period(fan, at)
                actions.append(
                    Action(int(at), fan.openid, "follow", (("scene", fan.channel.scene),), "came back")
                )
        actions.sort(key=_order)
        return actions

    def _arrivals(self, start: float, end: float) -> list[Action]:
        s = self.scenario
        follows = self._rhythm["follows"]
        total = sum(self._weights)
        mass = follows.integral(start, end)
        out = []
        for index, channel in enumerate(s.channels):
            # The step's own span, then each campaign window inside it with its extra arrivals.
            windows = [(start, end, mass)]
            for campaign in s.campaigns:
                if index in s.channel_indexes((campaign.channel,)):
                    c0 = (self.origin or start) + campaign.day * DAY
                    lo, hi = max(start, c0), min(end, c0 + campaign.days * DAY)
                    if hi > lo:
                        windows.append((lo, hi, (campaign.multiplier - 1) * follows.integral(lo, hi)))
            whole = sum(w[2] for w in windows)
            for _ in range(self._poisson(s.new_fans_per_day * channel.weight / total * whole)):
                lo, hi = self._window(windows, self.rng.random() * whole)
                out.append(self._new_fan(index, follows.place(lo, hi, self.rng.random())))
        return out

    @staticmethod
    def _window(windows: list[tuple[float, float, float]], pick: float) -> tuple[float, float]:
        for lo, hi, part in windows:
            if pick < part:
                return lo, hi
            pick -= part
        return windows[-1][0], windows[-1][1]

    def _new_fan(self, index: int, at: float) -> Action:
        channel = self.scenario.channels[index]
        openid = make_openid(self.appid, self.seed, len(self.fans))
        fan = SimFan(openid, channel, index, activity=self.rng.lognormvariate(0, 0.6))
        self._start_period(fan, at)
        self.fans[openid] = fan
        return Action(int(at), openid, "follow", (("scene", channel.scene),), f"channel {channel.label}")

    @staticmethod
    def _start_period(fan: SimFan, at: float) -> None:
        # A new follow period: age restarts, and old grudges and pushes are forgotten.
        fan.following, fan.followed_at = True, at
        fan.pending_questions.clear()
        fan.grudge_level, fan.grudge_at = 0.0, at
        fan.fresh_grudges.clear()
        fan.pushes.clear()

    def _live_fan(self, fan: SimFan, start: float, end: float, step_messages: float) -> list[Action]:
        begin = max(start, fan.followed_at + 1)
        if begin >= end:
            return []
        messages = self._rhythm["messages"]
        span = step_messages if begin == start else messages.integral(begin, end)
        actions = [
            self._act(fan, messages.place(begin, end, self.rng.random()))
            for _ in range(self._poisson(fan.channel.activity * fan.activity * span))
        ]
        rate, u, p, push_name = self._hazard(fan, begin, end)
        if self.rng.random() < 1 - math.exp(-rate * span):
            at = messages.place(begin, end, self.rng.random())
            actions = [a for a in actions if a.time < int(at)]
            fan.following = False
            fan.pending_questions.clear()
            actions.append(
                Action(int(at), fan.openid, "unfollow", (), self._reason(fan, begin, end, (u, p, push_name)))
            )
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
        if fan.pending_questions and min(fan.pending_questions) + ANSWER_WITHIN <= now:
            still = []
            for asked in fan.pending_questions:
                if asked + ANSWER_WITHIN <= now:
                    fan.fresh_grudges.append(asked + ANSWER_WITHIN)
                    fan.unanswered += 1
                else:
                    still.append(asked)
            fan.pending_questions = still
        if fan.pushes:
            fan.pushes = [p for p in fan.pushes if p[0] + p[2] > now - DAY]

    def _grudges(self, fan: SimFan, begin: float, end: float) -> float:
        """U averaged over [begin, end), carrying older grudges as one decaying sum (hazard.py's
        grudge_average for the ones that expired in this step)."""
        s = self.scenario
        tau = s.unanswered_decay_days * DAY
        u = 0.0
        if fan.grudge_level:
            level = fan.grudge_level * math.exp(-(begin - fan.grudge_at) / tau)
            u = s.unanswered_effect * level * tau * (1 - math.exp(-(end - begin) / tau)) / (end - begin)
            fan.grudge_level = level * math.exp(-(end - begin) / tau)
            if fan.grudge_level < math.exp(-GRUDGE_HORIZON):
                fan.grudge_level = 0.0
        fan.grudge_at = end
        if fan.fresh_grudges:
            u += hazard.grudge_average(s, fan.fresh_grudges, begin, end)
            fan.grudge_level += sum(math.exp(-(end - e) / tau) for e in fan.fresh_grudges)
            fan.fresh_grudges.clear()
        return u

    def _hazard(self, fan: SimFan, begin: float, end: float) -> tuple[float, float, float, str]:
        """The fan's average daily hazard over [begin, end), with its grudge and push terms."""
        s, channel = self.scenario, fan.channel
        self._expire_questions(fan, end)
        a0, a1 = (begin - fan.followed_at) / DAY, (end - fan.followed_at) / DAY
        early = hazard.early_average(s, a0, a1)
        giveaway = hazard.giveaway_average(s, channel.giveaway, a0, a1)
        u = self._grudges(fan, begin, end)
        p, push_name = hazard.push_average(fan.pushes, begin, end) if fan.pushes else (0.0, "")
        return (
            hazard.combine(s, base=channel.daily_hazard, early=early, giveaway=giveaway, u=u, p=p),
            u,
            p,
            push_name,
        )

    def _reason(self, fan: SimFan, begin: float, end: float, terms: tuple[float, float, str]) -> str:
        """The largest part of the hazard that made the fan leave (the ground truth's reason)."""
        u, p, push_name = terms
        s, channel = self.scenario, fan.channel
        a0, a1 = (begin - fan.followed_at) / DAY, (end - fan.followed_at) / DAY
        early = hazard.early_average(s, a0, a1)
        giveaway = hazard.giveaway_average(s, channel.giveaway, a0, a1)
        uf, pf = 1 + min(s.unanswered_cap, u), 1 + min(s.push_cap, p)
        parts = {
            "natural": channel.daily_hazard,
            "early churn": early,
            "giveaway collected": giveaway,
            "unanswered questions": (channel.daily_hazard + early) * (uf - 1),
            push_name or "pushes": (channel.daily_hazard + early) * uf * (pf - 1),
        }
        return max(parts, key=lambda k: parts[k])

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
