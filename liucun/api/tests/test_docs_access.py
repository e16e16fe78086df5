"""LIUCUN_API_DOCS_PUBLIC: the OpenAPI schema and docs for anyone, or only for staff and token holders."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db
SCHEMA, DOCS = "/api/openapi.json", "/api/docs"


@override_settings(LIUCUN_API_DOCS_PUBLIC=False)
def test_by_default_the_schema_and_docs_need_a_session_or_a_token() -> None:
    anonymous = Client()
    refused = anonymous.get(SCHEMA)
    assert (refused.status_code, refused.json()) == (401, {"detail": "Unauthorized"})
    docs = anonymous.get(DOCS)
    assert (docs.status_code, docs["Location"]) == (302, "/login/?next=/api/docs")
    assert anonymous.get(SCHEMA, HTTP_AUTHORIZATION="Bearer lc_not-a-real-key").status_code == 401

    user = member(make_user("docs-reader"), make_account(), Role.AGENT)
    _, key = create_api_token(user, "docs", max_role=Role.AGENT)
    with_token = anonymous.get(SCHEMA, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert with_token.status_code == 200
    assert "/api/accounts/{appid}/fans" in with_token.json()["paths"]
    session = logged_in(user)
    assert session.get(SCHEMA).status_code == 200
    assert session.get(DOCS).status_code == 200


@override_settings(LIUCUN_API_DOCS_PUBLIC=True)
def test_public_docs_answer_anyone_but_the_endpoints_still_do_not() -> None:
    anonymous = Client()
    assert "/api/accounts/{appid}/fans" in anonymous.get(SCHEMA).json()["paths"]
    assert anonymous.get(DOCS).status_code == 200
    assert anonymous.get("/api/accounts").status_code == 401
