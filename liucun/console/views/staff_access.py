"""Staff access: invitations to an account (admins), redeeming one, and each user's own API tokens."""

from __future__ import annotations

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.scope import ConsoleRequest, account_page
from liucun.staff.api_tokens import create_api_token, revoke_api_token, tokens_of
from liucun.staff.invitations import accept_invitation, create_invitation, open_invitation, revoke_invitation
from liucun.staff.models import Invitation, Membership, Role
from liucun.staff.permissions import accounts_visible_to
from liucun.staff.refusals import StaffRefused
from liucun.staff.users import create_user


def staff_context(account: OfficialAccount) -> dict[str, object]:
    members = Membership.objects.filter(account=account).select_related("user").order_by("user__username")
    invitations = Invitation.objects.filter(
        account=account, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("created_by")
    return {"members": members, "roles": Role.choices, "invitations": invitations.order_by("-created_at")}


@account_page(Role.ADMIN)
@require_POST
@never_cache
def invite(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    role = request.POST.get("role", "")
    if role not in Role.values:
        messages.error(request, _("Unknown role."))
        return redirect("console:staff", appid=account.appid)
    invitation, key = create_invitation(request.user, account, Role(role), request.POST.get("note", ""))
    # The link is shown on this one answer and never again: only its hash is stored.
    link = request.build_absolute_uri(reverse("console:invitation", kwargs={"key": key}))
    context = {**staff_context(account), "new_link": link, "new_invitation": invitation}
    return render(request, "console/staff.html", context)


@account_page(Role.ADMIN)
@require_POST
def invitation_revoke(request: ConsoleRequest, account: OfficialAccount, invitation_id: int) -> HttpResponse:
    if revoke_invitation(request.user, account, invitation_id):
        messages.success(request, _("Invitation withdrawn."))
    else:
        messages.error(request, _("That invitation cannot be withdrawn."))
    return redirect("console:staff", appid=account.appid)


@never_cache
def invitation(request: HttpRequest, key: str) -> HttpResponse:
    """Redeem an invitation: logged in, accept it; otherwise make a login here (or log in first)."""
    found = open_invitation(key)
    if found is None:
        return render(request, "console/invitation.html", {"gone": True}, status=404)
    context: dict[str, object] = {"invitation": found, "key": key}
    if request.method != "POST":
        return render(request, "console/invitation.html", context)
    try:
        if not request.user.is_authenticated:
            _sign_up(request)
        membership = accept_invitation(key, request.user)
    except ValidationError as exc:
        context["errors"] = [m for problems in exc.message_dict.values() for m in problems]
        context["username"] = request.POST.get("username", "")
        return render(request, "console/invitation.html", context, status=400)
    except StaffRefused as exc:
        gone = {"gone": True, "reason": exc.message}
        return render(request, "console/invitation.html", gone, status=404)
    welcome = _("Welcome! You are now %(role)s of %(account)s.")
    messages.success(
        request, welcome % {"role": membership.get_role_display(), "account": found.account.name}
    )
    return redirect("console:overview", appid=found.account.appid)


def _sign_up(request: HttpRequest) -> None:
    """A new login from the invitation form, logged in at once."""
    password = request.POST.get("password", "")
    if password != request.POST.get("password2"):
        raise ValidationError({"password2": [_("The two passwords differ.")]})
    user = create_user("invitation", request.POST.get("username", ""), password)
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")


@login_required
@never_cache
def api_tokens(request: HttpRequest) -> HttpResponse:
    accounts = list(accounts_visible_to(request.user).order_by("name"))
    context: dict[str, object] = {"roles": Role.choices, "accounts": accounts}
    if request.method == "POST":
        chosen = set(request.POST.getlist("accounts"))
        role = request.POST.get("max_role", "")
        try:
            if role not in Role.values:
                raise StaffRefused(_("Unknown role."))
            token, key = create_api_token(
                request.user,
                request.POST.get("name", ""),
                max_role=Role(role),
                accounts=[a for a in accounts if a.appid in chosen],
            )
        except StaffRefused as exc:
            messages.error(request, exc.message)
        else:
            # Shown on this answer only: the key is not stored, just its hash.
            context.update(new_key=key, new_token=token)
    context["tokens"] = tokens_of(request.user)
    return render(request, "console/api_tokens.html", context)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    if revoke_api_token(request.user, prefix):
        messages.success(request, _("Token revoked; it no longer works."))
    else:
        messages.error(request, _("No such token to revoke."))
    return redirect("console:api-tokens")
