"""The simulated clock every rule reads: real time, accelerated real time, or stepped by hand."""

from __future__ import annotations

import threading
import time


class Clock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.mode = "real"
        self.factor = 1.0
        self._anchor_real = time.time()
        self._anchor_sim = self._anchor_real

    def now(self) -> float:
        with self._lock:
            if self.mode == "stepped":
                return self._anchor_sim
            return self._anchor_sim + (time.time() - self._anchor_real) * self.factor

    def set_mode(self, mode: str, factor: float = 1.0) -> None:
        if mode not in ("real", "accelerated", "stepped"):
            raise ValueError(f"unknown clock mode {mode!r}")
        if mode == "accelerated" and factor <= 0:
            raise ValueError("factor must be positive")
        current = self.now()
        with self._lock:
            self.mode = mode
            self.factor = factor if mode == "accelerated" else 1.0
            self._anchor_real = time.time()
            self._anchor_sim = current

    def set(self, timestamp: float) -> None:
        with self._lock:
            self._anchor_real = time.time()
            self._anchor_sim = float(timestamp)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock does not go backwards")
        current = self.now()
        with self._lock:
            self._anchor_real = time.time()
            self._anchor_sim = current + seconds

    def as_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "factor": self.factor, "now": self.now()}
