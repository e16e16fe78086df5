"""Ground truth for the message and interface statistics: what fans sent, and how callbacks went.

Appended from the fan-action path (wxsim/actions.py) and from callback delivery (wxsim/delivery.py);
read by the datacube message and interface calls and by the control API (GET /wxsim/traffic).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Upstream:
    time: int
    openid: str
    msg_type: str  # text, image, voice, video, link, location, ...


@dataclass(frozen=True)
class Callback:
    time: int  # the CreateTime the callback carried
    delivered: bool
    cost_ms: int  # every attempt's wait added up


@dataclass
class Traffic:
    upstream: list[Upstream] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note_message(self, openid: str, msg_type: str, at: int) -> None:
        with self.lock:
            self.upstream.append(Upstream(int(at), openid, msg_type))

    def note_callback(self, at: int, delivered: bool, latencies_ms: list[float]) -> None:
        with self.lock:
            self.callbacks.append(Callback(int(at), delivered, round(sum(latencies_ms))))

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "upstream": [dict(u.__dict__) for u in self.upstream],
                "callbacks": [dict(c.__dict__) for c in self.callbacks],
            }
