"""A report tells its reader when the read models it reads are being rebuilt or far behind (spec.reads).

The read models' state is set as the runner leaves it: their tables built, then a rebuild marker, a logic
change (another fingerprint) or a backlog of events imported after the last run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import day_start, today
from liucun.analytics.report import specs
from liucun.api.main import api
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.events.kinds import FOLLOW
from liucun.events.models import Event, EventSource
from liucun.readmodels.freshness import rebuilding_marker
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.pace import CATCH_UP_FLOOR, head_id
from liucun.readmodels.registry import consumer_named, consumers
from liucun.readmodels.runner import run_all
from liucun.readmodels.tests.support import add_event
from liucun.staff.models import Role
from liucun.testing.factories import make_account

COMPLETE = {"complete": True, "read_models": []}
REBUILDING_SENTENCE = "Being rebuilt: the numbers from daily follows and unfollows are incomplete"


def test_every_report_names_the_read_models_it_reads() -> None:
    registered = {c.name for c in consumers()}
    for spec in specs():
        assert spec.reads, f"{spec.name} names no read model"
        assert set(spec.reads_for("any")) <= registered, (
            f"{spec.name}: {set(spec.reads_for('any')) - registered} are not registered"
        )


def test_the_schema_documents_freshness_on_every_report_operation() -> None:
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    for spec in specs():
        operation = schema["paths"][f"/api/accounts/{{appid}}/reports/{spec.name}"]["get"]
        ok = {str(code): answer for code, answer in operation["responses"].items()}["200"]
        ref = ok["content"]["application/json"]["schema"]["$ref"]
        report = components[ref.rsplit("/", 1)[-1]]
        assert "freshness" in report["required"], spec.name
    freshness = components["FreshnessOut"]
    assert set(freshness["properties"]) == {"complete", "read_models"}
    assert set(components["ReadModelOut"]["properties"]) == {"name", "rebuilding", "behind"}


def _built(account: OfficialAccount) -> None:
    """A follow folded into every read model: each has its state row, its fingerprint and the head."""
    add_event(account, "oFresh1", FOLLOW, day_start(today()) + timedelta(hours=1), channel="store")
    run_all()
    assert set(ConsumerState.objects.values_list("last_event_id", flat=True)) == {head_id()}


def _rebuild_started(name: str) -> None:
    marker = rebuilding_marker(consumer_named(name).fingerprint())
    ConsumerState.objects.filter(name=name).update(fingerprint=marker)


def _logic_changed(name: str) -> None:
    """An upgrade bumped the consumer's version: its tables wait for a rebuild the worker has not begun."""
    ConsumerState.objects.filter(name=name).update(fingerprint="v0-before-the-upgrade")


def _history_imported(account: OfficialAccount, ids: int = CATCH_UP_FLOOR) -> int:
    """`ids` event ids past every read model's watermark, as a history import leaves them (its last id;
    the ones before it need not exist: burnt ids count the same)."""
    head = head_id() + ids
    at = day_start(today())
    Event.objects.create(
        id=head,
        account=account,
        openid="oFresh2",
        kind=FOLLOW,
        dedupe_key="fresh:2",
        wechat_time=at,
        received_at=at,
        source=EventSource.IMPORT,
        payload={"FromUserName": "oFresh2", "MsgType": "event", "EventKey": ""},
    )
    return ids


@pytest.fixture
def operator() -> tuple[OfficialAccount, Client]:
    account = make_account()
    _built(account)
    return account, logged_in(member(make_user("op"), account, Role.OPERATOR))


def _json(client: Client, account: OfficialAccount, name: str) -> dict:
    response = client.get(reverse(f"api:report_{name.replace('-', '_')}", args=[account.appid]))
    assert response.status_code == 200, response.content
    return response.json()["freshness"]


def _page(client: Client, account: OfficialAccount, name: str) -> str:
    response = client.get(reverse("console:report", args=[account.appid, name]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", [spec.name for spec in specs()])
def test_a_report_on_built_read_models_is_complete_and_says_nothing(
    operator: tuple[OfficialAccount, Client], name: str
) -> None:
    account, client = operator
    assert _json(client, account, name) == COMPLETE
    assert 'id="report-freshness"' not in _page(client, account, name)


@pytest.mark.django_db
@pytest.mark.parametrize("change", [_rebuild_started, _logic_changed])
def test_a_rebuild_shows_on_the_reports_that_read_it_and_only_there(
    operator: tuple[OfficialAccount, Client], change: Callable[[str], None]
) -> None:
    account, client = operator
    change("daily-follows")
    rebuilding = {
        "complete": False,
        "read_models": [{"name": "daily-follows", "rebuilding": True, "behind": 0}],
    }
    for spec in specs():
        expected = rebuilding if "daily-follows" in spec.reads else COMPLETE
        assert _json(client, account, spec.name) == expected, spec.name
    page = _page(client, account, "growth")
    card = page[page.index('id="report-freshness"') : page.index('id="report-findings"')]
    assert 'role="status"' in card
    assert REBUILDING_SENTENCE in card
    assert "daily-follows" not in card  # the console names it; the slug is the JSON's
    assert "fans following by channel" not in card  # the other read model of growth is complete
    assert 'id="report-freshness"' not in _page(client, account, "retention")


@pytest.mark.django_db
def test_a_model_read_only_for_a_channel_warns_only_when_a_channel_is_chosen(
    operator: tuple[OfficialAccount, Client],
) -> None:
    account, client = operator
    _rebuild_started("fan-activity")
    url = reverse("api:report_service", args=[account.appid])
    assert client.get(url).json()["freshness"] == COMPLETE
    chosen = client.get(url, {"channel": "poster"}).json()["freshness"]
    assert chosen == {
        "complete": False,
        "read_models": [{"name": "fan-activity", "rebuilding": True, "behind": 0}],
    }


@pytest.mark.django_db
def test_a_backlog_shows_how_many_events_are_not_counted_yet(
    operator: tuple[OfficialAccount, Client],
) -> None:
    account, client = operator
    behind = _history_imported(account)
    assert _json(client, account, "growth") == {
        "complete": False,
        "read_models": [
            {"name": "daily-follows", "rebuilding": False, "behind": behind},
            {"name": "following", "rebuilding": False, "behind": behind},
        ],
    }
    page = _page(client, account, "growth")
    card = page[page.index('id="report-freshness"') :]
    for what in ("daily follows and unfollows", "fans following by channel"):
        assert f"About {behind:,} newer events are not counted in {what} yet" in card


@pytest.mark.django_db
def test_a_lag_below_the_catch_up_floor_is_the_normal_state_and_not_shown(
    operator: tuple[OfficialAccount, Client],
) -> None:
    account, client = operator
    _history_imported(account, CATCH_UP_FLOOR - 1)
    assert _json(client, account, "growth") == COMPLETE
