"""Every account page lights up one entry of the sidebar, found from its URL name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from liucun.console.navigation import section_of
from liucun.console.tests.conftest import add_fans, logged_in, make_user, member
from liucun.console.tests.test_scope import account_patterns
from liucun.staff.models import Role
from liucun.testing.factories import make_account

SIDEBAR = Path(__file__).parents[1] / "templates" / "console" / "account_base.html"


def test_every_account_page_belongs_to_an_entry_of_the_sidebar() -> None:
    entries = set(re.findall(r"nav == '([a-z-]+)'", SIDEBAR.read_text()))
    orphans = {str(p.name): section_of(str(p.name)) for p in account_patterns()}
    assert {name: s for name, s in orphans.items() if s not in entries} == {}


@pytest.mark.django_db
def test_a_page_deep_in_an_area_marks_its_entry_active() -> None:
    account = make_account()
    admin = member(make_user("nav-admin"), account, Role.ADMIN)
    fan = add_fans(account, 1)[0]
    page = logged_in(admin).get(reverse("console:fan", args=[account.appid, fan.openid]))
    active = re.findall(r'<a href="([^"]+)" class="active"', page.content.decode())
    assert active == [reverse("console:fans", args=[account.appid])]
