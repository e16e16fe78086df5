"""Refusing before the call, with the error code WeChat would answer, so callers handle one kind of error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from liucun.wechat.apierrors import PermanentError


class LimitError(PermanentError):
    """A documented limit checked before calling WeChat: nothing was sent. `errcode` is WeChat's own."""

    checked_locally = True


def max_bytes(
    path: str, what: str, value: str, limit: int, errcode: int, *, allow_empty: bool = False
) -> str:
    size = len(value.encode("utf-8"))
    if size > limit or (not allow_empty and not value):
        raise LimitError(path, errcode, f"{what} must be 1 to {limit} bytes, is {size}")
    return value


def max_chars(path: str, what: str, value: str, limit: int, errcode: int) -> str:
    if len(value) > limit:
        raise LimitError(path, errcode, f"{what} must be at most {limit} characters, is {len(value)}")
    return value


def count_between(path: str, items: Sequence[Any], low: int, high: int, *, errcode: int) -> list[Any]:
    if not low <= len(items) <= high:
        raise LimitError(path, errcode, f"the list must hold {low} to {high}, holds {len(items)}")
    return list(items)


@dataclass(frozen=True)
class OpenidPage:
    """One page of an openid list (user/get, user/tag/get, the blacklist). `next_openid` "" = the end."""

    openids: list[str]
    next_openid: str
    total: int | None = None


def openid_page(answer: dict[str, Any]) -> OpenidPage:
    data = answer.get("data") or {}
    openids = [str(o) for o in data.get("openid", [])] if answer.get("count") else []
    total = answer.get("total")
    return OpenidPage(
        openids=openids,
        next_openid=str(answer.get("next_openid") or "") if openids else "",
        total=int(total) if total is not None else None,
    )
