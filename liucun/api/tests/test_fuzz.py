"""The REST API fuzzed from its own OpenAPI schema (schemathesis): no generated input gets a 5xx.

Every operation is called with inputs generated from the schema, valid and invalid, as an admin's API
token. Path parameters usually name the real account and fan, so the generated bodies and queries reach
the route's own checks rather than stopping at "no such account"; WeChat is wxsim, so operations that
call it meet WeChat's real answers. A 5xx here is a bug: bad input must be a 4xx that changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from liucun.console.tests.conftest import add_fans, make_user, member
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import Role
from liucun.testing.factories import make_account_on_wxsim
from liucun.wsgi import application
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=5) as url:
        yield url


@pytest.fixture
def in_process() -> Iterator[None]:
    # Called in-process as Django's test client does: a request must not close the test's database
    # connection (and with it the transaction the test runs in).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.fixture
def world(wxsim_url: str) -> dict[str, str]:
    control = WxsimControl(wxsim_url)
    account = make_account_on_wxsim(control)
    admin = member(make_user(f"fuzz{random.randrange(10**9)}"), account, Role.ADMIN)
    fans = add_fans(account, 3)
    _, key = create_api_token(admin, "fuzz", max_role=Role.ADMIN)
    return {"appid": account.appid, "openid": fans[0].openid, "key": key}


# The schema is read as a deployment that publishes it would serve it (LIUCUN_API_DOCS_PUBLIC).
with override_settings(LIUCUN_API_DOCS_PUBLIC=True):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
REAL = random.Random(1)


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_generated_input_gets_a_server_error(case: Any, world: dict[str, str], in_process: None) -> None:
    params = case.path_parameters or {}
    # Mostly the real account and fan, sometimes what was generated (unknown ones must be a 404).
    for name in ("appid", "openid"):
        if name in params and REAL.random() < 0.8:
            params[name] = world[name]
    case.call_and_validate(headers={"Authorization": f"Bearer {world['key']}"}, checks=[not_a_server_error])
