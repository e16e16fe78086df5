"""How far a read model's rows can be trusted now: what a report built on them tells its reader.

Two states make a read model's rows incomplete:
  - being rebuilt: its tables are refilled from zero in chunks (SQLite, runner.fill_in_chunks) or wait
    for a rebuild (its logic changed since they were built). Its ConsumerState.fingerprint then starts
    with REBUILDING, or differs from the consumer's; a run that stopped half-way leaves the marker, and the
    next run rebuilds again (the fingerprint differs);
  - catching up: at least pace.CATCH_UP_FLOOR event ids are not read yet (a worker that was stopped, a
    history import). A few seconds' lag is the normal state of a running worker and is not shown.
Both are read from ConsumerState (one row per read model) and the event store's highest id: two indexed
queries, whatever the account's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from liucun.readmodels.models import ConsumerState
from liucun.readmodels.pace import CATCH_UP_FLOOR, head_id

REBUILDING = "rebuilding:"


@dataclass(frozen=True)
class Freshness:
    name: str
    rebuilding: bool  # its rows are being refilled from zero, or wait for it
    behind: int  # event ids not read yet (0 while rebuilding: the count would mislead)

    @property
    def complete(self) -> bool:
        return not self.rebuilding and self.behind < CATCH_UP_FLOOR


def rebuilding_marker(fingerprint: str) -> str:
    return f"{REBUILDING}{fingerprint}"


def of(names: Iterable[str]) -> list[Freshness]:
    """The freshness of the named read models (registry names), in the order given."""
    from liucun.readmodels.registry import consumers

    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    expected = {c.name: c.fingerprint() for c in consumers() if c.name in wanted}
    states = {s.name: s for s in ConsumerState.objects.filter(name__in=wanted)}
    head = head_id()
    result = []
    for name in wanted:
        state = states.get(name)
        watermark = state.last_event_id if state else 0
        fingerprint = state.fingerprint if state else ""
        rebuilding = fingerprint.startswith(REBUILDING) or (
            bool(fingerprint) and name in expected and fingerprint != expected[name]
        )
        result.append(Freshness(name, rebuilding, 0 if rebuilding else max(head - watermark, 0)))
    return result


def incomplete(names: Iterable[str]) -> list[Freshness]:
    return [f for f in of(names) if not f.complete]
