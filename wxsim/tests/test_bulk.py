"""Bulk history: deterministic bytes for a seed, and the file says what the engine generated."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from wxsim.population.bulk import generate, write
from wxsim.population.scenario import DEMO


def _file(tmp_path: Path, seed: int, name: str) -> Path:
    header, arrays = generate(
        DEMO,
        appid="wx0000000000000abc",
        original_id="gh_bulk0001",
        seed=seed,
        fans=3000,
        days=120,
        start=1_700_000_000,
    )
    path = tmp_path / name
    write(path, header, arrays)
    return path


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    one, two, other = _file(tmp_path, 4, "a"), _file(tmp_path, 4, "b"), _file(tmp_path, 5, "c")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (one, two, other)]
    assert digest[0] == digest[1] != digest[2]


def test_history_is_consistent(tmp_path: Path) -> None:
    header, arrays = generate(
        DEMO,
        appid="wx0000000000000abc",
        original_id="gh_bulk0001",
        seed=9,
        fans=5000,
        days=90,
        start=1_700_000_000,
    )
    time, fan, kind = arrays["time"], arrays["fan"], arrays["kind"]
    assert np.all(np.diff(time) >= 0)
    assert np.all((time >= 1_700_000_000) & (time < 1_700_000_000 + 90 * 86400))
    assert int((kind == 0).sum()) == 5000 and int((kind == 1).sum()) == header["unfollows"]
    first_seen = {}
    for t, f, k in zip(time.tolist(), fan.tolist(), kind.tolist(), strict=True):
        first_seen.setdefault(f, (t, k))
    assert all(k == 0 for _, k in first_seen.values())  # every fan's first event is its follow
    ids = {bytes(row).decode() for row in arrays["openid"]}
    assert len(ids) == 5000 and all(len(i) == 28 and i.startswith("o") for i in ids)
    giveaway = next(i for i, c in enumerate(DEMO.channels) if c.giveaway)
    channel = np.zeros(5000, dtype=int)
    channel[fan[kind == 0]] = arrays["detail"][kind == 0]
    left = np.zeros(5000, dtype=bool)
    left[fan[kind == 1]] = True
    assert left[channel == giveaway].mean() > 3 * left[channel != giveaway].mean()
    json.dumps(header)
