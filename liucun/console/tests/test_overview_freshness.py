"""The overview says when its numbers (daily follows, fans following by channel) are incomplete."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.events.kinds import FOLLOW
from liucun.readmodels.freshness import rebuilding_marker
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.registry import consumer_named
from liucun.readmodels.runner import run_all
from liucun.readmodels.tests.support import add_event, ids_follow_on
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.language import english

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    yield from english(settings)


@pytest.fixture
def agent() -> tuple[OfficialAccount, Client]:
    """An agent (the overview's least role) on an account whose read models are built."""
    ids_follow_on()
    account = make_account()
    add_event(account, "oOverview1", FOLLOW, datetime.now(UTC), channel="store")
    run_all()
    return account, logged_in(member(make_user("agent"), account, Role.AGENT))


def _rebuild_started(name: str) -> None:
    marker = rebuilding_marker(consumer_named(name).fingerprint())
    assert ConsumerState.objects.filter(name=name).update(fingerprint=marker) == 1


def _overview(account: OfficialAccount, client: Client) -> str:
    response = client.get(reverse("console:overview", kwargs={"appid": account.appid}))
    assert response.status_code == 200
    return response.content.decode()


def test_built_read_models_show_no_notice(agent: tuple[OfficialAccount, Client]) -> None:
    assert 'id="overview-freshness"' not in _overview(*agent)


@pytest.mark.parametrize(
    ("name", "what"),
    [("daily-follows", "daily follows and unfollows"), ("following", "fans following by channel")],
)
def test_a_rebuild_of_what_the_overview_reads_is_shown_above_its_numbers(
    agent: tuple[OfficialAccount, Client], name: str, what: str
) -> None:
    _rebuild_started(name)
    page = _overview(*agent)
    card = page[page.index('id="overview-freshness"') : page.index('id="overview-tiles"')]
    assert 'role="status"' in card
    assert f"Being rebuilt: the numbers from {what} are incomplete until the rebuild finishes" in card
    assert card.count("<p>") == 1


def test_a_rebuild_of_a_read_model_the_overview_does_not_read_is_not_shown(
    agent: tuple[OfficialAccount, Client],
) -> None:
    _rebuild_started("fan-activity")
    assert 'id="overview-freshness"' not in _overview(*agent)
