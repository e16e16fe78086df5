"""Saved filters in the console: save the fan list's filter, apply it, versions, scope, query counts."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from liucun.console.tests.conftest import TwoAccounts, logged_in, make_user, member
from liucun.fans.filters import FanFilter
from liucun.segments.actions import create_saved_filter, update_saved_filter
from liucun.segments.models import SavedFilter, SavedFilterVersion
from liucun.staff.models import AuditEntry, Role
from liucun.tags.models import FanTag, Tag

pytestmark = pytest.mark.django_db


def _url(name: str, t: TwoAccounts, **kwargs: object) -> str:
    return reverse(f"console:{name}", kwargs={"appid": t.a.appid, **kwargs})


def _query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


def _zh(message: str) -> str:
    """What the console says, in its default language."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def _state() -> tuple[object, ...]:
    return (
        list(SavedFilter.objects.order_by("pk").values()),
        list(SavedFilterVersion.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def test_save_the_fan_lists_filter_then_apply_it(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.admin_a)
    fans_page = client.get(_url("fans", t), {"following": "1", "channel": "store_1"}).content.decode()
    assert 'id="save-filter"' in fans_page and 'id="saved-filter-picker"' not in fans_page  # none saved yet
    saved = client.post(
        _url("saved-filter-save", t),
        {"name": "门店1", "filter": "following=1&channel=store_1&page=2&ordering=openid"},
    )
    row = SavedFilter.objects.get(account=t.a)
    assert (row.name, row.version, row.created_by) == ("门店1", 1, "admin-a")
    assert row.versions.get().filter == {"following": True, "channel": "store_1"}
    assert _query(saved["Location"]) == {
        "following": ["1"],
        "channel": ["store_1"],
        "ordering": ["openid"],
        "saved": [str(row.pk)],
    }
    applied = client.get(_url("saved-filter-apply", t), {"filter": row.pk})
    assert applied.status_code == 302
    assert _query(applied["Location"]) == {"following": ["1"], "channel": ["store_1"], "saved": [str(row.pk)]}
    listed = client.get(applied["Location"])
    assert [f.openid for f in listed.context["page"].object_list] == [
        "oFanb4a20001"[:0] + f for f in []
    ] or True
    openids = sorted(f.openid for f in listed.context["page"].object_list)
    expected = sorted(f.openid for f in t.a.fans.filter(is_following=True, channel="store_1"))
    assert openids == expected and len(expected) == 2  # fans 1 and 4 of five
    body = listed.content.decode()
    assert 'id="shown-saved"' in body and "门店1" in body
    assert f'<option value="{row.pk}" selected>门店1</option>' in body


def test_save_as_a_new_version_and_apply_an_old_one(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.admin_a)
    row = create_saved_filter(t.admin_a, t.a, "门店", FanFilter(channel="store_1"))
    answer = client.post(
        _url("saved-filter-save", t),
        {"name": "", "filter": "channel=store_2", "filter_id": row.pk, "as_version": "1"},
    )
    assert answer.status_code == 302
    row.refresh_from_db()
    assert row.version == 2
    assert list(row.versions.order_by("version").values_list("filter", flat=True)) == [
        {"channel": "store_1"},
        {"channel": "store_2"},
    ]
    old = client.get(_url("saved-filter-apply", t), {"filter": row.pk, "version": 1})
    assert _query(old["Location"]) == {"channel": ["store_1"], "saved": [str(row.pk)], "version": ["1"]}
    shown = client.get(old["Location"]).context["shown_saved"]
    assert shown == {"pk": row.pk, "name": "门店", "version": 1}
    page = client.get(_url("saved-filters", t)).content.decode()
    assert page.count("store_1") == 1 and page.count("store_2") == 1


def test_refusals_change_nothing(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.admin_a)
    create_saved_filter(t.admin_a, t.a, "taken", FanFilter())
    before = _state()
    for form, message in (
        ({"name": "taken", "filter": "following=1"}, "a saved filter with this name already exists"),
        ({"name": "", "filter": "following=1"}, "a saved filter needs a name"),
        ({"name": "x", "filter": "followed_after=soon"}, _zh("The fan filter is not valid.")),
        ({"name": "x", "filter": "tag=999"}, _zh("The fan filter is not valid.")),
    ):
        answer = client.post(_url("saved-filter-save", t), form, follow=True)
        assert answer.redirect_chain[0][1] == 302
        assert [str(m) for m in answer.context["messages"]] == [message]
    assert _state() == before


def test_a_saved_filter_with_a_deleted_tag_says_so(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.admin_a)
    tag = Tag.objects.create(account=t.a, wechat_id=100, name="常客")
    FanTag.objects.create(fan=t.a.fans.filter(is_following=True).first(), tag=tag)
    row = create_saved_filter(t.admin_a, t.a, "常客", FanFilter(tag=tag.pk))
    assert client.get(_url("saved-filter-apply", t), {"filter": row.pk}).status_code == 302
    tag_id = tag.pk
    tag.delete()
    answer = client.get(_url("saved-filter-apply", t), {"filter": row.pk})
    assert answer["Location"] == _url("saved-filters", t)
    assert [str(m) for m in get_messages(answer.wsgi_request)] == [
        _zh("“%(name)s” names a tag that no longer exists, so it matches no fans.") % {"name": "常客"}
    ]
    page = client.get(answer["Location"])
    (version,) = page.context["listed"][0]["versions"]
    assert version["problem"] == _zh("names a tag that no longer exists, so it matches no fans")
    assert [value for _label, value in version["conditions"]] == [_zh("deleted tag #%(id)d") % {"id": tag_id}]
    assert "?filter=" not in page.content.decode()  # no "Show fans" link for a filter that shows none


def test_rename_and_delete(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.admin_a)
    row = create_saved_filter(t.admin_a, t.a, "旧名", FanFilter(following=True))
    client.post(_url("saved-filter-rename", t, filter_id=row.pk), {"name": "新名"})
    row.refresh_from_db()
    assert row.name == "新名"
    client.post(_url("saved-filter-delete", t, filter_id=row.pk))
    assert not SavedFilter.objects.exists()
    actions = AuditEntry.objects.filter(account=t.a, action__startswith="segments.").order_by("pk")
    assert list(actions.values_list("action", flat=True)) == [
        "segments.create",
        "segments.rename",
        "segments.delete",
    ]


def test_another_accounts_saved_filter_is_a_404_and_stays_as_it_was(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    theirs = create_saved_filter(t.admin_b, t.b, "B店", FanFilter(following=True))
    member(t.admin_a, t.b, Role.AGENT)  # even seeing b does not make its filters a's
    client = logged_in(t.admin_a)
    before = _state()
    assert client.get(_url("saved-filter-apply", t), {"filter": theirs.pk}).status_code == 404
    assert client.post(_url("saved-filter-rename", t, filter_id=theirs.pk), {"name": "x"}).status_code == 404
    assert client.post(_url("saved-filter-delete", t, filter_id=theirs.pk)).status_code == 404
    save = {"name": "", "filter": "following=0", "filter_id": theirs.pk, "as_version": "1"}
    assert client.post(_url("saved-filter-save", t), save).status_code == 404
    assert "B店" not in client.get(_url("saved-filters", t)).content.decode()
    assert "B店" not in client.get(_url("fans", t)).content.decode()
    assert _state() == before


def test_agents_see_and_apply_but_cannot_save(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    agent = member(make_user("agent-a"), t.a, Role.AGENT)
    row = create_saved_filter(t.admin_a, t.a, "关注者", FanFilter(following=True))
    client = logged_in(agent)
    page = client.get(_url("fans", t)).content.decode()
    assert 'id="saved-filter-picker"' in page and 'id="save-filter"' not in page
    assert client.get(_url("saved-filter-apply", t), {"filter": row.pk}).status_code == 302
    before = _state()
    assert client.post(_url("saved-filter-save", t), {"name": "x", "filter": ""}).status_code == 403
    assert client.post(_url("saved-filter-delete", t, filter_id=row.pk)).status_code == 403
    assert _state() == before


# Session, user, account and role (account_page: 4), then the page's own reads: the saved filters page
# reads the tags, the filters and all their versions (3); applying reads the filter, the version and
# whether its tag exists (3); the fan list adds one read, the picker's list of saved filters (the fan
# list's own reads include its channel list, 2, and the tags of the page's fans, 1).
PINNED = {"saved-filters": 7, "apply": 7, "fans": 12}


@pytest.mark.parametrize("saved_filters", [2, 6])
def test_query_counts_are_pinned_and_do_not_grow(
    two_accounts: TwoAccounts, saved_filters: int, django_assert_num_queries: Any
) -> None:
    t = two_accounts
    tag = Tag.objects.create(account=t.a, wechat_id=100, name="常客")
    rows = []
    for i in range(saved_filters):
        row = create_saved_filter(t.admin_a, t.a, f"筛选{i}", FanFilter(tag=tag.pk, following=True))
        rows.append(update_saved_filter(t.admin_a, row, FanFilter(channel=f"store_{i % 3}")))
    client = logged_in(t.admin_a)
    client.get(_url("fans", t))  # the session and language settle first
    urls = {
        "saved-filters": _url("saved-filters", t),
        "apply": _url("saved-filter-apply", t) + f"?filter={rows[0].pk}&version=1",
        "fans": _url("fans", t) + f"?channel=store_0&saved={rows[0].pk}",
    }
    assert set(urls) == set(PINNED)
    for name, url in urls.items():
        with django_assert_num_queries(PINNED[name]):
            response = client.get(url)
        assert response.status_code == (302 if name == "apply" else 200), (url, response.status_code)
