"""The report framework: ranges, and the contract every registered report keeps (page, CSV, API agree)."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import NO_CHANNEL, ReportQuery, ReportRefused, day_start, parse_query, today
from liucun.analytics.report import Column, Report, specs
from liucun.analytics.running import csv_chunks
from liucun.console.tests.conftest import add_fans, logged_in, make_user, member
from liucun.events.kinds import FOLLOW, UNFOLLOW
from liucun.readmodels.runner import run_all
from liucun.readmodels.tests.support import add_event
from liucun.staff.models import Role
from liucun.testing.factories import make_account


def test_defaults_are_the_last_thirty_days_by_day() -> None:
    query = parse_query({})
    assert query.end == today()
    assert query.days == 30
    assert (query.granularity, query.channel, dict(query.options)) == ("day", None, {})


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start": "2026-13-01"}, "report.bad_date"),
        ({"start": "2026-02-02", "end": "2026-02-01"}, "report.bad_range"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "report.range_too_long"),
        ({"granularity": "hour"}, "report.bad_granularity"),
        ({"channel": "x" * 65}, "report.bad_channel"),
        ({"unit": "year"}, "report.bad_option"),
    ],
)
def test_bad_input_is_refused_with_the_reason(params: dict[str, str], code: str) -> None:
    with pytest.raises(ReportRefused) as refused:
        parse_query(params, options={"unit": ("week", ("day", "week"))})
    assert refused.value.code == code
    assert refused.value.message


def test_channel_tilde_means_fans_without_a_qr_scene() -> None:
    assert parse_query({"channel": NO_CHANNEL}).channel == ""
    assert parse_query({"channel": "store_1"}).channel == "store_1"
    assert parse_query({"channel": ""}).channel is None


@pytest.mark.parametrize(
    ("granularity", "labels"),
    [
        ("day", ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]),
        ("week", ["2026-11-23", "2026-11-30"]),
        ("month", ["2026-11", "2026-12"]),
    ],
)
def test_buckets_cover_the_range_exactly(granularity: str, labels: list[str]) -> None:
    query = ReportQuery(date(2026, 11, 29), date(2026, 12, 3), granularity)
    buckets = query.buckets()
    assert [b.label for b in buckets] == labels
    assert buckets[0].first == query.start and buckets[-1].last == query.end
    for a, b in itertools.pairwise(buckets):
        assert b.first == a.last + timedelta(days=1)


def test_csv_escapes_formulas_and_writes_labels_or_keys() -> None:
    report = Report(
        columns=[Column("channel", "渠道", "text"), Column("fans", "粉丝")],
        rows=[{"channel": "=HYPERLINK(1)", "fans": 3}],
    )
    text = "".join(csv_chunks(report, labels=True))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["渠道", "粉丝"], ["'=HYPERLINK(1)", "3"]]
    assert next(csv.reader(io.StringIO("".join(csv_chunks(report, labels=False)).lstrip("\ufeff")))) == [
        "channel",
        "fans",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("name", [spec.name for spec in specs()])
def test_every_report_answers_the_same_on_its_page_its_csv_and_the_api(name: str) -> None:
    account = make_account()
    add_fans(account, 3)
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    agent = logged_in(member(make_user("agent"), account, Role.AGENT))
    params = {"start": (today() - timedelta(days=13)).isoformat(), "end": today().isoformat()}

    page = operator.get(reverse("console:report", args=[account.appid, name]), params)
    assert page.status_code == 200
    assert b'id="report-table"' in page.content
    api = operator.get(reverse(f"api:report_{name.replace('-', '_')}", args=[account.appid]), params)
    assert api.status_code == 200, api.content
    body = api.json()
    assert (body["report"], body["start"], body["end"]) == (name, params["start"], params["end"])
    download = operator.get(reverse("console:report-csv", args=[account.appid, name]), params)
    assert download.status_code == 200
    lines = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode().lstrip("\ufeff"))))
    assert len(lines) == 1 + len(body["rows"])
    assert len(lines[0]) == len(body["columns"])

    assert agent.get(reverse("console:report", args=[account.appid, name])).status_code == 403
    bad = operator.get(reverse(f"api:report_{name.replace('-', '_')}", args=[account.appid]), {"end": "x"})
    assert bad.status_code in (400, 422)
    refused = operator.get(reverse("console:report", args=[account.appid, name]), {"start": "2099-01-01"})
    assert refused.status_code == 200 and b'id="report-refusal"' in refused.content


@pytest.mark.django_db
def test_an_unknown_report_is_404() -> None:
    account = make_account()
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    assert operator.get(reverse("console:report", args=[account.appid, "nope"])).status_code == 404
    index = operator.get(reverse("console:reports", args=[account.appid]))
    assert index.status_code == 200
    for spec in specs():
        assert reverse("console:report", args=[account.appid, spec.name]).encode() in index.content


def _history(account: OfficialAccount, fans: int, channels: int) -> None:
    """Follows over the last two weeks through `channels` QR scenes, a third unfollowing, texts and taps."""
    start = day_start(today() - timedelta(days=13))
    for n in range(fans):
        openid = f"oQ{account.pk}x{n:04d}"
        at = start + timedelta(hours=7 * n)
        add_event(account, openid, FOLLOW, at, channel=f"scene_{n % channels}")
        add_event(account, openid, "text", at + timedelta(minutes=5))
        if n % 3 == 0:
            add_event(account, openid, UNFOLLOW, at + timedelta(hours=30))
    run_all()


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
@pytest.mark.parametrize("name", [spec.name for spec in specs()])
def test_a_report_reads_in_the_same_number_of_queries_for_more_fans_and_channels(name: str) -> None:
    """An N+1 (a query per fan, per row or per channel) shows as a count that grows with the history."""
    measured = []
    for fans, channels in ((6, 2), (30, 6)):
        account = make_account()
        _history(account, fans, channels)
        client = logged_in(member(make_user(f"op{fans}"), account, Role.OPERATOR))
        url = reverse(f"api:report_{name.replace('-', '_')}", args=[account.appid])
        _queries(client, url)  # warm per-process caches (channel labels, settings)
        measured.append(_queries(client, url))
    assert measured[0] == measured[1], f"{name}: {measured[0]} queries for 6 fans, {measured[1]} for 30"


@pytest.mark.django_db
def test_the_api_answers_in_english_unless_a_language_is_asked_for() -> None:
    account = make_account()
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    url = reverse("api:report_growth", args=[account.appid])
    assert (
        operator.get(url).json()["columns"][0]["label"]
        != operator.get(url, headers={"Accept-Language": "zh-hans"}).json()["columns"][0]["label"]
    )
