"""/wechat/<appid>/callback: WeChat's message server endpoint."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from liucun.inbound.accounts_cache import get_callback_account
from liucun.inbound.pipeline import Answer, Refusal, handle_post, verify_get

log = logging.getLogger("liucun.callback")


@csrf_exempt
def callback(request: HttpRequest, appid: str) -> HttpResponse:
    account = get_callback_account(appid)
    if account is None:
        log.warning("callback refused appid=%s status=404 reason=unknown or inactive account", appid)
        return HttpResponse(status=404)
    query = {key: request.GET.get(key, "") for key in request.GET}
    try:
        if request.method == "GET":
            answer = verify_get(account, query)
        elif request.method == "POST":
            answer = handle_post(account, query, _read_body(request))
        else:
            return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    except Refusal as refusal:
        log.warning(
            "callback refused appid=%s status=%d reason=%s remote=%s",
            appid,
            refusal.status,
            refusal.reason,
            request.META.get("REMOTE_ADDR", "?"),
        )
        return HttpResponse(refusal.reason, status=refusal.status, content_type="text/plain; charset=utf-8")
    return _respond(answer)


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.LIUCUN_CALLBACK_MAX_BODY
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refusal(400, "Content-Length is not a number") from None
    if declared > limit:
        raise Refusal(413, f"body of {declared} bytes is over the {limit}-byte limit")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Refusal(413, f"body is over the {limit}-byte limit")
    if not body:
        raise Refusal(400, "empty body")
    return body


def _respond(answer: Answer) -> HttpResponse:
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
