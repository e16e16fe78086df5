"""The one definition of a fan filter: which fans of an account an operation is about.

The fan list (API and console), exports, bulk tagging and saved filters all speak this type; it can be
stored as JSON (`to_json` / `from_json`) and is evaluated in SQL by `liucun.fans.queries`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any


class FilterError(ValueError):
    """A stored or submitted filter that cannot be read (unknown field, wrong type)."""


@dataclass(frozen=True)
class FanFilter:
    following: bool | None = None
    channel: str | None = None
    window_open: bool | None = None
    followed_after: datetime | None = None
    followed_before: datetime | None = None
    interacted_after: datetime | None = None
    openid_prefix: str | None = None
    tag: int | None = None  # a Tag's primary key: fans carrying it

    def to_json(self) -> dict[str, Any]:
        """The set fields only, datetimes as ISO 8601 (what a job or a saved filter stores)."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is None:
                continue
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FanFilter:
        if not isinstance(data, dict):
            raise FilterError("a fan filter is a JSON object")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise FilterError(f"unknown filter field: {', '.join(unknown)}")
        return cls(
            **{name: _read(name, str(known[name].type), v) for name, v in data.items() if v is not None}
        )


def _read(name: str, kind: str, value: Any) -> Any:
    if "datetime" in kind:
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise FilterError(f"{name}: a date and time with its time zone (ISO 8601)")
        return parsed
    if "bool" in kind:
        if not isinstance(value, bool):
            raise FilterError(f"{name}: true or false")
        return value
    if "int" in kind:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FilterError(f"{name}: a whole number")
        return value
    if not isinstance(value, str):
        raise FilterError(f"{name}: text")
    return value
