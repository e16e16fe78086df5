"""The fan list, the fan page, the CSV export and the overview as an operator meets them (issue 12)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from liucun.accounts.models import OfficialAccount
from liucun.channels.models import Channel
from liucun.console.converters import OpenIdConverter
from liucun.console.tests.conftest import add_fans, logged_in, make_user, member
from liucun.events.models import Event, EventSource
from liucun.fans import queries
from liucun.fans.filters import FanFilter, FilterError
from liucun.fans.models import Fan, FollowPeriod, SyncJob, SyncStatus
from liucun.staff.models import AuditEntry, Role
from liucun.tags.models import FanTag, Tag
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)


def english(client: Client) -> Client:
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client


def _url(name: str, account: OfficialAccount, **kwargs: Any) -> str:
    return reverse(f"console:{name}", kwargs={"appid": account.appid, **kwargs})


def _fan(account: OfficialAccount, openid: str, **fields: Any) -> Fan:
    return Fan.objects.create(account=account, openid=openid, **fields)


@pytest.fixture
def account() -> OfficialAccount:
    return make_account(name="门店")


@pytest.fixture
def operator(account: OfficialAccount) -> Client:
    return english(logged_in(member(make_user("op"), account, Role.OPERATOR)))


# --- 1. the fan list -------------------------------------------------------------------------------------


def test_a_filter_that_matches_nothing_says_so_with_a_count_of_zero(
    account: OfficialAccount, operator: Client
) -> None:
    add_fans(account, 3)
    for query in ({"channel": "nowhere"}, {"remark": "没有这个备注"}):
        html = operator.get(_url("fans", account), query).content.decode()
        assert '<span class="count">0 fans</span>' in html
        assert "No fan matches these filters." in html
        partial = operator.get(_url("fans", account), query, HTTP_HX_REQUEST="true").content.decode()
        assert '<span class="count">0 fans</span>' in partial


def test_the_channel_filter_offers_the_accounts_channels_and_still_takes_a_typed_scene(
    account: OfficialAccount, operator: Client
) -> None:
    add_fans(account, 6)  # channels store_0..store_2
    Channel.objects.create(account=account, scene="store_1", name="静安店")
    html = operator.get(_url("fans", account)).content.decode()
    assert 'list="channel-choices"' in html
    options = re.findall(r'<option value="([^"]*)" label="([^"]*)">', html.split('id="channel-choices"')[1])
    assert sorted(options) == [
        ("store_0", "store_0"),
        ("store_1", "静安店 (store_1)"),
        ("store_2", "store_2"),
    ]
    typed = operator.get(_url("fans", account), {"channel": "store_2"}).content.decode()
    assert '<span class="count">2 fans</span>' in typed


def test_search_by_remark_in_the_console_and_the_api(account: OfficialAccount, operator: Client) -> None:
    _fan(account, "oA", remark="VIP 张女士", is_following=True)
    _fan(account, "oB", remark="vip 李先生", is_following=True)
    _fan(account, "oC", remark="张先生", is_following=True)
    html = operator.get(_url("fans", account), {"remark": "VIP"}).content.decode()
    assert '<span class="count">2 fans</span>' in html and "oC" not in html
    got = operator.get(f"/api/accounts/{account.appid}/fans", {"remark": "张", "ordering": "openid"}).json()
    assert [f["openid"] for f in got["results"]] == ["oA", "oC"]
    too_long = operator.get(f"/api/accounts/{account.appid}/fans", {"remark": "x" * 31})
    assert too_long.status_code == 422
    assert (
        "Ensure this value has at most 30 characters"
        in operator.get(_url("fans", account), {"remark": "x" * 31}).content.decode()
    )


def test_the_tag_column_shows_each_fans_tags_in_one_query(
    account: OfficialAccount, operator: Client, django_assert_num_queries: Any
) -> None:
    fans = add_fans(account, 8)
    vip, new = (
        Tag.objects.create(account=account, wechat_id=100, name="VIP"),
        Tag.objects.create(account=account, wechat_id=101, name="新客"),
    )
    FanTag.objects.bulk_create([FanTag(fan=f, tag=vip) for f in fans[:4]] + [FanTag(fan=fans[0], tag=new)])
    url = _url("fans", account) + "?ordering=openid"
    operator.get(url)
    cells = re.findall(
        r'<td data-label="Tags" class="fan-tags">([^<]*)</td>', operator.get(url).content.decode()
    )
    assert cells == ["VIP, 新客", "VIP", "VIP", "VIP", "—", "—", "—", "—"]
    with django_assert_num_queries(12) as eight:
        operator.get(url)
    add_fans(account, 8, prefix="oMore")
    with django_assert_num_queries(12) as sixteen:
        operator.get(url)
    assert len(eight.captured_queries) == len(sixteen.captured_queries)


# --- 2. unfollow time and time followed ------------------------------------------------------------------


def _stays(account: OfficialAccount) -> None:
    # followed at, unfollowed at (None: following now)
    _fan(account, "oLeft1d", followed_at=NOW - timedelta(days=10), unfollowed_at=NOW - timedelta(days=9))
    _fan(account, "oLeft7d", followed_at=NOW - timedelta(days=20), unfollowed_at=NOW - timedelta(days=13))
    _fan(account, "oLeft8d", followed_at=NOW - timedelta(days=20), unfollowed_at=NOW - timedelta(days=12))
    _fan(account, "oStay3d", is_following=True, followed_at=NOW - timedelta(days=3, hours=6))
    _fan(account, "oStay30d", is_following=True, followed_at=NOW - timedelta(days=30))
    _fan(account, "oNoTime", is_following=False)


@pytest.mark.parametrize(
    ("filt", "expected"),
    [
        (FanFilter(following=False, stayed_days_max=7), ["oLeft1d", "oLeft7d"]),
        (FanFilter(stayed_days_max=7), ["oLeft1d", "oLeft7d", "oStay3d"]),
        (FanFilter(stayed_days_min=8), ["oLeft8d", "oStay30d"]),
        (FanFilter(stayed_days_min=2, stayed_days_max=7), ["oLeft7d", "oStay3d"]),
        (FanFilter(stayed_days_max=0), []),
    ],
)
def test_stayed_days_filter_the_current_or_last_follow(
    account: OfficialAccount, filt: FanFilter, expected: list[str]
) -> None:
    _stays(account)
    assert sorted(queries.fans(account, filt, "openid").values_list("openid", flat=True)) == expected
    assert queries.fan_pages(account, filt).count() == len(expected)


def test_stayed_days_are_checked_however_they_arrive(account: OfficialAccount, operator: Client) -> None:
    for bad in (-1, 36501, True, "7"):
        with pytest.raises(FilterError, match="stayed_days_max: a whole number of days from 0 to 36500"):
            FanFilter.from_json({"stayed_days_max": bad})
    api = f"/api/accounts/{account.appid}/fans"
    assert operator.get(api, {"stayed_days_min": -1}).status_code == 422
    assert operator.get(api, {"stayed_days_min": 36501}).status_code == 422
    html = operator.get(_url("fans", account), {"stayed_days_max": "-1"}).content.decode()
    assert "Ensure this value is greater than or equal to 0." in html


def test_the_list_shows_unfollow_time_and_time_followed(account: OfficialAccount, operator: Client) -> None:
    _stays(account)
    html = operator.get(
        _url("fans", account), {"following": "0", "stayed_days_max": "7", "ordering": "openid"}
    )
    rows = html.content.decode().split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert len(rows) == 2
    stayed = [re.search(r'data-label="Stayed \(days\)">([^<]*)<', r).group(1) for r in rows]  # type: ignore[union-attr]
    assert stayed == ["1.0", "7.0"]
    unfollowed = re.search(r'data-label="Unfollowed">([^<]*)<', rows[0]).group(1)  # type: ignore[union-attr]
    fan = Fan.objects.get(openid="oLeft1d")
    assert unfollowed == timezone.localtime(fan.unfollowed_at).strftime("%Y-%m-%d %H:%M")
    api = operator.get(f"/api/accounts/{account.appid}/fans", {"stayed_days_min": 8, "ordering": "openid"})
    assert [f["openid"] for f in api.json()["results"]] == ["oLeft8d", "oStay30d"]


# --- 3. the CSV export from the console and the API ------------------------------------------------------


def _table(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_console_export_follows_the_language_and_the_chinese_headers_box(
    account: OfficialAccount, operator: Client
) -> None:
    _stays(account)
    page = operator.get(_url("fans", account), {"following": "0", "ordering": "openid"}).content.decode()
    export_form = page.split('id="export-csv"')[1].split("</form>")[0]
    assert '<input type="hidden" name="following" value="0">' in export_form
    assert '<input type="checkbox" name="headers" value="zh">' in export_form
    url = _url("fans-csv", account)
    english_file = _table(
        b"".join(operator.get(url, {"following": "0", "ordering": "openid"}).streaming_content)
    )
    assert english_file[0][:7] == [
        "openid", "unionid", "following", "channel", "followed_at", "unfollowed_at", "stayed_days",
    ]  # fmt: skip
    assert [(r[0], r[2], r[6]) for r in english_file[1:]] == [
        ("oLeft1d", "no", "1.0"),
        ("oLeft7d", "no", "7.0"),
        ("oLeft8d", "no", "8.0"),
        ("oNoTime", "no", ""),
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", english_file[1][5])
    operator.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    chinese = _table(b"".join(operator.get(url, {"following": "0", "headers": "zh"}).streaming_content))
    assert chinese[0][:4] == ["OpenID", "UnionID", "是否关注", "渠道"]
    assert {r[2] for r in chinese[1:]} == {"否"}
    assert AuditEntry.objects.filter(action="crm.export").count() == 2


def test_api_export_takes_headers_zh(account: OfficialAccount, operator: Client) -> None:
    _stays(account)
    url = f"/api/accounts/{account.appid}/fans.csv"
    plain = _table(b"".join(operator.get(url, {"following": "true"}).streaming_content))
    assert plain[0][2] == "following" and {r[2] for r in plain[1:]} == {"yes"}
    chinese = _table(b"".join(operator.get(url, {"following": "true", "headers": "zh"}).streaming_content))
    assert chinese[0][2] == "是否关注" and {r[2] for r in chinese[1:]} == {"是"}
    assert operator.get(url, {"headers": "fr"}).status_code == 422


# --- 4. the fan page offers only what applies ------------------------------------------------------------


@pytest.fixture
def admin(account: OfficialAccount) -> Client:
    return english(logged_in(member(make_user("admin"), account, Role.ADMIN)))


def test_a_following_fan_page_offers_everything(account: OfficialAccount, admin: Client) -> None:
    Tag.objects.create(account=account, wechat_id=100, name="VIP")
    fan = _fan(account, "oHere", is_following=True, followed_at=NOW - timedelta(days=2, hours=1))
    html = admin.get(_url("fan", account, openid=fan.openid)).content.decode()
    assert _url("fan-remark", account, openid=fan.openid) in html
    assert 'value="tag">Add tag' in html
    assert _url("fan-erase", account, openid=fan.openid) in html
    assert "closed: only passive replies and pushes reach this fan" in html
    assert "Following since" in html and "(2.0 days)" in html


def test_an_unfollowed_fan_page_offers_no_remark_sync_tags_or_window(
    account: OfficialAccount, admin: Client
) -> None:
    Tag.objects.create(account=account, wechat_id=100, name="VIP")
    fan = _fan(
        account,
        "oGone",
        remark="老客户",
        followed_at=NOW - timedelta(days=5),
        unfollowed_at=NOW - timedelta(days=1),
    )
    html = admin.get(_url("fan", account, openid=fan.openid)).content.decode()
    assert _url("fan-remark", account, openid=fan.openid) not in html
    assert "Remark: 老客户" in html
    assert 'value="tag">Add tag' not in html
    assert "only passive replies and pushes" not in html
    assert "not following: nothing can be sent" in html
    assert "after 4.0 days. WeChat delivers nothing to a fan who left" in html
    assert _url("fan-erase", account, openid=fan.openid) in html  # not erased yet


def test_an_erased_fan_page_offers_no_erase_and_says_what_happened(
    account: OfficialAccount, admin: Client
) -> None:
    fan = _fan(account, "oErase", followed_at=NOW - timedelta(days=5), unfollowed_at=NOW - timedelta(days=1))
    assert admin.post(_url("fan-erase", account, openid=fan.openid)).status_code == 302
    html = admin.get(_url("fan", account, openid=fan.openid)).content.decode()
    assert _url("fan-erase", account, openid=fan.openid) not in html
    assert "Already erased; nothing has been recorded about this fan since." in html
    assert "Personal data erased" in html and "the follow history is kept" in html
    # The fan comes back: what is recorded from then on can be erased again.
    back = datetime.now(UTC)
    Fan.objects.filter(pk=fan.pk).update(is_following=True, followed_at=back, last_interaction_at=back)
    again = admin.get(_url("fan", account, openid=fan.openid)).content.decode()
    assert _url("fan-erase", account, openid=fan.openid) in again


# --- 5. any stored openid ---------------------------------------------------------------------------------

ODD_OPENIDS = [
    "",
    "a/b",
    " ",
    "with space",
    "张三",
    "../x",
    "o?x=1#y",
    "~",
    "~abc",
    "line\nbreak",
    '"q"',
    "%2F",
]


def test_pages_that_list_fans_survive_any_stored_openid(account: OfficialAccount, admin: Client) -> None:
    for i, openid in enumerate(ODD_OPENIDS):
        fan = _fan(account, openid, is_following=i % 2 == 0, followed_at=NOW - timedelta(days=i))
        FollowPeriod.objects.create(account=account, fan=fan, followed_at=fan.followed_at)
        Event.objects.create(
            account=account,
            openid=openid,
            kind="text",
            dedupe_key=f"odd-{i}",
            wechat_time=NOW - timedelta(minutes=i),
            received_at=NOW,
            source=EventSource.CALLBACK,
            payload={"Content": "hi"},
        )
    pages = [
        _url("fans", account),
        _url("messages", account),
        _url("overview", account),
        _url("blacklist", account),
    ]
    for url in pages:
        assert admin.get(url).status_code == 200, url
    listed = admin.get(_url("fans", account) + "?page_size=20").content.decode()
    links = set(re.findall(rf'href="(/a/{account.appid}/fans/[^"]*/)"', listed))
    assert len(links) == len(ODD_OPENIDS)
    assert "(empty OpenID)" in listed
    for openid in ODD_OPENIDS:
        url = _url("fan", account, openid=openid)
        assert url in links
        page = admin.get(url)
        assert page.status_code == 200, (openid, url)
        assert page.context["fan"].openid == openid
        export = admin.get(_url("fan-export", account, openid=openid))
        assert export.status_code == 200 and "\n" not in export["Content-Disposition"]
    csv_file = _table(b"".join(admin.get(_url("fans-csv", account)).streaming_content))
    assert sorted(row[0] for row in csv_file[1:]) == sorted(ODD_OPENIDS)


def test_the_openid_converter_round_trips_and_refuses_garbage() -> None:
    conv = OpenIdConverter()
    for openid in [*ODD_OPENIDS, "oAbC-_09"]:
        assert conv.to_python(conv.to_url(openid)) == openid
        assert re.fullmatch(conv.regex, conv.to_url(openid))
    assert conv.to_url("oAbC-_09") == "oAbC-_09"
    with pytest.raises(ValueError, match="not an encoded openid"):
        conv.to_python("~_w")  # not a whole byte
    with pytest.raises(ValueError, match="not an encoded openid"):
        conv.to_python("~__8")  # not UTF-8


# --- 6. the overview while a history is loading ----------------------------------------------------------


def _event(account: OfficialAccount, n: int, wechat_time: datetime, received_at: datetime) -> None:
    Event.objects.create(
        account=account,
        openid=f"oH{n}",
        kind="event.subscribe",
        dedupe_key=f"h-{n}",
        wechat_time=wechat_time,
        received_at=received_at,
        source=EventSource.CALLBACK,
        payload={},
    )


def test_the_overview_says_history_is_loading_while_old_events_arrive(
    account: OfficialAccount, operator: Client
) -> None:
    started = NOW - timedelta(days=90)
    for n, day in enumerate((0, 10, 37)):
        fan = _fan(account, f"oH{n}", is_following=True, followed_at=started + timedelta(days=day))
        FollowPeriod.objects.create(account=account, fan=fan, followed_at=fan.followed_at)
        _event(account, n, started + timedelta(days=day), NOW - timedelta(seconds=30))
    html = operator.get(_url("overview", account)).content.decode()
    assert 'id="history-loading"' in html
    assert "History still loading: 37 days so far." in html
    # Live traffic again: the newest event is current, so the history is in.
    _event(account, 9, NOW - timedelta(seconds=5), NOW)
    assert 'id="history-loading"' not in operator.get(_url("overview", account)).content.decode()


def test_a_replay_that_stopped_long_ago_is_not_loading(account: OfficialAccount, operator: Client) -> None:
    _event(account, 1, NOW - timedelta(days=60), NOW - timedelta(hours=2))
    assert 'id="history-loading"' not in operator.get(_url("overview", account)).content.decode()


def test_the_overview_says_so_while_a_follower_sync_runs(account: OfficialAccount, operator: Client) -> None:
    job = SyncJob.objects.create(account=account, status=SyncStatus.RUNNING)
    html = operator.get(_url("overview", account)).content.decode()
    assert "A follower sync is running: the numbers grow until it finishes." in html
    SyncJob.objects.filter(pk=job.pk).update(status=SyncStatus.DONE)
    assert 'id="history-loading"' not in operator.get(_url("overview", account)).content.decode()
