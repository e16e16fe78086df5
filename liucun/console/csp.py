"""The Content-Security-Policy of the console's pages.

Scripts only from our own origin (htmx, ECharts and console/*.js are all served from static files), no
inline script or event-handler attributes (page behaviours are data- attributes read by
console/behaviours.js), nothing may frame the console, and forms post only back to it. Inline styles stay
allowed: ECharts and htmx swaps set element styles, and a style cannot run code. The REST API's
interactive docs (/api/docs) and Django's admin keep their own pages and are not covered here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
UNCOVERED = ("/api/", "/admin/", "/wechat/", "/static/")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path_info.startswith(UNCOVERED):
            response.setdefault("Content-Security-Policy", POLICY)
        return response
