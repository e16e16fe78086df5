"""The callback's HTTP contract, independent of how the request arrived.

Both the Django view (inbound/views.py) and the WSGI fast path (inbound/fastpath.py) call `respond`, so
the status codes, limits and log lines are defined once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from django.conf import settings

from liucun.inbound.accounts_cache import get_callback_account
from liucun.inbound.pipeline import Answer, Refusal, handle_post, verify_get

log = logging.getLogger("liucun.callback")

_TEXT = "text/plain; charset=utf-8"


def respond(
    appid: str,
    method: str,
    query: Mapping[str, str],
    *,
    content_length: str | None,
    read_body: Callable[[int], bytes],
    remote: str,
) -> Answer:
    account = get_callback_account(appid)
    if account is None:
        log.warning(
            "callback refused appid=%s status=404 reason=unknown or inactive account remote=%s",
            appid[:40],
            remote,
        )
        return Answer(404, "unknown account", _TEXT)
    try:
        if method == "GET":
            return verify_get(account, query)
        if method == "POST":
            return handle_post(account, query, _read_body(content_length, read_body))
        return Answer(405, "method not allowed", _TEXT)
    except Refusal as refusal:
        log.warning(
            "callback refused appid=%s status=%d reason=%s remote=%s",
            appid,
            refusal.status,
            refusal.reason,
            remote,
        )
        return Answer(refusal.status, refusal.reason, _TEXT)


def _read_body(content_length: str | None, read: Callable[[int], bytes]) -> bytes:
    limit = settings.LIUCUN_CALLBACK_MAX_BODY
    try:
        declared = int(content_length or 0)
    except ValueError:
        raise Refusal(400, "Content-Length is not a number") from None
    if declared > limit:
        raise Refusal(413, f"body of {declared} bytes is over the {limit}-byte limit")
    body = read(min(declared, limit + 1)) if declared else read(limit + 1)
    if len(body) > limit:
        raise Refusal(413, f"body is over the {limit}-byte limit")
    if not body:
        raise Refusal(400, "empty body")
    return body
