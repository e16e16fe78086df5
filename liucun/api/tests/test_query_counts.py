"""The fan list API answers in a pinned number of queries, whatever the page size or the filter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from liucun.console.tests.conftest import add_fans, make_user, member
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import Role
from liucun.tags.models import FanTag, Tag
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

# (query string, queries): the token check, the account scope, the count and the page's ids and rows.
PINNED = {
    "": 11,
    "following=true&ordering=followed_at": 11,
    "channel=store_1&window_open=true": 11,
    "tag={tag}": 11,
    "following=true&tag={tag}&page_size=200": 11,
}


@pytest.mark.parametrize("fans", [5, 40])
def test_the_fan_list_query_count_is_pinned_whatever_the_size(client: Client, fans: int) -> None:
    account = make_account()
    user = member(make_user("reader"), account, Role.OPERATOR)
    made = add_fans(account, fans)
    tag = Tag.objects.create(account=account, wechat_id=100, name="常客")
    FanTag.objects.bulk_create([FanTag(fan=f, tag=tag) for f in made if f.is_following])
    _, key = create_api_token(user, "pin", max_role=Role.OPERATOR)
    measured = {}
    for query in PINNED:
        url = f"/api/accounts/{account.appid}/fans?{query.format(tag=tag.pk)}"
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 200, (url, response.content)
        assert response.json()["results"], url
        measured[query] = len(queries)
    assert measured == PINNED
