"""Typed errors of WeChat's HTTP API, so callers decide by kind instead of by number."""

from __future__ import annotations

from typing import Any

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
RETRYABLE_ERRCODES = frozenset({-1, 45011})
QUOTA_ERRCODES = frozenset({45009, 45028, 45047, 45056, 45057, 45059, 45029, 45065, 45066})
WINDOW_ERRCODES = frozenset({45015})


class WeChatAPIError(Exception):
    """WeChat answered with an error, or could not be reached."""

    retryable = False

    def __init__(
        self, path: str, errcode: int | None, errmsg: str, *, answer: dict[str, Any] | None = None
    ) -> None:
        self.path = path
        self.errcode = errcode
        self.errmsg = errmsg
        # The whole answer: a few refusals carry more than errcode/errmsg (45065 names the first msg_id).
        self.answer = answer or {}
        code = f" errcode {errcode}" if errcode is not None else ""
        super().__init__(f"WeChat {path}{code}: {errmsg}")


class RetryableError(WeChatAPIError):
    """Busy (-1), a rate limit, a timeout or a 5xx: the same call may succeed later."""

    retryable = True

    @property
    def not_acted_on(self) -> bool:
        """WeChat certainly did nothing: it said so (busy, rate limited), or the connection was never made.
        Only then may a call that is not idempotent (a send) be repeated without a risk of doing it twice."""
        return self.errcode in RETRYABLE_ERRCODES


class NotConnected(RetryableError):
    """The connection to WeChat was never established: the request was not sent."""

    @property
    def not_acted_on(self) -> bool:
        return True


class PermanentError(WeChatAPIError):
    """The request itself is wrong or not allowed (bad openid, missing permission, ...)."""


class QuotaError(WeChatAPIError):
    """A platform quota or limit was reached (daily quota, mass-send quota, tag limits, ...)."""


class WindowClosedError(WeChatAPIError):
    """The fan's customer-service window is closed (45015), or the fan unfollowed."""


class TokenError(WeChatAPIError):
    """The access token was refused and refreshing it did not help, or no token could be obtained."""


def error_for(path: str, errcode: int, errmsg: str, answer: dict[str, Any] | None = None) -> WeChatAPIError:
    kind: type[WeChatAPIError] = PermanentError
    if errcode in TOKEN_ERRCODES:
        kind = TokenError
    elif errcode in RETRYABLE_ERRCODES:
        kind = RetryableError
    elif errcode in WINDOW_ERRCODES:
        kind = WindowClosedError
    elif errcode in QUOTA_ERRCODES:
        kind = QuotaError
    return kind(path, errcode, errmsg, answer=answer)
