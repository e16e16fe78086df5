"""The login forms of the console and of Django's admin, throttled the same way (liucun.staff.throttle).

The admin has its own login page; without this it would be a way around the console's throttling.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext as _

from liucun.staff import throttle
from liucun.staff.client_address import client_address

THROTTLED = "throttled"


class _Throttled(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        username = self.data.get("username", "")
        ip = client_address(self.request) if self.request is not None else None
        wait = throttle.locked_for(username, ip)
        if wait:
            minutes = max(1, round(wait / 60))
            raise forms.ValidationError(
                _("Too many failed logins. Try again in %(minutes)d minutes.") % {"minutes": minutes},
                code=THROTTLED,
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username, ip)
            raise
        throttle.clear(username)
        return cleaned


class ThrottledLoginForm(_Throttled):
    """The console's login."""


class ThrottledAdminLoginForm(_Throttled, AdminAuthenticationForm):
    """Django admin's login (staff users only, as AdminAuthenticationForm checks)."""
