"""Account scoping for every console page: one decorator, so a new page cannot forget the check.

An account the user holds no role on does not exist for them (404, the same answer as a wrong appid, so
appids cannot be probed); a role too low for the page is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django_htmx.middleware import HtmxDetails

from liucun.accounts.models import OfficialAccount
from liucun.staff.models import ROLE_RANK, Role
from liucun.staff.permissions import role_on

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
            return view(request, account, *args, **kwargs)

        wrapper.minimum_role = minimum  # type: ignore[attr-defined]
        return wrapper

    return decorate
