"""Tags' refusals: our own limit checks, and WeChat's refusals of tag calls in the operator's words.

The calls themselves are liucun.wechat.api.tags; the words for WeChat's codes are the one table in
liucun/wechat_refusals.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext_lazy as _

from liucun.refusals import Refused
from liucun.wechat.api.tags import BLACKLIST_PER_CALL, MEMBERS_PER_CALL
from liucun.wechat.apierrors import WeChatAPIError
from liucun.wechat_refusals import WeChatRefused

__all__ = ["BLACKLIST_PER_CALL", "MEMBERS_PER_CALL", "TagError", "unique_openids", "wechat_refusal"]


class TagError(Refused):
    """A tag change refused, by our own limit check or by WeChat, with a reason an operator can act on."""

    code = "tags.refused"
    wechat_error: WeChatAPIError | None = None

    @classmethod
    def from_wechat(cls, exc: WeChatAPIError) -> TagError:
        said = WeChatRefused(exc)
        error = cls(said.templates, said.params, code=said.code, status=said.status)
        error.wechat_error = exc
        return error


@contextmanager
def wechat_refusal() -> Iterator[None]:
    """WeChat's refusals of the calls inside become TagErrors; a busy or unreachable WeChat stays a
    WeChatAPIError, for jobs to retry."""
    try:
        yield
    except WeChatAPIError as exc:
        if exc.retryable or exc.errcode is None:
            raise
        raise TagError.from_wechat(exc) from exc


def unique_openids(openids: list[str]) -> list[str]:
    """The openids of a members call, trimmed, without blanks or repeats, in their order."""
    unique = list(dict.fromkeys(o.strip() for o in openids if o and o.strip()))
    if not unique:
        raise TagError(_("No fans given."))
    return unique
