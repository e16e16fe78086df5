"""Matching a message against an account's rules: compiled once, used by the callback and by "try it".

`Matcher` holds an account's enabled rules arranged for lookup: exact keywords in a dict, "contains"
keywords and regular expressions each in one RE2 set (one linear-time pass over the text finds every
matching pattern, however many rules there are), menu keys, scenes and message types in dicts.
`candidates` returns the rules a message triggers, best first; `decide` (decision.py) then applies
validity dates and conditions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import re2

from liucun.autoreply.models import Match, Trigger
from liucun.autoreply.replies import to_reply
from liucun.autoreply.validation import PLACEHOLDER, re2_options
from liucun.events.kinds import FOLLOW, SCAN
from liucun.wechat.messages import (
    ClickEvent,
    InboundMessage,
    ScanEvent,
    SubscribeEvent,
    TextMessage,
    VoiceMessage,
)
from liucun.wechat.replies import Reply

CLICK = "event.click"


@dataclass(frozen=True)
class Probe:
    """What matching needs from a message: its kind and the text, scene or menu key it carries."""

    kind: str
    text: str = ""
    scene: str | None = None
    key: str = ""

    @property
    def is_message(self) -> bool:
        return not self.kind.startswith("event.")


def probe_of(message: InboundMessage) -> Probe:
    if isinstance(message, TextMessage):
        return Probe(message.kind, text=message.content)
    if isinstance(message, VoiceMessage) and message.recognition:
        # Speech recognition's text answers like a typed message; the voice rules still apply after.
        return Probe(message.kind, text=message.recognition)
    if isinstance(message, SubscribeEvent | ScanEvent):
        return Probe(message.kind, scene=message.qr_scene)
    if isinstance(message, ClickEvent):
        return Probe(message.kind, key=message.event_key)
    return Probe(message.kind)


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    trigger: str
    priority: int
    valid_from: datetime | None
    valid_until: datetime | None
    conditions: Mapping[str, Any]
    reply_mode: str
    replies: tuple[Mapping[str, str], ...]
    handoff: bool
    needs_fan: bool = field(init=False)
    needs_tags: bool = field(init=False)
    fixed: tuple[Reply, ...] | None = field(init=False)  # the built replies when none has a placeholder

    def __post_init__(self) -> None:
        placeholders = any(r["type"] == "text" and PLACEHOLDER.search(r["text"]) for r in self.replies)
        object.__setattr__(self, "needs_fan", bool(self.conditions) or placeholders)
        object.__setattr__(self, "needs_tags", bool(self.conditions.get("tags")))
        object.__setattr__(self, "fixed", None if placeholders else tuple(to_reply(r) for r in self.replies))

    @property
    def order(self) -> tuple[int, int]:
        return (-self.priority, self.id)


def fold(text: str) -> str:
    return text.strip().casefold()


class Matcher:
    def __init__(self, rows: Iterable[Mapping[str, Any]], version: int = 0) -> None:
        self.version = version
        self.rules: dict[int, CompiledRule] = {}
        self._exact: dict[str, list[CompiledRule]] = {}
        # Per trigger: the value (menu key, scene, message type) -> rules; None holds follow/scan "any".
        self._keyed: dict[str, dict[str | None, list[CompiledRule]]] = {
            t: {} for t in (Trigger.CLICK, Trigger.FOLLOW, Trigger.SCAN, Trigger.MESSAGE_TYPE)
        }
        self._listed: dict[str, list[CompiledRule]] = {Trigger.DEFAULT: [], Trigger.OUT_OF_HOURS: []}
        self._patterns: dict[str, tuple[list[str], list[CompiledRule]]] = {
            Match.CONTAINS: ([], []),
            Match.REGEX: ([], []),
        }
        for row in rows:
            self._add(row)
        buckets: list[list[CompiledRule]] = [*self._exact.values(), *self._listed.values()]
        for table in self._keyed.values():
            buckets.extend(table.values())
        for bucket in buckets:
            bucket.sort(key=lambda r: r.order)
        self.needs_tags = any(rule.needs_tags for rule in self.rules.values())
        self._contains_set = _set_of(self._patterns[Match.CONTAINS][0])
        self._regex_set = _set_of(self._patterns[Match.REGEX][0])

    def _add(self, row: Mapping[str, Any]) -> None:
        rule = CompiledRule(
            id=row["id"],
            name=row["name"],
            trigger=row["trigger"],
            priority=row["priority"],
            valid_from=row["valid_from"],
            valid_until=row["valid_until"],
            conditions=row["conditions"] or {},
            reply_mode=row["reply_mode"],
            replies=tuple(row["replies"] or ()),
            handoff=row["handoff"],
        )
        self.rules[rule.id] = rule
        trigger, values = row["trigger"], row["values"] or []
        if trigger in self._listed:
            self._listed[trigger].append(rule)
        elif trigger in self._keyed:
            table = self._keyed[trigger]
            for value in values or [None]:
                table.setdefault(value, []).append(rule)
        elif row["match"] == Match.EXACT:
            for value in values:
                self._exact.setdefault(fold(value), []).append(rule)
        else:
            patterns, owners = self._patterns[row["match"]]
            for value in values:
                patterns.append(re2.escape(fold(value)) if row["match"] == Match.CONTAINS else value)
                owners.append(rule)

    def __len__(self) -> int:
        return len(self.rules)

    def _by_text(self, text: str, found: dict[int, CompiledRule]) -> None:
        folded = fold(text)
        for rule in self._exact.get(folded, ()):
            found[rule.id] = rule
        if self._contains_set is not None:
            owners = self._patterns[Match.CONTAINS][1]
            for index in self._contains_set.Match(folded) or ():
                found[owners[index].id] = owners[index]
        if self._regex_set is not None:
            owners = self._patterns[Match.REGEX][1]
            for index in self._regex_set.Match(text) or ():
                found[owners[index].id] = owners[index]

    def candidates(self, probe: Probe) -> list[CompiledRule]:
        """Rules the message's own trigger selects (keywords, key, scene, type), best first."""
        found: dict[int, CompiledRule] = {}
        if probe.text:
            self._by_text(probe.text, found)
        fallback: list[CompiledRule] = []
        if probe.kind in (FOLLOW, SCAN):
            table = self._keyed[Trigger.FOLLOW if probe.kind == FOLLOW else Trigger.SCAN]
            for rule in table.get(probe.scene, []) if probe.scene else []:
                found[rule.id] = rule
            fallback = table.get(None, [])
        elif probe.kind == CLICK:
            for rule in self._keyed[Trigger.CLICK].get(probe.key, []):
                found[rule.id] = rule
        else:
            for rule in self._keyed[Trigger.MESSAGE_TYPE].get(probe.kind, []):
                found[rule.id] = rule
        # A welcome for the fan's own scene beats the default welcome whatever their priorities.
        best = sorted(found.values(), key=lambda r: r.order) if len(found) > 1 else list(found.values())
        return best + fallback

    def fallbacks(self, probe: Probe, open_now: bool | None) -> list[CompiledRule]:
        """For a fan's message nothing else answered: out-of-hours rules (when closed), then default."""
        if not probe.is_message:
            return []
        closed = self._listed[Trigger.OUT_OF_HOURS] if open_now is False else []
        return closed + self._listed[Trigger.DEFAULT]

    @property
    def has_out_of_hours(self) -> bool:
        return bool(self._listed[Trigger.OUT_OF_HOURS])


def _set_of(patterns: Sequence[str]) -> Any:
    if not patterns:
        return None
    # Unanchored: a pattern matches anywhere unless it anchors itself with ^ or $.
    options = re2_options()
    options.max_mem = 64 << 20  # one automaton for all of an account's patterns
    rule_set = re2.Set.SearchSet(options)
    for pattern in patterns:
        rule_set.Add(pattern)
    rule_set.Compile()
    return rule_set
