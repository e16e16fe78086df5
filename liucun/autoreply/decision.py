"""From a message to an answer: which rule fires, the passive reply, follow-ups and the handoff flag.

The callback (inbound/reply_policy.py) and the console's "try it" both call `decide`, so what an
operator sees in the try-it box is what a fan gets. The fan row is read only when a candidate rule has
conditions or placeholders, so most messages cost no query beyond the event insert.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from liucun.autoreply.matcher import CompiledRule, Matcher, Probe
from liucun.autoreply.models import ReplyMode
from liucun.autoreply.replies import to_reply
from liucun.autoreply.validation import PLACEHOLDER
from liucun.wechat.replies import TEXT_MAX_BYTES, Reply, TextReply

WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class FanFacts:
    id: int | None = None
    remark: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    channel: str = ""
    followed_at: datetime | None = None
    last_message_at: datetime | None = None
    tags: frozenset[int] = frozenset()


NO_FAN = FanFacts()


@dataclass(frozen=True)
class Decision:
    reply: Reply | None = None
    rule_id: int | None = None
    handoff: bool = False
    follow_ups: tuple[Mapping[str, str], ...] = ()  # contents to send as customer-service messages
    rule_name: str = ""


NOTHING = Decision()

# (the fan's tags are needed) -> the fan's facts; called at most once per message.
FanLoader = Callable[[bool], FanFacts]


def decide(
    matcher: Matcher,
    probe: Probe,
    *,
    now: datetime,
    load_fan: FanLoader,
    is_open: Callable[[], bool],
    welcome_text: str = "",
    choose: Callable[[int], int] = random.randrange,
    label_of: Callable[[str], str] = str,
) -> Decision:
    if matcher.rules:  # most accounts have none: nothing to look up
        answered = _by_rules(
            matcher, probe, now=now, load_fan=load_fan, is_open=is_open, choose=choose, label_of=label_of
        )
        if answered is not None:
            return answered
    if probe.kind == "event.subscribe" and welcome_text.strip():
        # The account's plain welcome text answers a follow no rule took (accounts set up before rules).
        return _welcome(welcome_text)
    return NOTHING


@lru_cache(maxsize=1024)
def _welcome(text: str) -> Decision:
    return Decision(reply=TextReply(text))  # immutable: one per text, not one per follow


def _by_rules(
    matcher: Matcher,
    probe: Probe,
    *,
    now: datetime,
    load_fan: FanLoader,
    is_open: Callable[[], bool],
    choose: Callable[[int], int],
    label_of: Callable[[str], str],
) -> Decision | None:
    fan: FanFacts | None = None

    def facts() -> FanFacts:
        nonlocal fan
        if fan is None:
            fan = load_fan(matcher.needs_tags)
        return fan

    def fires(rule: CompiledRule) -> bool:
        if rule.valid_from is not None and now < rule.valid_from:
            return False
        if rule.valid_until is not None and now >= rule.valid_until:
            return False
        return not rule.conditions or _conditions_hold(rule.conditions, facts(), probe, now)

    for rule in matcher.candidates(probe):
        if fires(rule):
            return _answer(rule, facts() if rule.needs_fan else NO_FAN, probe, choose, label_of)
    if probe.is_message:
        open_now = is_open() if matcher.has_out_of_hours else None
        for rule in matcher.fallbacks(probe, open_now):
            if fires(rule):
                return _answer(rule, facts() if rule.needs_fan else NO_FAN, probe, choose, label_of)
    return None


def _conditions_hold(conditions: Mapping[str, Any], fan: FanFacts, probe: Probe, now: datetime) -> bool:
    tags = conditions.get("tags")
    if tags and not fan.tags.intersection(tags):
        return False
    channels = conditions.get("channels")
    if channels:
        # On a follow or scan the scene of this very event is the channel; the fan row is not updated yet.
        channel = probe.scene if probe.scene else fan.channel
        if channel not in channels:
            return False
    days = conditions.get("new_within_days")
    if days is not None:
        followed = fan.followed_at if probe.kind != "event.subscribe" else now
        if followed is None or now - followed > timedelta(days=days):
            return False
    window = conditions.get("window_open")
    if window is not None:
        open_ = probe.is_message or (fan.last_message_at is not None and now - fan.last_message_at < WINDOW)
        if open_ != window:
            return False
    return True


def _answer(
    rule: CompiledRule,
    fan: FanFacts,
    probe: Probe,
    choose: Callable[[int], int],
    label_of: Callable[[str], str],
) -> Decision:
    if rule.fixed is not None:
        # No placeholders: the replies were built once, when the rules were compiled.
        usable: list[Mapping[str, str]] = list(rule.replies)
        built: Sequence[Reply] = rule.fixed
    else:
        usable = [c for c in (render_content(c, fan, probe, label_of) for c in rule.replies) if c is not None]
        built = ()
    if not usable:
        return Decision(rule_id=rule.id, handoff=rule.handoff, rule_name=rule.name)
    if rule.reply_mode == ReplyMode.SEQUENCE:
        index, rest = 0, tuple(usable[1:])
    else:
        index, rest = choose(len(usable)), ()
    return Decision(
        reply=built[index] if built else to_reply(usable[index]),
        rule_id=rule.id,
        handoff=rule.handoff,
        follow_ups=rest,
        rule_name=rule.name,
    )


def fill_placeholders(text: str, fan: FanFacts, probe: Probe, label_of: Callable[[str], str] = str) -> str:
    """{remark}, {channel} (the channel's name, else its scene), {attr:NAME}; a value the fan does not
    have renders as empty text."""

    def value(found: Any) -> str:
        name, argument = found.group(1), found.group(2)
        if name == "remark":
            return fan.remark
        if name == "channel":
            scene = probe.scene or fan.channel
            return label_of(scene) if scene else ""
        if name == "attr":
            attr = fan.attributes.get(argument) if isinstance(fan.attributes, Mapping) else None
            return "" if attr is None else str(attr)
        return str(found.group(0))

    return PLACEHOLDER.sub(value, text)


def render_content(
    content: Mapping[str, str], fan: FanFacts, probe: Probe, label_of: Callable[[str], str] = str
) -> Mapping[str, str] | None:
    if content["type"] != "text":
        return content
    text = fill_placeholders(content["text"], fan, probe, label_of).strip()
    if not text:
        return None
    encoded = text.encode("utf-8")
    if len(encoded) > TEXT_MAX_BYTES:
        # Long attribute values can push a checked template over the limit: cut at a character boundary.
        text = encoded[:TEXT_MAX_BYTES].decode("utf-8", errors="ignore")
    return {"type": "text", "text": text}
