"""The one definition of a fan filter: which fans of an account an operation is about.

The fan list (API and console), exports, bulk tagging and saved filters all speak this type; it can be
stored as JSON (`to_json` / `from_json`) and is evaluated in SQL by `liucun.fans.queries`.

Each field is declared here once, with its label and limits (`about(...)`); the API's query schema
(`liucun.api.schemas.FanQuery`) and the console's form (`liucun.console.forms.FanFilterForm`) are built
from these declarations. Adding a condition is one field here plus its SQL in `queries._filtered`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, get_type_hints

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liucun.refusals import Refused

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise  # a lazy translation (typing only)

Kind = Literal["bool", "text", "moment", "tag", "days"]
KINDS: dict[Any, Kind] = {bool: "bool", str: "text", datetime: "moment", int: "tag"}


class FilterError(Refused, ValueError):
    """A stored or submitted filter that cannot be read (unknown field, wrong type, over a limit).

    A refusal (liucun.refusals): wherever a filter is built, the API answers 400 and the console says
    so on the page, without each caller catching it."""

    code = "invalid_filter"
    status = 400


# Moments a filter can name: anything else is a typo or a probe, and some (an offset of +22:52 in year
# 4096) are refused by PostgreSQL itself, which would turn bad input into a server error.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MIN_OFFSET, MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)
# A number of days a filter can name (a century; more is a typo).
MAX_DAYS = 36500


@dataclass(frozen=True)
class Condition:
    """What the API schema and the console form need to know about one filter field.

    The name is the query-string parameter in the API and the console alike; how a value is written
    there follows from the kind: bool (API true/false, console 1/0), text, moment (API ISO 8601; the
    console a day, meaning its start in the deployment's time zone), tag (a Tag's primary key) and days
    (a whole number of days, 0..MAX_DAYS).
    """

    name: str
    kind: Kind
    label: StrPromise
    max_length: int | None = None
    # More than the label says, for the API's schema (English, like the rest of the API).
    help: str = ""


def about(
    label: StrPromise, *, max_length: int | None = None, kind: Kind | None = None, help: str = ""
) -> dict[str, Any]:
    """The metadata of a FanFilter field: what the API and the console need to show and check it (the
    kind follows from the field's type unless named: an int is a tag unless it is a number of days)."""
    return {"label": label, "max_length": max_length, "kind": kind, "help": help}


STAYED_HELP = (
    "how long the current follow has lasted, or for a fan who left the last one (followed_at to "
    "unfollowed_at), in days; 'left within 7 days of following' is following=false&stayed_days_max=7"
)


@dataclass(frozen=True)
class FanFilter:
    """Every set condition must hold (AND); an empty filter is every fan of the account."""

    # Declared in the order the console shows them. window_open is WeChat's customer-service window;
    # channel is Fan.channel exactly ("" for fans without one); tag is a Tag's primary key; remark is
    # contained in the fan's remark, ignoring case. stayed_days_* bound how long the current follow has
    # lasted, or the last one for a fan who left (followed_at to unfollowed_at): "left within 7 days of
    # following" is following=false with stayed_days_max=7. Fans with no known follow time never match them.
    following: bool | None = field(default=None, metadata=about(_("Following")))
    window_open: bool | None = field(default=None, metadata=about(_("48h window open")))
    channel: str | None = field(default=None, metadata=about(_("Channel"), max_length=64))
    tag: int | None = field(default=None, metadata=about(_("Tag")))
    remark: str | None = field(
        default=None,
        metadata=about(_("Remark contains"), max_length=30, help="part of the fan's remark, any case"),
    )
    followed_after: datetime | None = field(default=None, metadata=about(_("Followed from")))
    followed_before: datetime | None = field(default=None, metadata=about(_("Followed before")))
    interacted_after: datetime | None = field(default=None, metadata=about(_("Active since")))
    stayed_days_min: int | None = field(
        default=None, metadata=about(_("Stayed at least (days)"), kind="days", help=STAYED_HELP)
    )
    stayed_days_max: int | None = field(
        default=None, metadata=about(_("Stayed at most (days)"), kind="days", help=STAYED_HELP)
    )
    openid_prefix: str | None = field(default=None, metadata=about(_("OpenID starts with"), max_length=64))

    def __post_init__(self) -> None:
        # Every moment and number of days checked however it arrived (JSON, the API's query, the form).
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                object.__setattr__(self, f.name, _moment(f.name, value))
            elif f.metadata["kind"] == "days" and value is not None:
                _days(f.name, value)

    def to_json(self) -> dict[str, Any]:
        """The set fields only, datetimes as ISO 8601 (what a job or a saved filter stores)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FanFilter:
        """Read a stored or submitted filter; FilterError (with the field's name) if it is not one."""
        if not isinstance(data, dict):
            raise FilterError("a fan filter is a JSON object")
        known = {c.name: c for c in conditions()}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise FilterError(f"unknown filter field: {', '.join(map(str, unknown))}")
        return cls(**{name: _read(known[name], v) for name, v in data.items() if v is not None})

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@cache
def conditions() -> tuple[Condition, ...]:
    """The declared fields of FanFilter, in order: what the schema, the form and from_json iterate."""
    hints = get_type_hints(FanFilter)
    out = []
    for f in fields(FanFilter):
        (python_type,) = (t for t in hints[f.name].__args__ if t is not type(None))
        kind = f.metadata["kind"] or KINDS[python_type]
        meta = f.metadata
        out.append(Condition(f.name, kind, meta["label"], meta["max_length"], meta["help"]))
    return tuple(out)


def _moment(name: str, value: datetime) -> datetime:
    """The moment as given (a moment without a time zone is in the deployment's, as Django reads it),
    if it is one a filter can mean: a real-world offset, and within EARLIEST..LATEST."""
    if value.tzinfo is None:
        value = timezone.make_aware(value)
    offset = value.utcoffset()
    if offset is None or not MIN_OFFSET <= offset <= MAX_OFFSET:
        raise FilterError(f"{name}: a time zone between UTC-12:00 and UTC+14:00")
    try:
        in_bounds = EARLIEST <= value.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):
        in_bounds = False
    if not in_bounds:
        raise FilterError(f"{name}: a moment between {EARLIEST:%Y} and {LATEST:%Y}")
    return value


def _days(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise FilterError(f"{name}: a whole number of days from 0 to {MAX_DAYS}")
    return value


def _read(spec: Condition, value: Any) -> Any:
    name = spec.name
    if spec.kind == "moment":
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise FilterError(f"{name}: a date and time with its time zone (ISO 8601)")
        return parsed
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise FilterError(f"{name}: true or false")
        return value
    if spec.kind == "days":
        return _days(name, value)
    if spec.kind == "tag":
        if isinstance(value, bool) or not isinstance(value, int):
            raise FilterError(f"{name}: a tag id (a whole number)")
        return value
    if not isinstance(value, str):
        raise FilterError(f"{name}: text")
    if spec.max_length is not None and len(value) > spec.max_length:
        raise FilterError(f"{name}: at most {spec.max_length} characters")
    return value
