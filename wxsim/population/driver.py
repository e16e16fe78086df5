"""Running a population against a world: replay its history through the callback, then live traffic.

History runs on the stepped clock, one delivery at a time in time order, so the account's server sees
what it would have seen over those days (with backdated CreateTime). Live traffic then follows the
world's clock (real or accelerated). Everything a fan receives flows back to the engine.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from wxsim.actions import ActionError, apply_action
from wxsim.delivery import deliver
from wxsim.population.engine import DAY, Action, Population
from wxsim.reading import set_read_rhythm, set_reading_model
from wxsim.world import World

log = logging.getLogger("wxsim.population")


@dataclass
class RunStatus:
    appid: str
    phase: str = "starting"  # starting | history | live | stopped | failed
    history_days: int = 0
    days_done: int = 0
    delivered: int = 0
    failed_deliveries: int = 0
    error: str = ""
    started_at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class PopulationRun:
    def __init__(
        self,
        world: World,
        population: Population,
        *,
        history_days: int,
        live: bool,
        factor: float = 1.0,
        history_start: float | None = None,
    ) -> None:
        self.world = world
        self.history_start = history_start
        self.population = population
        self.live = live
        self.factor = factor
        self.status = RunStatus(population.appid, history_days=history_days)
        scenario = population.scenario
        if scenario.reading:
            set_reading_model(world, population.appid, scenario.reading)
        reads = scenario.rhythm_of["reads"]
        # Fans read pushed articles on the population's reading rhythm: a delay counts rhythm time.
        set_read_rhythm(world, population.appid, lambda start, seconds: reads.after(start, seconds / DAY))
        self._stop = threading.Event()
        world.on_delivery(self._notify)
        self.thread = threading.Thread(target=self._run, name=f"population-{population.appid}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _notify(self, appid: str, openid: str, kind: str, at: float, detail: dict[str, Any]) -> None:
        if appid == self.population.appid:
            self.population.notify(openid, kind, at, detail)

    def _run(self) -> None:
        try:
            clock = self.world.clock
            now = clock.now()
            t = self.history_start if self.history_start is not None else now - self.status.history_days * DAY
            if self.population.origin is None:
                self.population.origin = t  # scheduled pushes and campaigns count days from here
            self.status.phase = "history"
            clock.set_mode("stepped")
            for _ in range(self.status.history_days):
                if self._stop.is_set():
                    break
                for action in self.population.advance(t, t + DAY):
                    clock.set(action.time)
                    self._deliver(action)
                t += DAY
                self.status.days_done += 1
            clock.set(now if not self.status.history_days else max(t, now))
            if self.live and not self._stop.is_set():
                self._live()
            self.status.phase = "stopped"
        except Exception as exc:
            log.exception("population run for %s failed", self.population.appid)
            self.status.phase, self.status.error = "failed", f"{type(exc).__name__}: {exc}"

    def _live(self) -> None:
        clock = self.world.clock
        clock.set_mode("accelerated" if self.factor != 1.0 else "real", self.factor)
        self.status.phase = "live"
        last = clock.now()
        while not self._stop.wait(1.0):
            now = clock.now()
            for action in self.population.advance(last, now):
                self._deliver(action)
            last = now

    def _deliver(self, action: Action) -> None:
        try:
            done = apply_action(
                self.world,
                self.population.appid,
                action.action,
                action.openid,
                at=action.time,
                reason=action.reason,
                **dict(action.detail),
            )
        except ActionError as exc:
            log.debug("skipped %s: %s", action, exc)
            return
        result = deliver(done.account, done.xml, done.fan.openid, done.at)
        if result.delivered:
            self.status.delivered += 1
            if result.reply not in ("", "success"):
                self.world.record(done.account.appid, done.fan.openid, "passive_reply", {"xml": result.reply})
        else:
            self.status.failed_deliveries += 1
