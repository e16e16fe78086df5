"""The REST API (django-ninja): OpenAPI at /api/docs, bearer tokens or a console session."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from liucun.accounts.models import OfficialAccount
from liucun.api.channel_routes import router as channel_router
from liucun.api.crm_routes import router as crm_router
from liucun.api.menu_routes import router as menu_router
from liucun.api.routes import router
from liucun.api.segment_routes import router as segment_router
from liucun.api.tag_routes import router as tag_router
from liucun.refusals import Refused
from liucun.staff.api_tokens import Principal, authenticate_key
from liucun.wechat.apierrors import WeChatAPIError
from liucun.wechat_refusals import WeChatRefused


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


def _docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The schema and the docs for anyone (LIUCUN_API_DOCS_PUBLIC) or only for a console session or an
    API token: the schema names every endpoint and parameter, which an instance may keep to its staff.
    Read per request, so the setting is what the instance runs with, not what it was imported with."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.LIUCUN_API_DOCS_PUBLIC or request.user.is_authenticated or _token_holder(request):
            return view(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return JsonResponse({"detail": "Unauthorized"}, status=401)
        return redirect_to_login(request.get_full_path())

    return guarded


def _token_holder(request: HttpRequest) -> bool:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and authenticate_key(key.strip()) is not None


api = NinjaAPI(
    title="Liucun API",
    version="1",
    description="Official accounts, fans, timelines, follower syncs, tags, the blacklist and CRM data "
    "(CSV import and export). Authenticate with "
    "`Authorization: Bearer lc_...` (an API token) or a console session.",
    auth=[TokenAuth(), ScopedSessionAuth()],
    docs_decorator=_docs_access,
    urls_namespace="api",
)
api.add_router("/", router)
api.add_router("/", crm_router)
api.add_router("/", tag_router)
api.add_router("/", segment_router)
api.add_router("/", menu_router)
api.add_router("/", channel_router)
api.add_router("/", "liucun.api.outbound_routes.router")
api.add_router("/", "liucun.api.inbox_routes.router")
api.add_router("/", "liucun.api.rule_routes.router")
api.add_router("/", "liucun.api.report_routes.router")
api.add_router("/", "liucun.api.push_routes.router")
api.add_router("/", "liucun.api.reconcile_routes.router")


@api.exception_handler(PermissionError)
def _forbidden(request: HttpRequest, exc: Exception) -> Any:
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(Refused)
def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    """Every domain refusal, in one place: its sentence, its stable code, its status. English unless the
    caller asks for a language (the console's default, Chinese, is for people, not for scripts)."""
    language = translation.get_language() if request.headers.get("Accept-Language") else "en"
    with translation.override(language):
        detail = exc.message
    return api.create_response(request, {"detail": detail, "code": exc.code}, status=exc.status)


@api.exception_handler(WeChatAPIError)
def _wechat(request: HttpRequest, exc: WeChatAPIError) -> HttpResponse:
    # A WeChat error no domain action turned into its own refusal (a busy WeChat during a tag call).
    return _refused(request, WeChatRefused(exc))
