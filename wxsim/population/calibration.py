"""The calibration table's metrics, computed from a history (bulk file arrays or live engine actions).

The same function reads both, so a test can check that the two engines agree with each other and
with the public figures documented in docs/wxsim.md. A history here is four aligned arrays: time
(unix seconds), fan (index), kind (bulk kinds: 0 follow, 1 unfollow, 2 question, 3..5 other actions)
and, per fan, its channel index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wxsim.population.engine import Action
from wxsim.population.scenario import Scenario

DAY = 86400
CHINA = 8 * 3600
_LIVE_KINDS = {"follow": 0, "unfollow": 1, "click": 3, "view": 4, "scan": 5}


def from_actions(actions: list[Action], fan_channel: dict[str, int]) -> dict[str, np.ndarray]:
    """Live engine actions as history arrays (openids numbered by first appearance)."""
    index: dict[str, int] = {}
    time, fan, kind = [], [], []
    for a in sorted(actions):
        i = index.setdefault(a.openid, len(index))
        time.append(a.time)
        fan.append(i)
        kind.append(2 if a.reason == "question" else _LIVE_KINDS.get(a.action, 5))
    channel = np.zeros(len(index), dtype=np.int64)
    for openid, i in index.items():
        channel[i] = fan_channel[openid]
    return {
        "time": np.array(time, dtype=np.int64),
        "fan": np.array(fan, dtype=np.int64),
        "kind": np.array(kind, dtype=np.int64),
        "channel": channel,
    }


def from_bulk(arrays: Any, fans: int) -> dict[str, np.ndarray]:
    time, fan, kind, detail = arrays["time"], arrays["fan"], arrays["kind"], arrays["detail"]
    channel = np.zeros(fans, dtype=np.int64)
    follows = kind == 0
    channel[fan[follows]] = detail[follows]
    return {"time": time, "fan": fan.astype(np.int64), "kind": kind.astype(np.int64), "channel": channel}


def metrics(history: dict[str, np.ndarray], scenario: Scenario, start: int, days: int) -> dict[str, float]:
    """The calibration table's wxsim column; rates are measured over the history's second half."""
    time, fan, kind, channel = history["time"], history["fan"], history["kind"], history["channel"]
    window = np.arange(days // 2, days) * DAY + start
    out: dict[str, float] = {}

    def daily_rate(mask: np.ndarray) -> float:
        follows = np.sort(time[mask & (kind == 0)])
        unfollows = np.sort(time[mask & (kind == 1)])
        followers = np.searchsorted(follows, window, side="left") - np.searchsorted(unfollows, window, "left")
        left = np.searchsorted(unfollows, window + DAY, "left") - np.searchsorted(unfollows, window, "left")
        return float(left.sum() / max(followers.sum(), 1))

    everyone = np.ones(len(time), dtype=bool)
    out["daily_unfollow_rate"] = daily_rate(everyone)
    of = channel[fan]
    for i, c in enumerate(scenario.channels):
        out[f"daily_unfollow_rate[{c.scene or c.label}]"] = daily_rate(of == i)

    # Follow periods: each follow with the next unfollow of the same fan.
    order = np.lexsort((kind, time, fan))
    t, f, k = time[order], fan[order], kind[order]
    life = t[(k == 0) | (k == 1)], f[(k == 0) | (k == 1)], k[(k == 0) | (k == 1)]
    starts = np.flatnonzero(life[2] == 0)
    nxt = starts + 1
    ended = (nxt < len(life[0])) & (life[1][np.minimum(nxt, len(life[0]) - 1)] == life[1][starts])
    length = np.where(
        ended, life[0][np.minimum(nxt, len(life[0]) - 1)] - life[0][starts], np.iinfo(np.int64).max
    )
    old_enough = life[0][starts] < start + (days - 30) * DAY
    giveaway = np.array([c.giveaway for c in scenario.channels])[channel[life[1][starts]]]
    regular = old_enough & ~giveaway
    out["left_within_7_days[regular]"] = float((length[regular] < 7 * DAY).mean()) if regular.any() else 0.0
    locust = old_enough & giveaway
    if locust.any():
        within = float((length[locust] < scenario.giveaway_days * DAY).mean())
        month = float((length[locust] < 30 * DAY).mean())
        out["left_within_giveaway_days[giveaway]"] = within
        out["early_share_of_first_month[giveaway]"] = within / month if month else 0.0
    periods = len(starts)
    fans_count = len(np.unique(fan))
    out["refollow_share"] = float((periods - fans_count) / max(int((kind == 1).sum()), 1))

    acts = kind >= 2
    hour = ((time[acts] + CHINA) % DAY) // 3600
    out["evening_share[messages]"] = float(((hour >= 19) & (hour < 23)).mean()) if acts.any() else 0.0
    out["night_share[messages]"] = float(((hour >= 1) & (hour < 6)).mean()) if acts.any() else 0.0
    weekday = ((time[kind == 0] + CHINA) // DAY + 3) % 7  # 0 Monday
    weekend = np.isin(weekday, (5, 6)).sum() / 2
    weekdays = np.isin(weekday, (0, 1, 2, 3, 4)).sum() / 5
    out["weekend_to_weekday[follows]"] = float(weekend / max(weekdays, 1))

    pushes = [p for p in scenario.scheduled_pushes(start, start + days * DAY) if p.time >= start + 2 * DAY]
    unfollows = np.sort(time[kind == 1])
    if pushes:
        during = sum(
            np.searchsorted(unfollows, p.time + DAY) - np.searchsorted(unfollows, p.time) for p in pushes
        )
        before = sum(
            np.searchsorted(unfollows, p.time - DAY) - np.searchsorted(unfollows, p.time - 2 * DAY)
            for p in pushes
        )
        out["push_day_uplift"] = float(during / max(before, 1))
    return out
