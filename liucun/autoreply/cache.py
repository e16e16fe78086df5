"""Each process's compiled matchers, one per account, kept in step with the database within a second.

Every write to an account's rules bumps `RuleSet.version` in its own transaction. A process re-reads
that one indexed row at most once per CHECK_SECONDS per account and recompiles when it moved, so a
change is seen everywhere within about a second while a busy callback pays one tiny query a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from liucun.autoreply.matcher import Matcher

CHECK_SECONDS = 1.0
RULE_FIELDS = (
    "id",
    "name",
    "trigger",
    "match",
    "values",
    "conditions",
    "valid_from",
    "valid_until",
    "priority",
    "reply_mode",
    "replies",
    "handoff",
)
EMPTY = Matcher((), version=0)


def load_matcher(account_id: int, version: int) -> Matcher:
    from liucun.autoreply.models import Rule

    rows = Rule.objects.filter(account_id=account_id, enabled=True).values(*RULE_FIELDS)
    return Matcher(rows, version=version)


def read_version(account_id: int) -> int:
    from liucun.autoreply.models import RuleSet

    return RuleSet.objects.filter(account_id=account_id).values_list("version", flat=True).first() or 0


class MatcherCache:
    def __init__(
        self,
        check_seconds: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        load: Callable[[int, int], Matcher] = load_matcher,
    ) -> None:
        self.check_seconds = check_seconds
        self.clock = clock
        self.load = load
        self._entries: dict[int, tuple[float, Matcher]] = {}
        self._lock = threading.Lock()
        self.compiles = 0

    def get(self, account_id: int, version_of: Callable[[int], int] = read_version) -> Matcher:
        now = self.clock()
        entry = self._entries.get(account_id)
        if entry is not None and entry[0] > now:
            return entry[1]
        version = version_of(account_id)
        if entry is not None and entry[1].version == version:
            matcher = entry[1]
        elif version == 0:
            matcher = EMPTY  # never had a rule: nothing to compile
        else:
            matcher = self.load(account_id, version)
            self.compiles += 1
        with self._lock:
            self._entries[account_id] = (now + self.check_seconds, matcher)
        return matcher

    def fresh(self, account_id: int) -> Matcher | None:
        """The account's matcher if it was checked within the interval, else None: never a query, for
        deciding a batch's replies before its transaction (inbound/actions.py)."""
        entry = self._entries.get(account_id)
        return entry[1] if entry is not None and entry[0] > self.clock() else None

    def forget(self, account_id: int | None = None) -> None:
        with self._lock:
            if account_id is None:
                self._entries.clear()
            else:
                self._entries.pop(account_id, None)


matchers = MatcherCache()
