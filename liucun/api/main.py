"""The REST API (django-ninja): OpenAPI at /api/docs, bearer tokens or a console session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer, django_auth

from liucun.api.crm_routes import router as crm_router
from liucun.api.routes import router
from liucun.staff.api_tokens import Principal, authenticate_key


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        return authenticate_key(token)


api = NinjaAPI(
    title="Liucun API",
    version="1",
    description="Official accounts, fans, timelines, follower syncs and CRM data (CSV import and export). "
    "Authenticate with `Authorization: Bearer lc_...` (an API token) or a console session.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
)
api.add_router("/", router)
api.add_router("/", crm_router)


@api.exception_handler(PermissionError)
def _forbidden(request: HttpRequest, exc: Exception) -> Any:
    return api.create_response(request, {"detail": str(exc)}, status=403)
