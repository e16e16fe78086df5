"""The reading model in-process: what a population sets (read affinity, a reading rhythm) is honoured."""

from __future__ import annotations

import pytest

from wxsim.content import Publication
from wxsim.reading import schedule_reads, set_read_rhythm, set_reading_model
from wxsim.world import World

SPEC = {"appid": "wxr", "secret": "s", "token": "t", "encoding_aes_key": "a" * 43, "original_id": "gh_r"}


def _world(fans: int = 400) -> World:
    world = World(seed=5)
    world.add_account(dict(SPEC))
    for _ in range(fans):
        world.add_fan("wxr")
    return world


def _push(world: World, msg_data_id: int = 10) -> list:
    account = world.accounts["wxr"]
    publication = Publication(msg_data_id, [{"title": "a"}], 1_772_000_000, True, len(account.fans))
    schedule_reads(world, account, publication, [account.fans[o] for o in account.fan_order])
    return [
        e
        for e in account.content.reads
        if e.msg_data_id == msg_data_id and e.kind == "read" and not e.openid.startswith("~")
    ]


def test_read_affinity_scales_a_fans_chance() -> None:
    world = _world()
    set_reading_model(world, "wxr", {"read_probability": 0.5})
    account = world.accounts["wxr"]
    keen = set(account.fan_order[:200])
    for openid in account.fan_order:
        account.fans[openid].read_affinity = 2.0 if openid in keen else 0.0
    readers = {e.openid for e in _push(world)}
    assert readers and readers <= keen and len(readers) == 200  # 0.5 x 2 is certain, 0.5 x 0 never


def test_a_rhythm_moves_reads_and_the_horizon_still_holds() -> None:
    plain, warped = _world(), _world()
    for world in (plain, warped):
        set_reading_model(world, "wxr", {"read_probability": 0.5, "horizon_days": 1, "reads_per_share": 0})
    asked: list[tuple[float, float]] = []

    def slower(start: float, seconds: float) -> float:
        asked.append((start, seconds))
        return start + 3 * seconds

    set_read_rhythm(warped, "wxr", slower)
    before = _push(plain)
    after = {(e.openid, e.time) for e in _push(warped)}
    # The same draws reach the rhythm (same delays), and each read lands where it says, within a day.
    assert [int(s) for _, s in asked if s <= 86400] == [e.time - 1_772_000_000 for e in before]
    assert {t for _, t in after} == {int(1_772_000_000 + 3 * s) for _, s in asked if 3 * s <= 86400}
    assert len(after) < len(before) and max(t for _, t in after) <= 1_772_000_000 + 86400


def test_bad_parameters_change_nothing() -> None:
    world = _world(1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        set_reading_model(world, "wxr", {"read_probability": 0.5, "share_probability": 1.5})
    with pytest.raises(ValueError, match="unknown reading parameters: rhythm"):
        set_reading_model(world, "wxr", {"rhythm": 1})
    assert world.accounts["wxr"].reading.read_probability == 0.05
