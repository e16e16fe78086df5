"""Bulk history: a population's whole past written to a file in seconds, for Liucun to import.

The bulk engine draws the same kinds of fans as the live engine (channels, personal activity, the
giveaway spike) but in closed form with numpy: each fan's lifetime comes from the channel's hazard, its
actions are a Poisson process over that lifetime. There is no server to answer in bulk, so the hazard
has no feedback term; live runs add it. The same seed gives a byte-identical file.

File format `wxsim-bulk/1` (little-endian): one JSON header line, then the arrays
  time int64[events] (unix seconds, sorted), fan int32[events], kind int8[events], detail int16[events],
  openid bytes[fans * 28] (fan i's openid at i * 28).
Kinds: 0 follow (detail: channel index), 1 unfollow, 2 question (detail: question index),
3 click (detail: menu key index), 4 view (detail: URL index), 5 check-in text.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from wxsim.population.scenario import Scenario

FORMAT = "wxsim-bulk/1"
KINDS = ["follow", "unfollow", "question", "click", "view", "checkin"]
OPENID_BYTES = 28
DAY = 86400
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


def generate(
    scenario: Scenario, *, appid: str, original_id: str, seed: int, fans: int, days: int, start: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    end = start + days * DAY
    weights = np.array([c.weight for c in scenario.channels], dtype=float)
    channel = rng.choice(len(weights), size=fans, p=weights / weights.sum()).astype(np.int16)
    joined = np.sort(rng.integers(start, end, size=fans, dtype=np.int64))
    activity = np.array([c.activity for c in scenario.channels])[channel] * rng.lognormal(0.0, 0.6, fans)
    base = np.array([c.daily_hazard for c in scenario.channels])[channel]
    spike = np.where(
        np.array([c.giveaway for c in scenario.channels])[channel], scenario.giveaway_multiplier, 1.0
    )
    # Piecewise-exponential lifetime: hazard base*spike for giveaway_days, then base.
    first = rng.exponential(1.0, fans) / np.maximum(base * spike, 1e-12)
    early = first < scenario.giveaway_days
    later = scenario.giveaway_days + rng.exponential(1.0, fans) / np.maximum(base, 1e-12)
    lifetime_days = np.where(early, first, np.where(spike > 1.0, later, first))
    left = joined + (lifetime_days * DAY).astype(np.int64)
    unfollowed = left < end
    active_until = np.minimum(left, end)

    counts = rng.poisson(activity * (active_until - joined) / DAY)
    total = int(counts.sum())
    owner = np.repeat(np.arange(fans, dtype=np.int32), counts)
    span = (active_until - joined)[owner]
    when = joined[owner] + (rng.random(total) * np.maximum(span - 1, 0)).astype(np.int64) + 1
    roll = rng.random(total)
    share = scenario.question_share
    kind = np.select([roll < share, roll < share + 0.35, roll < share + 0.55], [2, 3, 4], 5).astype(np.int8)
    sizes = {2: len(scenario.questions), 3: len(scenario.menu_keys), 4: len(scenario.h5_urls), 5: 1}
    detail = np.zeros(total, dtype=np.int16)
    for k, size in sizes.items():
        mask = kind == k
        detail[mask] = rng.integers(0, size, int(mask.sum()), dtype=np.int16)

    unf = np.flatnonzero(unfollowed).astype(np.int32)
    time_all = np.concatenate([joined, left[unf], when])
    fan_all = np.concatenate([np.arange(fans, dtype=np.int32), unf, owner])
    kind_all = np.concatenate([np.zeros(fans, np.int8), np.ones(len(unf), np.int8), kind])
    detail_all = np.concatenate([channel, np.zeros(len(unf), np.int16), detail])
    order = np.lexsort((kind_all, fan_all, time_all))  # by time, then fan, follow before its actions
    arrays = {
        "time": time_all[order],
        "fan": fan_all[order],
        "kind": kind_all[order],
        "detail": detail_all[order],
        "openid": openids(appid, seed, fans),
    }
    header = {
        "format": FORMAT,
        "appid": appid,
        "original_id": original_id,
        "seed": seed,
        "scenario": scenario.name,
        "start": start,
        "days": days,
        "fans": fans,
        "events": len(order),
        "kinds": KINDS,
        "channels": [c.scene for c in scenario.channels],
        "channel_labels": [c.label for c in scenario.channels],
        "questions": list(scenario.questions),
        "menu_keys": list(scenario.menu_keys),
        "h5_urls": list(scenario.h5_urls),
        "unfollows": len(unf),
    }
    return header, arrays


def write(path: Path, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    with path.open("wb") as out:
        out.write(json.dumps(header, ensure_ascii=False, sort_keys=True).encode() + b"\n")
        for name, dtype in (("time", "<i8"), ("fan", "<i4"), ("kind", "<i1"), ("detail", "<i2")):
            arrays[name].astype(dtype).tofile(out)
        arrays["openid"].tofile(out)
