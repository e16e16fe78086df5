"""What else a fan's export and erasure reach: data other apps keep about the fan.

Apps that keep what was said to or by a fan register here, since the fans app cannot import them: the
outbound log exports and blanks the messages sent to the fan (liucun/outbound/privacy.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EraseHook = Callable[[int, str], int]
ExportHook = Callable[[int, str], list[dict[str, Any]]]
_erasers: list[EraseHook] = []
_exporters: dict[str, ExportHook] = {}


def on_erase(hook: EraseHook) -> EraseHook:
    """Register `hook(account_id, openid)`, returning how many rows it blanked (twice is harmless)."""
    if hook not in _erasers:
        _erasers.append(hook)
    return hook


def on_export(name: str, hook: ExportHook) -> ExportHook:
    """Register `hook(account_id, openid)`, giving the rows an export lists under `name`."""
    _exporters[name] = hook
    return hook


def erased(account_id: int, openid: str) -> int:
    """Called by the erasure, in its transaction; how many rows the hooks blanked."""
    return sum(hook(account_id, openid) for hook in _erasers)


def exported(account_id: int, openid: str) -> dict[str, list[dict[str, Any]]]:
    """Called by the export: each registered app's rows about the fan, by name."""
    return {name: hook(account_id, openid) for name, hook in sorted(_exporters.items())}
