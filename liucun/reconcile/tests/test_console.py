"""The console's status block: what it shows, who may see it, and its queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from liucun.console.tests.conftest import add_fans, logged_in, make_user, member
from liucun.reconcile.models import PullState, PullStatus
from liucun.reconcile.tests.fixtures import populate
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

QUERIES = 7  # session, user, account, role, pull state, pulled days (2): the same for any number of rows


def test_the_status_block_shows_the_pull_and_agents_may_not_see_it() -> None:
    account = make_account()
    populate(account, add_fans(account, 6))
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    agent = logged_in(member(make_user("agent"), account, Role.AGENT))
    url = reverse("console:reconcile", args=[account.appid])
    assert agent.get(url).status_code == 403
    fans = reverse("console:fans", args=[account.appid])
    assert url.encode() not in agent.get(fans).content
    assert url.encode() in operator.get(fans).content
    with CaptureQueriesContext(connection) as queries:
        page = operator.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert len(queries) == QUERIES
    assert b'id="reconcile-days">7<' in page.content
    assert b'id="reconcile-pull"' in page.content
    assert b"hx-trigger" not in page.content  # polls only while a pull runs


def test_a_refusal_is_shown_in_words() -> None:
    account = make_account()
    PullState.objects.create(
        account=account, status=PullStatus.REFUSED, error_code="wechat.48001", errcode=48001
    )
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    page = operator.get(reverse("console:reconcile", args=[account.appid]))
    assert page.status_code == 200
    assert "该公众号没有此项微信接口权限".encode() in page.content
    assert b'id="reconcile-problem"' in page.content


def test_an_unverified_account_gets_no_pull_button() -> None:
    account = make_account(verified=False)
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    page = operator.get(reverse("console:reconcile", args=[account.appid]))
    assert page.status_code == 200
    assert b'id="reconcile-pull"' not in page.content
    answer = operator.post(reverse("console:reconcile-pull", args=[account.appid]))
    assert answer.status_code == 302, answer.status_code
    assert not PullState.objects.filter(account=account).exists()
