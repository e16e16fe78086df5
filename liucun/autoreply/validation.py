"""Checking a rule before it is saved: WeChat's limits, RE2's limits, the shape of every field.

`clean_rule` turns submitted data (console form, API body, an import file) into the model's field values
or raises RuleInvalid naming the field at fault (`replies[2].text`), so nothing half-valid is stored.
Limits WeChat documents are used as documented; where it documents none, the conservative choice is
written next to the constant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import re2
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from liucun.autoreply.models import Match, ReplyMode, Trigger
from liucun.refusals import Refused
from liucun.wechat.replies import TEXT_MAX_BYTES

NAME_MAX = 60
VALUES_MAX = 50
KEYWORD_MAX_CHARS = 30  # the WeChat backend's own keyword editor stops at 30 characters
PATTERN_MAX_CHARS = 200
PROGRAM_MAX_SIZE = 2000  # RE2 program size: (a|b){0,200} style patterns that explode are refused
MENU_KEY_MAX_BYTES = 128  # a click button's key
SCENE_MAX_CHARS = 64  # QR_LIMIT_STR_SCENE's scene_str
MEDIA_ID_MAX = 128
REPLIES_MAX = 5
# A news article's title and description: WeChat cuts longer ones in the chat bubble; 64 and 120 are the
# limits of its own article editor (title, digest), the conservative bound for a reply.
NEWS_TITLE_MAX = 64
NEWS_DESCRIPTION_MAX = 120
URL_MAX = 1024
VIDEO_TITLE_MAX = 64
VIDEO_DESCRIPTION_MAX = 120
TAGS_MAX = 20
NEW_WITHIN_MAX_DAYS = 3650
MESSAGE_TYPES = ("image", "voice", "video", "shortvideo", "location", "link")
CONTENT_TYPES = ("text", "image", "voice", "video", "news")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]{1,64}))?\}")
KNOWN_PLACEHOLDERS = {"remark": False, "channel": False, "attr": True}  # name -> takes an argument
_MEDIA_ID = re.compile(r"[A-Za-z0-9_\-]{1,128}")
_URL = re.compile(r"https?://[^\s]+")


class RuleInvalid(Refused):
    code = "rule_invalid"

    def __init__(self, field: str, problem: Any, params: Mapping[str, Any] | None = None) -> None:
        self.field = field
        super().__init__(_("%(field)s: %(problem)s"), {"field": field, "problem": _Later(problem, params)})


class _Later:
    """A lazily translated problem with its own parameters, rendered inside the outer message."""

    def __init__(self, template: Any, params: Mapping[str, Any] | None) -> None:
        self.template, self.params = template, dict(params or {})

    def __str__(self) -> str:
        return str(self.template) % self.params if self.params else str(self.template)


def re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is an answer to the operator, not a log line
    options.max_mem = 1 << 20
    return options


def check_pattern(field: str, pattern: str) -> None:
    if "\x00" in pattern:
        raise RuleInvalid(field, _("contains a NUL character."))
    if len(pattern) > PATTERN_MAX_CHARS:
        raise RuleInvalid(field, _("a pattern is at most %(n)d characters."), {"n": PATTERN_MAX_CHARS})
    try:
        compiled = re2.compile(pattern, re2_options())
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise RuleInvalid(field, _("this pattern cannot be used (%(reason)s)."), {"reason": reason}) from None
    if compiled.programsize > PROGRAM_MAX_SIZE:
        raise RuleInvalid(
            field,
            _("this pattern is too large to run on every message (size %(size)d, at most %(n)d)."),
            {"size": compiled.programsize, "n": PROGRAM_MAX_SIZE},
        )


def _text(field: str, value: Any, *, limit: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise RuleInvalid(field, _("give text."))
    value = value.strip()
    if "\x00" in value:
        raise RuleInvalid(field, _("contains a NUL character."))
    if required and not value:
        raise RuleInvalid(field, _("cannot be empty."))
    if len(value) > limit:
        raise RuleInvalid(
            field, _("at most %(n)d characters, this is %(len)d."), {"n": limit, "len": len(value)}
        )
    return value


def _url(field: str, value: Any, *, required: bool) -> str:
    text = _text(field, value if value is not None else "", limit=URL_MAX, required=required)
    if text and not _URL.fullmatch(text):
        raise RuleInvalid(field, _("give an http:// or https:// address."))
    return text


def clean_text_reply(field: str, value: Any) -> str:
    text = _text(field, value, limit=10_000)
    size = len(text.encode("utf-8"))
    if size > TEXT_MAX_BYTES:
        raise RuleInvalid(
            field,
            _("a text reply is at most %(n)d bytes (UTF-8; a Chinese character takes 3), this is %(size)d."),
            {"n": TEXT_MAX_BYTES, "size": size},
        )
    for found in PLACEHOLDER.finditer(text):
        name, argument = found.group(1), found.group(2)
        if name not in KNOWN_PLACEHOLDERS or KNOWN_PLACEHOLDERS[name] != (argument is not None):
            raise RuleInvalid(
                field,
                _("unknown placeholder %(placeholder)s; use {remark}, {channel} or {attr:NAME}."),
                {"placeholder": found.group(0)},
            )
    return text


def clean_content(field: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise RuleInvalid(field, _("give an object with a type."))
    kind = value.get("type")
    if kind not in CONTENT_TYPES:
        raise RuleInvalid(f"{field}.type", _("one of %(types)s."), {"types": ", ".join(CONTENT_TYPES)})
    if kind == "text":
        return {"type": "text", "text": clean_text_reply(f"{field}.text", value.get("text"))}
    if kind == "news":
        return {
            "type": "news",
            "title": _text(f"{field}.title", value.get("title"), limit=NEWS_TITLE_MAX),
            "description": _text(
                f"{field}.description",
                value.get("description", ""),
                limit=NEWS_DESCRIPTION_MAX,
                required=False,
            ),
            "url": _url(f"{field}.url", value.get("url"), required=True),
            "picurl": _url(f"{field}.picurl", value.get("picurl", ""), required=False),
        }
    media_id = value.get("media_id")
    if not isinstance(media_id, str) or not _MEDIA_ID.fullmatch(media_id.strip()):
        raise RuleInvalid(f"{field}.media_id", _("give the media id WeChat returned for the upload."))
    content = {"type": kind, "media_id": media_id.strip()}
    if kind == "video":
        content["title"] = _text(
            f"{field}.title", value.get("title", ""), limit=VIDEO_TITLE_MAX, required=False
        )
        content["description"] = _text(
            f"{field}.description", value.get("description", ""), limit=VIDEO_DESCRIPTION_MAX, required=False
        )
    return content


def _value(trigger: str, match: str, field: str, value: str) -> str:
    if trigger == Trigger.KEYWORD and match == Match.REGEX:
        if not value:
            raise RuleInvalid(field, _("cannot be empty."))
        check_pattern(field, value)
        return value
    if trigger == Trigger.KEYWORD:
        return _text(field, value, limit=KEYWORD_MAX_CHARS)
    if trigger == Trigger.CLICK:
        key = _text(field, value, limit=MENU_KEY_MAX_BYTES)
        if len(key.encode("utf-8")) > MENU_KEY_MAX_BYTES:
            raise RuleInvalid(field, _("a menu key is at most %(n)d bytes."), {"n": MENU_KEY_MAX_BYTES})
        return key
    if trigger == Trigger.MESSAGE_TYPE and value not in MESSAGE_TYPES:
        raise RuleInvalid(field, _("one of %(types)s."), {"types": ", ".join(MESSAGE_TYPES)})
    return _text(field, value, limit=SCENE_MAX_CHARS)


def _values(trigger: str, match: str, raw: Any) -> list[str]:
    raw = [] if raw is None else raw
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise RuleInvalid("values", _("give a list of texts."))
    if len(raw) > VALUES_MAX:
        raise RuleInvalid("values", _("at most %(n)d values."), {"n": VALUES_MAX})
    if trigger in (Trigger.DEFAULT, Trigger.OUT_OF_HOURS):
        if raw:
            raise RuleInvalid("values", _("this trigger takes no values."))
        return []
    values = [_value(trigger, match, f"values[{i}]", v) for i, v in enumerate(raw, start=1)]
    if trigger in (Trigger.KEYWORD, Trigger.CLICK, Trigger.MESSAGE_TYPE) and not values:
        raise RuleInvalid("values", _("this trigger needs at least one value."))
    return list(dict.fromkeys(values))


def _tags(raw: Any, tag_ids: Iterable[int]) -> list[int]:
    known = set(tag_ids)
    if not isinstance(raw, list) or len(raw) > TAGS_MAX:
        raise RuleInvalid("conditions.tags", _("give at most %(n)d tag ids."), {"n": TAGS_MAX})
    for index, tag in enumerate(raw, start=1):
        if not isinstance(tag, int) or isinstance(tag, bool) or tag not in known:
            raise RuleInvalid(f"conditions.tags[{index}]", _("not a tag of this account."))
    return sorted(set(raw))


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise RuleInvalid(field, _("true or false."))
    return value


def _conditions(raw: Any, tag_ids: Iterable[int]) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise RuleInvalid("conditions", _("give an object."))
    unknown = set(raw) - {"tags", "channels", "new_within_days", "window_open"}
    if unknown:
        raise RuleInvalid("conditions", _("unknown condition %(name)s."), {"name": sorted(unknown)[0]})
    out: dict[str, Any] = {}
    tags = raw.get("tags") or []
    if tags:
        out["tags"] = _tags(tags, tag_ids)
    channels = raw.get("channels") or []
    if channels:
        if not isinstance(channels, list) or len(channels) > VALUES_MAX:
            raise RuleInvalid("conditions.channels", _("give a list of channels."))
        out["channels"] = [
            _text(f"conditions.channels[{i}]", c, limit=SCENE_MAX_CHARS)
            for i, c in enumerate(channels, start=1)
        ]
    days = raw.get("new_within_days")
    if days is not None:
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= NEW_WITHIN_MAX_DAYS:
            raise RuleInvalid(
                "conditions.new_within_days",
                _("a whole number of days, 1 to %(n)d."),
                {"n": NEW_WITHIN_MAX_DAYS},
            )
        out["new_within_days"] = days
    if raw.get("window_open") is not None:
        out["window_open"] = _flag("conditions.window_open", raw["window_open"])
    return out


def _when(field: str, raw: Any) -> datetime | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        value: datetime | None = raw
    else:
        value = parse_datetime(raw) if isinstance(raw, str) else None
    if value is None or value.tzinfo is None:
        raise RuleInvalid(field, _("give a date and time with its zone, like 2026-12-01T09:00:00+08:00."))
    return value


def clean_rule(data: Mapping[str, Any], tag_ids: Iterable[int]) -> dict[str, Any]:
    """The model's field values for `data`, or RuleInvalid naming the first field at fault."""
    if not isinstance(data, Mapping):
        raise RuleInvalid("rule", _("give an object."))
    name = _text("name", data.get("name", ""), limit=NAME_MAX)
    trigger = data.get("trigger")
    if trigger not in Trigger.values:
        raise RuleInvalid("trigger", _("one of %(choices)s."), {"choices": ", ".join(Trigger.values)})
    match = data.get("match") or ""
    if trigger == Trigger.KEYWORD:
        if match not in Match.values:
            raise RuleInvalid("match", _("one of %(choices)s."), {"choices": ", ".join(Match.values)})
    else:
        match = ""
    values = _values(trigger, match, data.get("values"))
    reply_mode = data.get("reply_mode") or ReplyMode.RANDOM
    if reply_mode not in ReplyMode.values:
        raise RuleInvalid("reply_mode", _("one of %(choices)s."), {"choices": ", ".join(ReplyMode.values)})
    handoff = _flag("handoff", data.get("handoff", False))
    raw_replies = data.get("replies") or []
    if not isinstance(raw_replies, list) or len(raw_replies) > REPLIES_MAX:
        raise RuleInvalid("replies", _("give at most %(n)d replies."), {"n": REPLIES_MAX})
    replies = [clean_content(f"replies[{i}]", r) for i, r in enumerate(raw_replies, start=1)]
    if reply_mode == ReplyMode.SEQUENCE:
        _check_follow_ups(replies)
    if not replies and not handoff:
        raise RuleInvalid("replies", _("give at least one reply, or hand the fan to a human."))
    valid_from, valid_until = (
        _when("valid_from", data.get("valid_from")),
        _when("valid_until", data.get("valid_until")),
    )
    if valid_from and valid_until and valid_from >= valid_until:
        raise RuleInvalid("valid_until", _("must come after valid_from."))
    priority = data.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or not -1000 <= priority <= 1000:
        raise RuleInvalid("priority", _("a whole number from -1000 to 1000."))
    enabled = _flag("enabled", data.get("enabled", True))
    return {
        "name": name,
        "trigger": trigger,
        "match": match,
        "values": values,
        "conditions": _conditions(data.get("conditions"), tag_ids),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "priority": priority,
        "enabled": enabled,
        "reply_mode": reply_mode,
        "replies": replies,
        "handoff": handoff,
    }


def _check_follow_ups(replies: list[dict[str, str]]) -> None:
    """Replies after the first go out as customer-service messages: they must pass those limits too."""
    from liucun.autoreply.followups import customer_service_body
    from liucun.outbound.content import parse

    for index, content in enumerate(replies[1:], start=2):
        try:
            parse(customer_service_body(content))
        except Refused as exc:
            raise RuleInvalid(f"replies[{index}]", _Later("%(reason)s", {"reason": exc.message})) from None
