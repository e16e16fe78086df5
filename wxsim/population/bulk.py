"""Bulk history: a population's whole past written to a file in seconds, for Liucun to import.

The same model as the live engine (engine.py), drawn with numpy: arrivals by channel on the follows
rhythm with the scenario's campaigns, actions as a Poisson process on the messages rhythm, and each
follow period's end from the hazard of hazard.py evaluated day by day (early churn, giveaway window,
the scenario's pushes, and grudges for every question, since nobody answers while the file is
written), then refollows. Fans are processed in chunks and every event is packed into one uint64
(time, fan, kind, detail) and sorted in place, so 1,000,000 fans x 365 days fit in about 1 GB.
The same seed gives a byte-identical file.

File format `wxsim-bulk/1` (little-endian): one JSON header line, then the arrays
  time int64[events] (unix seconds, sorted), fan int32[events], kind int8[events], detail int16[events],
  openid bytes[fans * 28] (fan i's openid at i * 28).
Kinds: 0 follow (detail: channel index; a fan may follow again after unfollowing), 1 unfollow,
2 question (detail: question index), 3 click (detail: menu key index), 4 view (detail: URL index),
5 check-in text (live fans' scans of their channel's code are written as check-ins).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wxsim.population import hazard
from wxsim.population.hazard import ANSWER_WITHIN
from wxsim.population.scenario import Scenario, ScheduledPush

FORMAT = "wxsim-bulk/1"
KINDS = ["follow", "unfollow", "question", "click", "view", "checkin"]
OPENID_BYTES = 28
DAY = 86400
CHUNK = 65536  # fans drawn at once: bounds the memory of actions and of the day-by-day hazard
WRITE_SLICE = 1 << 22
_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)


def openids(appid: str, seed: int, fans: int) -> np.ndarray:
    """Fan i's openid, derived from (appid, seed, i) in bulk; 'o' + 27 characters like WeChat's."""
    key = np.frombuffer(hashlib.sha256(f"{appid}:{seed}".encode()).digest(), dtype=np.uint64)
    index = np.arange(fans, dtype=np.uint64)
    out = np.empty((fans, OPENID_BYTES), dtype=np.uint8)
    out[:, 0] = ord("o")
    state = index * np.uint64(0x9E3779B97F4A7C15) ^ key[0]
    for col in range(1, OPENID_BYTES):
        # xorshift-multiply mixing: cheap, deterministic, and spreads every bit of the index
        state ^= state >> np.uint64(31)
        state *= np.uint64(0xBF58476D1CE4E5B9)
        state ^= key[col % 4]
        out[:, col] = _ALPHABET[(state >> np.uint64(40)) & np.uint64(63)]
    return out


class Layout:
    """How (time - start, fan, kind, detail) share the bits of one uint64, time first so it sorts."""

    def __init__(self, start: int, days: int, fans: int, details: int) -> None:
        self.start = start
        self.detail_bits = max(1, int(details - 1).bit_length())
        self.kind_bits = 3
        self.fan_bits = max(1, int(fans - 1).bit_length())
        time_bits = max(1, int(days * DAY - 1).bit_length())
        if time_bits + self.fan_bits + self.kind_bits + self.detail_bits > 63:
            raise ValueError("too many fans and days for one bulk file; split the history")
        self.kind_shift = self.detail_bits
        self.fan_shift = self.kind_shift + self.kind_bits
        self.time_shift = self.fan_shift + self.fan_bits

    def pack(
        self, time: np.ndarray, fan: np.ndarray, kind: int | np.ndarray, detail: np.ndarray
    ) -> np.ndarray:
        key = np.asarray(time, np.int64) - self.start
        key <<= self.time_shift
        key |= np.asarray(fan, np.int64) << self.fan_shift
        key |= np.asarray(kind, np.int64) << self.kind_shift
        key |= np.asarray(detail, np.int64)
        return key.view(np.uint64)

    def column(self, keys: np.ndarray, name: str) -> np.ndarray:
        if name == "time":
            return (keys >> np.uint64(self.time_shift)).astype(np.int64) + self.start
        shift, bits, dtype = {
            "fan": (self.fan_shift, self.fan_bits, np.int32),
            "kind": (self.kind_shift, self.kind_bits, np.int8),
            "detail": (0, self.detail_bits, np.int16),
        }[name]
        return ((keys >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(dtype)


class Events(Mapping[str, np.ndarray]):
    """The sorted history: columns decoded from the packed keys on demand (whole, or slice by slice)."""

    names = ("time", "fan", "kind", "detail", "openid")

    def __init__(self, packed: np.ndarray, layout: Layout, openid: np.ndarray) -> None:
        self.packed, self.layout, self.openid = packed, layout, openid

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "openid":
            return self.openid
        if name not in self.names:
            raise KeyError(name)
        return self.layout.column(self.packed, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def generate(
    scenario: Scenario, *, appid: str, original_id: str, seed: int, fans: int, days: int, start: int
) -> tuple[dict[str, Any], Events]:
    s = scenario
    end = start + days * DAY
    details = max(len(s.channels), len(s.questions), len(s.menu_keys), len(s.h5_urls), 1)
    layout = Layout(start, days, fans, details)
    rng = np.random.default_rng(seed)
    channel, joined = _arrivals(s, rng, fans, start, end)
    activity = np.array([c.activity for c in s.channels])[channel] * rng.lognormal(0.0, 0.6, fans)
    pushes = s.scheduled_pushes(start, end)
    run = _Run(s, layout, start, end, days, pushes)

    keys: list[np.ndarray] = []
    counts = {"unfollows": 0, "refollows": 0}
    fan = np.arange(fans, dtype=np.int64)
    begin = joined
    cycle = 0
    while len(fan):
        returning_fan, returning_at = [], []
        for n, lo in enumerate(range(0, len(fan), CHUNK)):
            part_rng = np.random.default_rng([seed, cycle, n])
            f, t0 = fan[lo : lo + CHUNK], begin[lo : lo + CHUNK]
            out, left = _period(run, part_rng, fan=f, channel=channel[f], activity=activity[f], began=t0)
            keys.extend(out)
            counts["unfollows"] += int((left < end).sum())
            back = _refollow(s, part_rng, left, end)
            returning_fan.append(f[back < end])
            returning_at.append(back[back < end])
        fan, begin = np.concatenate(returning_fan), np.concatenate(returning_at)
        order = np.argsort(begin, kind="stable")
        fan, begin = fan[order], begin[order]
        counts["refollows"] += len(fan)
        cycle += 1

    packed = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
    del keys
    packed.sort()  # keys are whole events: equal keys are identical, so an unstable sort is exact
    header = {
        "format": FORMAT,
        "appid": appid,
        "original_id": original_id,
        "seed": seed,
        "scenario": s.name,
        "start": start,
        "days": days,
        "fans": fans,
        "events": len(packed),
        "kinds": KINDS,
        "channels": [c.scene for c in s.channels],
        "channel_labels": [c.label for c in s.channels],
        "questions": list(s.questions),
        "menu_keys": list(s.menu_keys),
        "h5_urls": list(s.h5_urls),
        "unfollows": counts["unfollows"],
        "refollows": counts["refollows"],
        # Ground truth for analyses of pushes and campaigns (Liucun never sees these in the file).
        "pushes": [
            {"time": int(p.time), "name": p.name, "effect": p.effect, "seconds": p.seconds} for p in pushes
        ],
        "campaigns": [c.__dict__ for c in s.campaigns],
    }
    return header, Events(packed, layout, openids(appid, seed, fans))


def _arrivals(
    s: Scenario, rng: np.random.Generator, fans: int, start: int, end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each fan's channel and first follow, in follow order (fan i is the i-th to follow)."""
    follows = s.rhythm_of["follows"]
    whole = float(follows.integrals(np.array([start]), np.array([end]))[0])
    windows = []  # (channel index, lo, hi, extra mass per unit weight)
    for campaign in s.campaigns:
        lo = max(start, start + campaign.day * DAY)
        hi = min(end, start + (campaign.day + campaign.days) * DAY)
        if hi > lo:
            extra = (campaign.multiplier - 1) * float(follows.integrals(np.array([lo]), np.array([hi]))[0])
            for index in sorted(s.channel_indexes((campaign.channel,))):
                windows.append((index, lo, hi, extra))
    weights = np.array([c.weight for c in s.channels], dtype=float)
    mass = weights * whole
    for index, _, _, extra in windows:
        mass[index] += weights[index] * extra
    channel = rng.choice(len(weights), size=fans, p=mass / mass.sum()).astype(np.int16)
    lo_at = np.full(fans, float(start))
    hi_at = np.full(fans, float(end))
    pick = rng.random(fans) * mass[channel]
    acc = np.full(fans, 0.0)
    base = weights[channel] * whole
    chosen = pick < base
    acc += base
    for index, lo, hi, extra in windows:
        inside = ~chosen & (channel == index) & (pick < acc + weights[index] * extra)
        lo_at[inside], hi_at[inside] = lo, hi
        chosen |= inside
        acc = np.where(channel == index, acc + weights[index] * extra, acc)
    joined = np.floor(follows.places(lo_at, hi_at, rng.random(fans))).astype(np.int64)
    joined = np.minimum(joined, end - 1)
    order = np.argsort(joined, kind="stable")
    return channel[order], joined[order]


@dataclass(frozen=True)
class _Run:
    """What every chunk of one generation shares."""

    s: Scenario
    layout: Layout
    start: int
    end: int
    days: int
    pushes: list[ScheduledPush]


def _period(
    run: _Run,
    rng: np.random.Generator,
    *,
    fan: np.ndarray,
    channel: np.ndarray,
    activity: np.ndarray,
    began: np.ndarray,
) -> tuple[list[np.ndarray], np.ndarray]:
    """One follow period for each fan from `began`: its events (packed) and when it ended (end if not)."""
    s, end, layout = run.s, run.end, run.layout
    messages = s.rhythm_of["messages"]
    first = messages.cumulative((began + 1).astype(float))
    last = float(messages.cumulative(np.array([float(end)]))[0])
    # Questions first, over the rest of the history: they shape the hazard (nobody answers them).
    share = s.question_share
    q_count = rng.poisson(activity * share * (last - first) / 24.0)
    q_owner = np.repeat(np.arange(len(fan)), q_count)
    q_spots = messages.places_within(first[q_owner], last, rng.random(len(q_owner)))
    q_when = _times(q_spots, began[q_owner], end)
    left = _Lifetimes(run, channel, began, q_when + int(ANSWER_WITHIN), q_owner).run(rng)
    left_int = np.minimum(np.floor(left), end).astype(np.int64)
    keep = q_when < left_int[q_owner]
    q_owner, q_when = q_owner[keep], q_when[keep]
    # The other actions only while the fan follows.
    stop = messages.cumulative(left_int.astype(float))
    o_count = rng.poisson(activity * (1 - share) * np.maximum(stop - first, 0.0) / 24.0)
    o_owner = np.repeat(np.arange(len(fan)), o_count)
    spots = messages.places_within(first[o_owner], stop[o_owner], rng.random(len(o_owner)))
    o_when = _times(spots, began[o_owner], end)
    keep = o_when < left_int[o_owner]
    o_owner, o_when = o_owner[keep], o_when[keep]
    o_kind, o_detail = _kinds(s, rng, len(o_owner))
    q_detail = rng.integers(0, len(s.questions), len(q_owner))
    gone = left_int < end
    out = [
        layout.pack(began, fan, 0, channel),
        layout.pack(q_when, fan[q_owner], 2, q_detail),
        layout.pack(o_when, fan[o_owner], o_kind, o_detail),
        layout.pack(left_int[gone], fan[gone], 1, np.zeros(int(gone.sum()), np.int64)),
    ]
    return out, np.where(gone, left_int, end)


def _times(spots: np.ndarray, began: np.ndarray, end: int) -> np.ndarray:
    """Whole seconds, after the follow and before the end of the history."""
    return np.clip(np.floor(spots), began + 1, end).astype(np.int64)


def _kinds(s: Scenario, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Kinds and details of actions that are not questions: one uniform draw picks both, as the live
    engine's roll does given it is not a question."""
    share = s.question_share
    roll = share + (1 - share) * rng.random(n)
    kind = np.where(roll < share + 0.35, 3, np.where(roll < share + 0.55, 4, 5))
    lo = np.where(kind == 3, share, np.where(kind == 4, share + 0.35, share + 0.55))
    width = np.where(kind == 3, 0.35, np.where(kind == 4, 0.2, 1.0))
    size = np.where(kind == 3, len(s.menu_keys), np.where(kind == 4, len(s.h5_urls), 1))
    return kind, np.minimum(((roll - lo) / width * size).astype(np.int64), size - 1)


class _Lifetimes:
    """When each period ends (inf if not before the history's end): the hazard integrated day by day
    until it reaches an exponential draw, with the live engine's formula (hazard.py) and day steps.

    `began` is sorted, so the fans who have joined by a day are a prefix [0, k) and those who joined
    before it a prefix [0, kp): their whole day uses per-day constants and recurrences; only the day's
    newcomers need the general formulas."""

    def __init__(
        self, run: _Run, channel: np.ndarray, began: np.ndarray, expiry: np.ndarray, owner: np.ndarray
    ) -> None:
        s = run.s
        self.run_, self.s, self.began, self.channel = run, s, began, channel
        n = self.n = len(began)
        self.tau = s.unanswered_decay_days * DAY
        self.decay = float(np.exp(-DAY / self.tau))
        self.base = np.array([c.daily_hazard for c in s.channels])[channel]
        self.is_giveaway = np.array([c.giveaway for c in s.channels])[channel]
        self.audience = {id(p): np.isin(channel, sorted(p.audience)) for p in run.pushes}
        self.grudge = np.zeros(n)  # sum of exp(-(t0 - e) / tau) over questions expired by the day's start
        self.aging = np.zeros(n)  # exp(-age / early_churn_days) at the day's start, for whole days
        self.rate = np.zeros(n)
        self.first = int((began[0] - run.start) // DAY) if n else run.days
        # Questions grouped by the day they expire (a counting sort: day numbers are small integers).
        day_of = np.clip((expiry - run.start) // DAY, self.first, run.days).astype(np.int16)
        order = np.argsort(day_of, kind="stable")
        self.expiry, self.owner = expiry[order], owner[order]
        self.bounds = np.searchsorted(day_of[order], np.arange(self.first, run.days + 1))

    def run(self, rng: np.random.Generator) -> np.ndarray:
        n, began, start = self.n, self.began, self.run_.start
        messages = self.s.rhythm_of["messages"]
        target = rng.exponential(1.0, n)
        accumulated = np.zeros(n)
        left = np.full(n, np.inf)
        alive = np.ones(n, dtype=bool)
        kp = 0
        for step, d in enumerate(range(self.first, self.run_.days)):
            t0, t1 = start + d * DAY, start + (d + 1) * DAY
            k = int(np.searchsorted(began, t1 - 1, side="right"))  # joined by the day's last second
            old_kp, kp = kp, int(np.searchsorted(began, t0, side="left"))  # joined before the day
            if kp > old_kp:
                self.aging[old_kp:kp] = np.exp(-(t0 - began[old_kp:kp]) / DAY / self.s.early_churn_days)
            todays = slice(int(self.bounds[step]), int(self.bounds[step + 1]))
            fresh = self._fresh(todays, t1)
            pushes = [p for p in self.run_.pushes if p.time < t1 and p.time + p.seconds > t0]
            if kp:
                self._whole_day(kp, t0, t1, fresh, pushes)
            if k > kp:
                self._newcomers(kp, k, t0=t0, t1=t1, fresh=fresh, pushes=pushes)
            self.grudge[:k] *= self.decay
            if todays.stop > todays.start:
                weights = np.exp(-(t1 - self.expiry[todays]) / self.tau)
                self.grudge[:k] += np.bincount(self.owner[todays], weights=weights, minlength=n)[:k]
            mass = self.rate[:k]
            acc = accumulated[:k]
            acc += mass
            hit = acc >= target[:k]
            hit &= alive[:k]
            crossed = np.flatnonzero(hit)
            if len(crossed):
                share = (target[crossed] - (acc[crossed] - mass[crossed])) / mass[crossed]
                b0 = np.maximum(float(t0), began[crossed] + 1.0)
                left[crossed] = messages.places(b0, np.full(len(crossed), float(t1)), share)
                alive[crossed] = False
        return np.maximum(left, began + 1.0)

    def _fresh(self, todays: slice, t1: int) -> np.ndarray | None:
        """Per fan: the integral over the rest of the day of grudges for questions expiring in it."""
        if todays.stop <= todays.start:
            return None
        weights = self.tau * (1 - np.exp(-(t1 - self.expiry[todays]) / self.tau))
        return np.bincount(self.owner[todays], weights=weights, minlength=self.n)

    def _whole_day(
        self, kp: int, t0: int, t1: int, fresh: np.ndarray | None, pushes: list[ScheduledPush]
    ) -> None:
        s, began = self.s, self.began
        tau_e = s.early_churn_days
        r = self.rate[:kp]
        np.multiply(self.aging[:kp], s.early_churn_hazard * tau_e * (1 - np.exp(-1 / tau_e)), out=r)
        r += self.base[:kp]
        u = self.grudge[:kp] * (s.unanswered_effect * self.tau * (1 - self.decay) / DAY)
        if fresh is not None:
            u += fresh[:kp] * (s.unanswered_effect / DAY)
        np.minimum(u, s.unanswered_cap, out=u)
        u += 1.0
        r *= u
        if pushes:
            p = np.zeros(kp)
            for push in pushes:
                m = min(int(np.searchsorted(began, push.time, side="right")), kp)
                share = (min(t1, push.time + push.seconds) - max(t0, push.time)) / DAY
                p[:m] += self.audience[id(push)][:m] * (push.effect * share)
            np.minimum(p, s.push_cap, out=p)
            p += 1.0
            r *= p
        kg = int(np.searchsorted(began, t0 - s.giveaway_days * DAY, side="right"))
        if kg < kp and s.giveaway_daily_hazard > 0:
            inside = np.clip(s.giveaway_days - (t0 - began[kg:kp]) / DAY, 0.0, 1.0)
            r[kg:kp] += self.is_giveaway[kg:kp] * (s.giveaway_daily_hazard * inside)
        r *= s.rhythm_of["messages"].integral(float(t0), float(t1))
        self.aging[:kp] *= np.exp(-1 / tau_e)

    def _newcomers(
        self, kp: int, k: int, *, t0: int, t1: int, fresh: np.ndarray | None, pushes: list[ScheduledPush]
    ) -> None:
        s, began = self.s, self.began[kp:k]
        b0 = np.maximum(float(t0), began + 1.0)
        span = np.maximum(t1 - b0, 1e-9)
        a0, a1 = (b0 - began) / DAY, (t1 - began) / DAY
        u = s.unanswered_effect * fresh[kp:k] / span if fresh is not None else np.zeros(k - kp)
        p = np.zeros(k - kp)
        for push in pushes:
            overlap = np.minimum(float(t1), push.time + push.seconds) - np.maximum(b0, push.time)
            got = self.audience[id(push)][kp:k] & (began <= push.time) & (overlap > 0)
            p += np.where(got, push.effect * np.maximum(overlap, 0.0) / span, 0.0)
        rate = hazard.combines(
            s,
            base=self.base[kp:k],
            early=hazard.early_averages(s, a0, a1),
            giveaway=hazard.giveaway_averages(s, self.is_giveaway[kp:k], a0, a1),
            u=u,
            p=p,
        )
        self.rate[kp:k] = rate * s.rhythm_of["messages"].integrals(b0, np.full(k - kp, float(t1)))


def _refollow(s: Scenario, rng: np.random.Generator, left: np.ndarray, end: int) -> np.ndarray:
    """When each fan who left follows again (end or later if not within the history)."""
    gone = left < end
    back = np.full(len(left), np.int64(end))
    if s.refollow_daily <= 0 or not gone.any():
        return back
    draw = rng.exponential(1.0, int(gone.sum())) / s.refollow_daily
    when = s.rhythm_of["follows"].afters(left[gone].astype(float), draw)
    back[gone] = np.maximum(np.floor(np.minimum(when, float(end))).astype(np.int64), left[gone] + 1)
    return back


def write(path: Path, header: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    with path.open("wb") as out:
        out.write(json.dumps(header, ensure_ascii=False, sort_keys=True).encode() + b"\n")
        for name, dtype in (("time", "<i8"), ("fan", "<i4"), ("kind", "<i1"), ("detail", "<i2")):
            if isinstance(arrays, Events):
                # Column by column in slices, so writing never holds a whole decoded column.
                for lo in range(0, len(arrays.packed), WRITE_SLICE):
                    arrays.layout.column(arrays.packed[lo : lo + WRITE_SLICE], name).astype(dtype).tofile(out)
            else:
                arrays[name].astype(dtype).tofile(out)
        arrays["openid"].tofile(out)
