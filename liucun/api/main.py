"""The REST API (django-ninja): OpenAPI at /api/docs, bearer tokens or a console session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from liucun.accounts.models import OfficialAccount
from liucun.api.crm_routes import router as crm_router
from liucun.api.routes import router
from liucun.api.tag_routes import router as tag_router
from liucun.staff.api_tokens import Principal, authenticate_key


def _in_scope(request: HttpRequest, who: Principal) -> Principal:
    """An account the caller holds no role on does not exist: 404 before anything else, even before the
    body is validated (else a 422 would answer first). The role each endpoint needs is checked by
    liucun.api.scope.account_for (403)."""
    match = request.resolver_match
    appid = match.kwargs.get("appid") if match is not None else None
    if appid is not None:
        account = OfficialAccount.objects.filter(appid=appid).first()
        if account is None or who.role(account) is None:
            raise HttpError(404, "no such account")
    return who


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        who = authenticate_key(token)
        return _in_scope(request, who) if who is not None else None


class ScopedSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return _in_scope(request, Principal(user)).user if user is not None else None


api = NinjaAPI(
    title="Liucun API",
    version="1",
    description="Official accounts, fans, timelines, follower syncs, tags, the blacklist and CRM data "
    "(CSV import and export). Authenticate with "
    "`Authorization: Bearer lc_...` (an API token) or a console session.",
    auth=[TokenAuth(), ScopedSessionAuth()],
    urls_namespace="api",
)
api.add_router("/", router)
api.add_router("/", crm_router)
api.add_router("/", tag_router)


@api.exception_handler(PermissionError)
def _forbidden(request: HttpRequest, exc: Exception) -> Any:
    return api.create_response(request, {"detail": str(exc)}, status=403)
