"""The rules for a fan's remark and custom attributes, shared by single edits, imports and exports.

Pure functions, no database: every path that writes attributes applies the same checks, so a value that
one path accepts is never refused by another (and an export can always be imported back).
"""

from __future__ import annotations

import re

REMARK_MAX = 30  # WeChat's limit for user/info/updateremark, in characters
MAX_ATTRIBUTES = 50  # per fan
KEY_MAX = 40
VALUE_MAX = 200
PHONE_KEY = "phone"

# The export's fixed columns: an attribute with one of these names would make its header ambiguous.
FIXED_COLUMNS = (
    "openid",
    "unionid",
    "following",
    "channel",
    "followed_at",
    "unfollowed_at",
    "stayed_days",
    "last_interaction_at",
    "remark",
    "tags",
)
RESERVED_KEYS = frozenset(FIXED_COLUMNS)

# Letters (Chinese included), digits, "_", "-" and "."; a letter or digit first. Spaces and punctuation
# are left out so a key reads the same in a CSV header, a URL and a JSON document.
_KEY = re.compile(r"[^\W_][\w.\-]*")
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
_MAINLAND_MOBILE = re.compile(r"1\d{10}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class RuleError(ValueError):
    """A key or value that breaks a rule; the message is meant for the operator."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise RuleError("an attribute needs a name")
    if len(key) > KEY_MAX:
        raise RuleError(f"attribute name {key[:KEY_MAX]}… is longer than {KEY_MAX} characters")
    if not _KEY.fullmatch(key):
        raise RuleError(
            f"attribute name {key!r} may hold letters, Chinese characters, digits, '_', '-' and '.' only"
        )
    if key in RESERVED_KEYS:
        raise RuleError(f"{key!r} is a fan field, not an attribute name")
    return key


def clean_value(key: str, value: str) -> str:
    """The stored form of `key`'s value: one line, trimmed; phones normalised. "" means no value.

    The message of a RuleError does not name the key: the caller knows whether to say the attribute's
    name or the CSV column it came from."""
    if not isinstance(value, str):
        raise RuleError("values are text")
    # Excel keeps Alt+Enter line breaks inside a cell; one line keeps every later export flat.
    cleaned = _CONTROL.sub(" ", value).strip()
    if len(cleaned) > VALUE_MAX:
        raise RuleError(f"the value is {len(cleaned)} characters long, at most {VALUE_MAX}")
    if key == PHONE_KEY and cleaned:
        cleaned = normalise_phone(cleaned)
    return cleaned


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as its 11 digits: +86, 0086, spaces, dashes and brackets are allowed."""
    digits = _PHONE_SEPARATORS.sub("", raw)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not _MAINLAND_MOBILE.fullmatch(digits):
        raise RuleError("not a mainland mobile number (11 digits starting with 1; +86 allowed)")
    return digits


def apply_changes(current: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """The attributes after `changes` (None or "" removes a key); refuses more than MAX_ATTRIBUTES."""
    result = dict(current)
    for key, value in changes.items():
        if value:
            result[key] = value
        else:
            result.pop(key, None)
    if len(result) > MAX_ATTRIBUTES and len(result) > len(current):
        raise RuleError(f"the fan would have {len(result)} attributes, at most {MAX_ATTRIBUTES}")
    return result


def check_remark(remark: str) -> str:
    if not isinstance(remark, str):
        raise RuleError("a remark is text")
    cleaned = _CONTROL.sub(" ", remark).strip()
    if len(cleaned) > REMARK_MAX:
        raise RuleError(f"a remark is at most {REMARK_MAX} characters (WeChat's limit), not {len(cleaned)}")
    return cleaned


def escape_cell(value: str) -> str:
    """Make a spreadsheet show a cell as text, never run it as a formula (undone by unescape_cell).

    A leading quote is doubled too, so a value that really starts with one survives the round trip.
    """
    return "'" + value if value.startswith((*FORMULA_START, "'")) else value


def unescape_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith((*FORMULA_START, "'")) else value
