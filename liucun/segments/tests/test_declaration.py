"""One declaration of a fan filter drives the dataclass, the API's query schema and the console's form."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_tz
from django.utils.translation import override

from liucun.api.main import api
from liucun.api.schemas import FanQuery
from liucun.console.forms import FanFilterForm, filter_query
from liucun.fans.filters import FanFilter, FilterError, conditions

PAGING_API = ("ordering", "page", "page_size")
PAGING_FORM = ("ordering", "page_size")
NAMES = [
    "following",
    "window_open",
    "channel",
    "tag",
    "remark",
    "followed_after",
    "followed_before",
    "interacted_after",
    "stayed_days_min",
    "stayed_days_max",
    "openid_prefix",
]
CST = timezone(timedelta(hours=8))


def test_the_api_schema_the_form_and_the_dataclass_have_the_same_fields() -> None:
    assert [f.name for f in fields(FanFilter)] == NAMES
    assert [c.name for c in conditions()] == NAMES
    assert [n for n in FanQuery.model_fields if n not in PAGING_API] == NAMES
    assert [n for n in FanFilterForm.base_fields if n not in PAGING_FORM] == NAMES
    for path, extra in (("/api/accounts/{appid}/fans", []), ("/api/accounts/{appid}/fans.csv", ["headers"])):
        parameters = api.get_openapi_schema()["paths"][path]["get"]["parameters"]
        assert sorted(p["name"] for p in parameters) == sorted(["appid", *NAMES, *PAGING_API, *extra])


def test_labels_and_limits_come_from_the_declaration() -> None:
    declared = {c.name: c for c in conditions()}
    form = FanFilterForm()
    with override("en"):
        assert {n: str(form.fields[n].label) for n in NAMES} == {n: str(declared[n].label) for n in NAMES}
        assert str(form.fields["window_open"].label) == "48h window open"
    with override("zh-hans"):
        assert str(form.fields["following"].label) == str(declared["following"].label)
    assert {n: c.max_length for n, c in declared.items() if c.max_length} == {
        "channel": 64,
        "remark": 30,
        "openid_prefix": 64,
    }
    assert FanQuery.model_fields["channel"].metadata[0].max_length == 64
    assert form.fields["openid_prefix"].max_length == 64  # type: ignore[attr-defined]
    with pytest.raises(FilterError, match=r"^channel: at most 64 characters$"):
        FanFilter.from_json({"channel": "x" * 65})
    assert FanFilterForm({"channel": "x" * 65}).is_valid() is False


FULL = FanFilter(
    following=True,
    window_open=False,
    channel="store_1",
    tag=7,
    followed_after=datetime(2026, 1, 1, tzinfo=CST),
    followed_before=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    interacted_after=datetime(2026, 2, 14, 12, 0, 5, tzinfo=CST),
    openid_prefix="oA0",
)


@pytest.mark.parametrize("filt", [FanFilter(), FanFilter(following=False), FanFilter(channel=""), FULL])
def test_json_round_trip(filt: FanFilter) -> None:
    assert FanFilter.from_json(filt.to_json()) == filt


def test_the_json_shape_is_the_one_jobs_store() -> None:
    assert FULL.to_json() == {
        "following": True,
        "window_open": False,
        "channel": "store_1",
        "tag": 7,
        "followed_after": "2026-01-01T00:00:00+08:00",
        "followed_before": "2026-03-01T09:30:00+00:00",
        "interacted_after": "2026-02-14T12:00:05+08:00",
        "openid_prefix": "oA0",
    }
    assert FanFilter().to_json() == {}


def test_api_query_round_trip() -> None:
    params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in FULL.to_json().items()}
    assert FanQuery(**params).fan_filter() == FULL


@pytest.mark.django_db
def test_console_query_round_trip_keeps_days_and_exact_moments() -> None:
    day = datetime(2026, 1, 1, tzinfo=django_tz.get_current_timezone())
    filt = FanFilter(
        following=True, window_open=False, tag=7, followed_after=day, interacted_after=FULL.interacted_after
    )
    query = filter_query(filt)
    assert query == {
        "following": "1",
        "window_open": "0",
        "tag": "7",
        "followed_after": "2026-01-01",  # the start of a local day reads as the day the console shows
        "interacted_after": "2026-02-14T12:00:05+08:00",  # any other moment stays exact
    }
    form = FanFilterForm(query, tags=[(7, "常客")])
    assert form.is_valid(), form.errors
    assert form.fan_filter() == filt
    html = str(form["interacted_after"]) + str(form["followed_after"])
    assert 'type="text" name="interacted_after" value="2026-02-14T12:00:05+08:00"' in html
    assert 'type="date" name="followed_after" value="2026-01-01"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a fan filter is a JSON object"),
        ({"nickname": "x", "following": True}, "unknown filter field: nickname"),
        ({"following": "yes"}, "following: true or false"),
        ({"following": 1}, "following: true or false"),
        ({"tag": "7"}, "tag: a tag id (a whole number)"),
        ({"tag": True}, "tag: a tag id (a whole number)"),
        ({"channel": 5}, "channel: text"),
        (
            {"followed_after": "2026-01-01T00:00:00"},
            "followed_after: a date and time with its time zone (ISO 8601)",
        ),
        ({"followed_after": "soon"}, "followed_after: a date and time with its time zone (ISO 8601)"),
        ({"openid_prefix": "o" * 65}, "openid_prefix: at most 64 characters"),
    ],
)
def test_unreadable_filters_are_refused_with_the_field_named(data: object, message: str) -> None:
    with pytest.raises(FilterError) as refused:
        FanFilter.from_json(data)  # type: ignore[arg-type]
    assert str(refused.value) == message


@pytest.mark.parametrize(
    "moment",
    ["4096-06-21T21:30:55.350000+22:52", "0001-01-01T00:00:00+14:00", "1900-01-01T00:00:00+08:00"],
)
def test_impossible_moments_are_refused_wherever_a_filter_is_built(moment: str) -> None:
    """Found by fuzzing the API: PostgreSQL refuses an offset of +22:52, which made a server error."""
    with pytest.raises(FilterError, match="followed_after"):
        FanFilter.from_json({"followed_after": moment})
    with pytest.raises(FilterError, match="followed_after"):
        FanFilter(followed_after=datetime.fromisoformat(moment))
