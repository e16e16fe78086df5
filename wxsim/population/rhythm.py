"""Daily and weekly rhythms: when in the week fans follow, write, read and leave (China time).

A rhythm is a rate multiplier over the week, 168 hourly values whose mean is 1, so a rate of "n a day"
stays n a day on average and only moves within the week. The live engine and the bulk generator use
the same tables through `integral` (expected count over a span for a rate of one a day) and `place`
(the inverse: where in a span the given share of that count is reached); scalar versions serve the
live engine fan by fan, numpy versions the bulk generator. Profiles: docs/wxsim.md (calibration).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import numpy as np

HOUR = 3600.0
WEEK_HOURS = 168
# Unix time 0 is Thursday 08:00 in China (UTC+8): hours from a Monday 00:00 China time to the epoch.
_EPOCH_OFFSET_HOURS = 3 * 24 + 8
_SLOTS_PER_HOUR = 64

# Assumption shaped by Newrank's 2017 study of 431 readers' reading hours and the push times of the
# top 500 accounts (peaks 7-9, 12-13 and 20-23, trough 1-6): see docs/wxsim.md.
WAKING_HOURS = (
    0.45, 0.2, 0.1, 0.06, 0.06, 0.12, 0.4, 1.0, 1.4, 1.2, 1.1, 1.2,
    1.5, 1.3, 1.0, 1.0, 1.0, 1.1, 1.2, 1.4, 1.7, 1.9, 1.6, 0.9,
)  # fmt: skip
# Monday .. Sunday. A shop's fans visit, follow and ask more at the weekend (assumption).
SHOP_WEEK = (0.92, 0.92, 0.93, 0.95, 1.03, 1.15, 1.1)
# Reading is flatter over the week and dips at the weekend (assumption, same study).
READING_WEEK = (1.03, 1.03, 1.02, 1.02, 1.0, 0.95, 0.95)


class Rhythm:
    def __init__(self, hours: Sequence[float], weekdays: Sequence[float]) -> None:
        if len(hours) != 24 or len(weekdays) != 7:
            raise ValueError("a rhythm needs 24 hourly and 7 weekday weights")
        if min(hours) <= 0 or min(weekdays) <= 0:
            raise ValueError("rhythm weights must be positive")
        self.hours, self.weekdays = tuple(hours), tuple(weekdays)
        rates = np.array([w * h for w in self.weekdays for h in self.hours], dtype=float)
        rates *= WEEK_HOURS / rates.sum()
        cum = np.concatenate([[0.0], np.cumsum(rates)])
        cum[-1] = WEEK_HOURS  # exact, so a week is exactly 7 days of count
        self._rates, self._cum = rates, cum
        slots = np.arange(WEEK_HOURS * _SLOTS_PER_HOUR) / _SLOTS_PER_HOUR
        self._slots = np.clip(np.searchsorted(cum, slots, side="right") - 1, 0, WEEK_HOURS - 1)
        if rates.min() * _SLOTS_PER_HOUR < 1:
            raise ValueError("a rhythm's quietest hour must be at least 1/64 of its average")
        self._rates_list: list[float] = rates.tolist()
        self._cum_list: list[float] = cum.tolist()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rhythm) and (self.hours, self.weekdays) == (other.hours, other.weekdays)

    def __hash__(self) -> int:
        return hash((self.hours, self.weekdays))

    @classmethod
    def from_dict(cls, data: dict[str, Any], default: Rhythm) -> Rhythm:
        unknown = set(data) - {"hours", "weekdays"}
        if unknown:
            raise ValueError(f"unknown rhythm fields: {', '.join(sorted(unknown))}")
        return cls(
            tuple(float(x) for x in data.get("hours", default.hours)),
            tuple(float(x) for x in data.get("weekdays", default.weekdays)),
        )

    def as_dict(self) -> dict[str, list[float]]:
        return {"hours": list(self.hours), "weekdays": list(self.weekdays)}

    # --- scalar (live engine) ------------------------------------------------------------------------

    def _c(self, t: float) -> float:
        """Cumulative count in hours of unit rate from a reference Monday to unix time t."""
        x = t / HOUR + _EPOCH_OFFSET_HOURS
        week, r = divmod(x, WEEK_HOURS)
        b = int(r)
        return week * WEEK_HOURS + self._cum_list[b] + (r - b) * self._rates_list[b]

    def integral(self, a: float, b: float) -> float:
        """Expected count over [a, b) for a rate of one a day."""
        return (self._c(b) - self._c(a)) / 24.0 if b > a else 0.0

    def place(self, a: float, b: float, share: float) -> float:
        """The time in [a, b) where `share` (0..1) of the span's count is reached."""
        ca = self._c(a)
        return min(max(self._inverse(ca + share * (self._c(b) - ca)), a), b)

    def after(self, a: float, count: float) -> float:
        """The time from which a rate of one a day, starting at a, has reached `count`."""
        return self._inverse(self._c(a) + count * 24.0)

    def _inverse(self, c: float) -> float:
        week, rem = divmod(c, WEEK_HOURS)
        cum = self._cum_list
        i = min(max(bisect.bisect_right(cum, rem) - 1, 0), WEEK_HOURS - 1)
        return (week * WEEK_HOURS + i + (rem - cum[i]) / self._rates_list[i] - _EPOCH_OFFSET_HOURS) * HOUR

    # --- numpy (bulk) --------------------------------------------------------------------------------

    def cumulative(self, t: np.ndarray) -> np.ndarray:
        x = np.asarray(t, dtype=float) / HOUR + _EPOCH_OFFSET_HOURS
        week = np.floor(x / WEEK_HOURS)
        r = x - week * WEEK_HOURS
        b = np.minimum(r.astype(np.int64), WEEK_HOURS - 1)
        return week * WEEK_HOURS + self._cum[b] + (r - b) * self._rates[b]

    def integrals(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(self.cumulative(b) - self.cumulative(a), 0.0) / 24.0

    def places(self, a: np.ndarray, b: np.ndarray, share: np.ndarray) -> np.ndarray:
        ca = self.cumulative(a)
        return np.clip(self._inverses(ca + share * (self.cumulative(b) - ca)), a, b)

    def places_within(self, ca: np.ndarray, cb: np.ndarray | float, share: np.ndarray) -> np.ndarray:
        """`places` for spans given by their cumulative counts (cumulative(a), cumulative(b))."""
        return self._inverses(ca + share * (cb - ca))

    def afters(self, a: np.ndarray, count: np.ndarray) -> np.ndarray:
        return self._inverses(self.cumulative(a) + count * 24.0)

    def _inverses(self, c: np.ndarray) -> np.ndarray:
        week = np.floor(c / WEEK_HOURS)
        rem = c - week * WEEK_HOURS
        # A lookup grid finer than the narrowest hour: at most one bin boundary per slot.
        i = self._slots[np.minimum((rem * _SLOTS_PER_HOUR).astype(np.int64), len(self._slots) - 1)]
        i += rem >= self._cum[i + 1]
        np.minimum(i, WEEK_HOURS - 1, out=i)
        r = i + (rem - self._cum[i]) / self._rates[i]
        return (week * WEEK_HOURS + r - _EPOCH_OFFSET_HOURS) * HOUR


FOLLOWS = Rhythm(WAKING_HOURS, SHOP_WEEK)
MESSAGES = Rhythm(WAKING_HOURS, SHOP_WEEK)
READS = Rhythm(WAKING_HOURS, READING_WEEK)
FLAT = Rhythm((1.0,) * 24, (1.0,) * 7)


def rhythms(data: dict[str, Any]) -> dict[str, Rhythm]:
    """A scenario's `rhythm` object: optional overrides of the follows, messages and reads rhythms."""
    defaults = {"follows": FOLLOWS, "messages": MESSAGES, "reads": READS}
    unknown = set(data) - set(defaults)
    if unknown:
        raise ValueError(f"unknown rhythms: {', '.join(sorted(unknown))}")
    return {k: Rhythm.from_dict(data[k], v) if k in data else v for k, v in defaults.items()}
