"""Every console page checks the account scope: a walk over all URL patterns, so none can forget it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.core import serializers
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from liucun.console.scope import account_page
from liucun.console.tests.conftest import TwoAccounts, logged_in
from liucun.events.models import Event
from liucun.fans.models import Fan, FollowPeriod, SyncJob
from liucun.staff.models import AuditEntry, Membership

pytestmark = pytest.mark.django_db


def console_patterns() -> list[URLPattern]:
    def walk(patterns: list[Any], inside: bool) -> list[URLPattern]:
        found: list[URLPattern] = []
        for p in patterns:
            if isinstance(p, URLResolver):
                found.extend(walk(p.url_patterns, inside or p.namespace == "console"))
            elif isinstance(p, URLPattern) and inside:
                found.append(p)
        return found

    return walk(get_resolver().url_patterns, False)


# Everything outside the console has its own guard: WeChat's signature (callback), staff login (admin),
# the API's own scope walk (liucun/api/tests), or holds no account data at all.
OUTSIDE_CONSOLE = {"wechat-callback", "healthz", "set_language"}


def test_no_page_lives_outside_the_console_unguarded() -> None:
    names = {p.name for p in get_resolver().url_patterns if isinstance(p, URLPattern)}
    resolvers = {str(p.pattern) for p in get_resolver().url_patterns if isinstance(p, URLResolver)}
    assert names == OUTSIDE_CONSOLE
    assert resolvers == {"api/", "admin/", ""}


def account_patterns() -> list[URLPattern]:
    return [p for p in console_patterns() if "appid" in p.pattern.converters]


def state_of(account: Any) -> str:
    """A fingerprint of everything stored about an account: any write to it changes this."""
    parts = []
    for model, field in (
        (Fan, "account"),
        (FollowPeriod, "account"),
        (SyncJob, "account"),
        (Membership, "account"),
        (AuditEntry, "account"),
        (Event, "account"),
    ):
        rows = model.objects.filter(**{field: account}).order_by("pk")
        parts.append(serializers.serialize("json", rows))
    from liucun.crm.models import ImportJob
    from liucun.tags.models import Tag

    for model in (Tag, ImportJob):
        parts.append(serializers.serialize("json", model.objects.filter(account=account).order_by("pk")))
    account.refresh_from_db()
    parts.append(json.dumps({f.name: str(getattr(account, f.attname)) for f in account._meta.fields}))
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def url_for(pattern: URLPattern, t: TwoAccounts) -> str:
    values = {
        "appid": t.b.appid,
        "openid": t.fans_b[0].openid,
        "job_id": 1,
        "tag_id": 1,
        "user_id": t.admin_b.pk,
        "invitation_id": 1,
        "filter_id": 1,
        "channel_id": 1,
        "qrcode_id": 1,
        "message_id": 1,
        "rule_id": 1,
        "draft_id": 1,
        "published_id": 1,
        "menu_id": "1",
        "name": "growth",
        "push_id": 1,
    }
    kwargs = {name: values[name] for name in pattern.pattern.converters}
    return reverse(f"console:{pattern.name}", kwargs=kwargs)


def test_every_account_page_is_wrapped_by_the_scope_check() -> None:
    patterns = account_patterns()
    # Exact, so a new page is a change here too: whoever adds one says which role it needs.
    assert len(patterns) == 98
    unwrapped = [p.name for p in patterns if not hasattr(p.callback, "minimum_role")]
    assert unwrapped == [], f"console pages without account_page(): {unwrapped}"
    assert account_page  # the decorator the assertion above looks for


def test_staff_of_a_gets_404_on_every_page_of_b_and_nothing_of_b_changes(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.admin_a)
    before = state_of(t.b)
    for pattern in account_patterns():
        url = url_for(pattern, t)
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"name": "x", "remark": "x", "tag": "1", "openid": "x"})
            assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"
    assert state_of(t.b) == before


def test_too_low_a_role_gets_403_and_nothing_changes(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.agent_b)
    before = state_of(t.b)
    refused = 0
    for pattern in account_patterns():
        if pattern.callback.minimum_role == "agent":
            continue
        url = url_for(pattern, t)
        response = client.post(url, {"name": "x", "remark": "x", "tag": "1", "openid": "x", "role": "admin"})
        assert response.status_code == 403, f"POST {url} as agent gave {response.status_code}"
        refused += 1
    assert refused == 70  # every page above the agent role
    assert state_of(t.b) == before


def test_anonymous_visitors_are_sent_to_login(two_accounts: TwoAccounts) -> None:
    from django.test import Client

    for pattern in account_patterns():
        response = Client().get(url_for(pattern, two_accounts))
        assert response.status_code == 302 and "/login/" in response["Location"]
