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
    assert (
        int((kind == 0).sum()) == 5000 + header["refollows"] and int((kind == 1).sum()) == header["unfollows"]
    )
    assert 0 < header["refollows"] < header["unfollows"]
    following: dict[int, bool] = {}
    for f, k in zip(fan.tolist(), kind.tolist(), strict=True):
        if k == 0:
            assert not following.get(f, False)  # a follow only while not following (first, or a refollow)
            following[f] = True
        else:
            assert following.get(f, False)  # unfollows and actions only while following
            following[f] = k != 1
    assert len(following) == 5000
    ids = {bytes(row).decode() for row in arrays["openid"]}
    assert len(ids) == 5000 and all(len(i) == 28 and i.startswith("o") for i in ids)
    giveaway = next(i for i, c in enumerate(DEMO.channels) if c.giveaway)
    channel = np.zeros(5000, dtype=int)
    channel[fan[kind == 0]] = arrays["detail"][kind == 0]
    left = np.zeros(5000, dtype=bool)
    left[fan[kind == 1]] = True
    assert left[channel == giveaway].mean() > 3 * left[channel != giveaway].mean()
    json.dumps(header)


def test_a_history_of_several_chunks_is_written_whole(tmp_path: Path) -> None:
    # Packed keys are the only per-event state kept between chunks: 8 bytes an event.
    header, arrays = generate(
        DEMO,
        appid="wx0000000000000abc",
        original_id="gh_bulk0001",
        seed=2,
        fans=70_000,
        days=30,
        start=1_700_000_000,
    )
    assert arrays.packed.dtype == np.uint64 and arrays.packed.nbytes == 8 * header["events"]
    path = tmp_path / "h.bin"
    write(path, header, arrays)
    assert (
        path.stat().st_size
        == len(path.read_bytes().split(b"\n", 1)[0]) + 1 + 15 * header["events"] + 28 * 70_000
    )
