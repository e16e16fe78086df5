"""Account scoping for every console page: one decorator, so a new page cannot forget the check.

An account the user holds no role on does not exist for them (404, the same answer as a wrong appid, so
appids cannot be probed); a role too low for the page is 403.

The same decorator is where a refused operation (liucun.refusals.Refused, or a WeChat error no action
turned into one) becomes a message on the page the operator came from: views do not catch domain
errors by name.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from liucun.accounts.models import OfficialAccount
from liucun.refusals import Refused
from liucun.staff.models import ROLE_RANK, Role
from liucun.staff.permissions import role_on
from liucun.wechat.apierrors import WeChatAPIError
from liucun.wechat_refusals import WeChatRefused

View = Callable[..., HttpResponseBase]


class ConsoleRequest(HttpRequest):
    """What a console view receives: login_required and account_page guarantee these."""

    user: AbstractBaseUser  # type: ignore[assignment]
    htmx: HtmxDetails
    account: OfficialAccount
    role: Role


def account_page(minimum: Role) -> Callable[[View], View]:
    """Decorate a view taking `appid`: it receives `account` instead, and request.role is set."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, appid: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            account = OfficialAccount.objects.filter(appid=appid).first()
            role = role_on(request.user, account) if account is not None else None
            if account is None or role is None:
                raise Http404("no such account")
            if ROLE_RANK[role] < ROLE_RANK[minimum]:
                raise PermissionDenied(f"needs the {minimum.value} role on this account")
            request.account, request.role = account, role  # type: ignore[attr-defined]  # see ConsoleRequest
            try:
                return view(request, account, *args, **kwargs)
            except WeChatAPIError as exc:
                return refused(request, account, WeChatRefused(exc))
            except Refused as exc:
                return refused(request, account, exc)

        wrapper.minimum_role = minimum  # type: ignore[attr-defined]
        return wrapper

    return decorate


def refused(request: HttpRequest, account: OfficialAccount, exc: Refused) -> HttpResponseRedirect:
    """The refusal as a message, back on the page the operator acted from (the form's `next`, else the
    referring page of this site, else the account's overview). Nothing was changed."""
    messages.error(request, exc.message)
    here = (request.path, request.build_absolute_uri())
    for target in (request.POST.get("next", ""), request.headers.get("Referer", "")):
        # Never back to the page that refused (a page refusing on GET would redirect to itself forever).
        safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
        if target and safe and target not in here:
            return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse("console:overview", kwargs={"appid": account.appid}))
