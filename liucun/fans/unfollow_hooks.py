"""What else a fan's unfollow clears, inside the transaction that records it.

Apps built on fans register here, since the fans app cannot import them: the tags app drops the fan's
tags, as WeChat itself does when a fan unfollows (liucun/tags/unfollow.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

UnfollowHook = Callable[[Sequence[int]], None]
_hooks: list[UnfollowHook] = []


def on_unfollow(hook: UnfollowHook) -> UnfollowHook:
    """Register `hook` to run with the ids of fans who just unfollowed (registering twice is harmless)."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def unfollowed(fan_ids: Sequence[int]) -> None:
    """Called by every write that turns fans from following to not following, in its transaction."""
    if fan_ids:
        for hook in _hooks:
            hook(fan_ids)
