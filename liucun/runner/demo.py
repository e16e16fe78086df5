"""The demo account of `liucun run`: a simulated WeChat (wxsim) with a population of fans.

wxsim is started as a separate process and talked to over HTTP, exactly as WeChat would be.
"""

from __future__ import annotations

import importlib.util
import subprocess
from dataclasses import dataclass, field


@dataclass
class DemoSetup:
    lines: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        return self.lines


def prepare_demo(children: list[subprocess.Popen[bytes]], *, liucun_url: str) -> DemoSetup | None:
    if importlib.util.find_spec("wxsim.app") is None:
        return DemoSetup(["demo: the simulator is not available in this build; no demo account started"])
    from liucun.runner.demo_wxsim import start_demo

    return start_demo(children, liucun_url=liucun_url)
