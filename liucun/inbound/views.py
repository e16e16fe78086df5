"""/wechat/<appid>/callback through Django's request handling (the test client, runserver)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from liucun.inbound.http import respond


@csrf_exempt
def callback(request: HttpRequest, appid: str) -> HttpResponse:
    answer = respond(
        appid,
        request.method or "GET",
        {key: request.GET.get(key, "") for key in request.GET},
        content_length=request.META.get("CONTENT_LENGTH"),
        read_body=request.read,
        remote=request.META.get("REMOTE_ADDR", "?"),
    )
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    if answer.status == 405:
        response["Allow"] = "GET, POST"
    return response
