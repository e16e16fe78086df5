"""A WSGI wrapper that answers WeChat callbacks without Django's request machinery.

The callback is a machine-to-machine endpoint authenticated by its own signatures: it needs no
sessions, CSRF, auth or messages middleware, and at thousands of requests a second Django's handler
and middleware would cost more than the work itself (ADR 11). Every other path goes to Django.
Behaviour is identical to the Django view because both call inbound.http.respond.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from django.db import close_old_connections

from liucun.inbound.http import respond

_CALLBACK = re.compile(r"^/wechat/([^/]{1,64})/callback/?$")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    503: "Service Unavailable",
}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CallbackFastPath:
    def __init__(self, django_app: WSGIApp) -> None:
        self.django_app = django_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = _CALLBACK.match(environ.get("PATH_INFO", ""))
        if match is None:
            return self.django_app(environ, start_response)
        stream = environ["wsgi.input"]
        try:
            answer = respond(
                match.group(1),
                environ.get("REQUEST_METHOD", "GET"),
                dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
                content_length=environ.get("CONTENT_LENGTH"),
                read_body=stream.read,
                remote=environ.get("REMOTE_ADDR", "?"),
            )
        except Exception:
            # Drop a connection that may be broken so the next request starts clean, then let the
            # server turn the error into a 500 (WeChat retries, and retries are deduplicated).
            close_old_connections()
            raise
        body = answer.body.encode("utf-8")
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(body)))]
        if answer.status == 405:
            headers.append(("Allow", "GET, POST"))
        start_response(f"{answer.status} {_REASONS.get(answer.status, 'Error')}", headers)
        return [body]
