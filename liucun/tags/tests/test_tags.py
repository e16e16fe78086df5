"""Tags two-way with WeChat (wxsim over real HTTP): limits, batching, pulls, jobs, blacklist, scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.models import Fan
from liucun.fans.queries import FanFilter, fans
from liucun.staff.models import AuditEntry
from liucun.tags import actions
from liucun.tags.jobs import run_job
from liucun.tags.models import BlacklistEntry, FanTag, Tag, TagJob, TagJobStatus
from liucun.testing.factories import make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=14) as url:
        yield url


@pytest.fixture
def control(wxsim_url: str) -> WxsimControl:
    return WxsimControl(wxsim_url)


def _account_with_fans(control: WxsimControl, count: int) -> tuple[OfficialAccount, list[str]]:
    account = make_account_on_wxsim(control)
    openids = control.add_fans(account.appid, count=count)
    Fan.objects.bulk_create(Fan(account=account, openid=o, is_following=True) for o in openids)
    return account, openids


def _wx_tags(control: WxsimControl, appid: str) -> dict[str, list[int]]:
    return {f["openid"]: f.get("tagid_list", []) for f in control.fans(appid) if f["subscribe"]}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every POST our client makes (path, list size), still sent to wxsim for real."""
    from liucun.wechat.client import WeChatClient

    seen: list[tuple[str, int]] = []
    real = WeChatClient.post

    def spy(self: WeChatClient, path: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        seen.append((path, len(body.get("openid_list", []))))
        return real(self, path, body, **kw)

    monkeypatch.setattr(WeChatClient, "post", spy)
    return seen


def test_create_rename_delete_round_trip(control: WxsimControl) -> None:
    account, _ = _account_with_fans(control, 1)
    tag = actions.create_tag("op", account, "老客户")
    with client_for(account) as client:
        assert {"id": tag.wechat_id, "name": "老客户"} in [
            {"id": t["id"], "name": t["name"]} for t in client.get("/cgi-bin/tags/get")["tags"]
        ]
        actions.rename_tag("op", account, tag.pk, "忠实客户")
        assert "忠实客户" in [t["name"] for t in client.get("/cgi-bin/tags/get")["tags"]]
        actions.delete_tag("op", account, tag.pk)
        assert tag.wechat_id not in [t["id"] for t in client.get("/cgi-bin/tags/get")["tags"]]
    assert not Tag.objects.filter(account=account).exists()
    actions_logged = list(AuditEntry.objects.filter(account=account).values_list("action", flat=True))
    assert {"tags.create", "tags.rename", "tags.delete"} <= set(actions_logged)


def test_names_and_the_100_tag_limit_are_checked_before_wechat(control: WxsimControl) -> None:
    account, _ = _account_with_fans(control, 1)
    with pytest.raises(actions.TagError, match="30 bytes"):
        actions.create_tag("op", account, "一二三四五六七八九十一")  # 11 Chinese characters = 33 bytes
    actions.create_tag("op", account, "重复")
    with pytest.raises(actions.TagError, match="already exists"):
        actions.create_tag("op", account, "重复")
    Tag.objects.bulk_create(Tag(account=account, wechat_id=1000 + i, name=f"t{i}") for i in range(99))
    with pytest.raises(actions.TagError, match="100 tags"):
        actions.create_tag("op", account, "第101个")


def test_wechat_refusal_is_explained(control: WxsimControl) -> None:
    account, _ = _account_with_fans(control, 1)
    with client_for(account) as client:
        client.post("/cgi-bin/tags/create", {"tag": {"name": "后台建的"}})
    # Liucun does not know this tag yet, so its own duplicate check passes; WeChat refuses (45157).
    with pytest.raises(actions.TagError, match=r"already exists.*45157"):
        actions.create_tag("op", account, "后台建的")
    assert not Tag.objects.filter(account=account).exists()


def test_bulk_tagging_batches_50_a_call_in_a_resumable_job(
    control: WxsimControl, calls: list[tuple[str, int]]
) -> None:
    account, openids = _account_with_fans(control, 120)
    tag = actions.create_tag("op", account, "活动参与")
    job = actions.tag_fans("op", account, tag.pk, openids)
    assert isinstance(job, TagJob) and job.total == 120
    # The worker dies after the first batch: the checkpoint says 50 done.
    TagJob.objects.filter(pk=job.pk).update(done=50, status=TagJobStatus.RUNNING)
    FanTag.objects.bulk_create(
        FanTag(fan=f, tag=tag) for f in Fan.objects.filter(account=account, openid__in=openids[:50])
    )
    job.refresh_from_db()
    run_job(job)
    job.refresh_from_db()
    assert job.status == TagJobStatus.DONE and job.done == 120
    assert [n for path, n in calls if path.endswith("batchtagging")] == [50, 20]
    wx = _wx_tags(control, account.appid)
    assert {o for o, tags in wx.items() if tag.wechat_id in tags} == set(openids[50:])  # resumed part
    assert FanTag.objects.filter(tag=tag).count() == 120
    tag.refresh_from_db()
    assert tag.fan_count == 120
    assert fans(account, FanFilter(tag=tag.pk)).count() == 120


def test_twenty_tags_a_fan_is_refused_naming_the_fan(control: WxsimControl) -> None:
    account, openids = _account_with_fans(control, 3)
    tags = [actions.create_tag("op", account, f"标签{i}") for i in range(21)]
    for tag in tags[:20]:
        actions.tag_fans("op", account, tag.pk, [openids[0]])
    with pytest.raises(actions.TagError, match=rf"20 tags.*{openids[0]}"):
        actions.tag_fans("op", account, tags[20].pk, openids)
    assert not FanTag.objects.filter(tag=tags[20]).exists()
    assert all(tags[20].wechat_id not in t for t in _wx_tags(control, account.appid).values())


def test_unknown_fans_are_refused(control: WxsimControl) -> None:
    account, openids = _account_with_fans(control, 2)
    tag = actions.create_tag("op", account, "x")
    with pytest.raises(actions.TagError, match="oSomeoneElse"):
        actions.tag_fans("op", account, tag.pk, [openids[0], "oSomeoneElse"])
    assert not FanTag.objects.exists()


def test_a_fan_who_unfollowed_while_the_call_was_made_gets_no_tag(control: WxsimControl) -> None:
    from liucun.tags.jobs import apply_batch

    account, openids = _account_with_fans(control, 3)
    tag = actions.create_tag("op", account, "临期")
    fan_ids = dict(Fan.objects.filter(account=account).values_list("openid", "id"))
    # Chosen while following, gone by the time the memberships are written (the unfollow cleared tags).
    Fan.objects.filter(openid=openids[0]).update(is_following=False)
    with client_for(account) as client:
        apply_batch(client, tag, "tag", openids, fan_ids)
    assert set(FanTag.objects.filter(tag=tag).values_list("fan__openid", flat=True)) == set(openids[1:])
    tag.refresh_from_db()
    assert tag.fan_count == 2


def test_untag(control: WxsimControl) -> None:
    account, openids = _account_with_fans(control, 4)
    tag = actions.create_tag("op", account, "临时")
    assert actions.tag_fans("op", account, tag.pk, openids) == 4
    assert actions.untag_fans("op", account, tag.pk, openids[:2]) == 2
    assert set(FanTag.objects.filter(tag=tag).values_list("fan__openid", flat=True)) == set(openids[2:])
    assert {o for o, t in _wx_tags(control, account.appid).items() if tag.wechat_id in t} == set(openids[2:])


def test_pull_brings_tags_made_in_wechat(control: WxsimControl) -> None:
    account, openids = _account_with_fans(control, 30)
    stale = actions.create_tag("op", account, "将被后台删除")
    with client_for(account) as client:
        made = client.post("/cgi-bin/tags/create", {"tag": {"name": "后台标签"}})["tag"]["id"]
        client.post("/cgi-bin/tags/members/batchtagging", {"openid_list": openids[:12], "tagid": made})
        client.post("/cgi-bin/tags/delete", {"tag": {"id": stale.wechat_id}})
    Fan.objects.filter(account=account, openid=openids[0]).delete()  # a follower Liucun has not met yet
    job = actions.start_pull_tags("op", account)
    run_job(job)
    job.refresh_from_db()
    assert job.status == TagJobStatus.DONE and job.done == job.total
    assert job.result["unknown_fans"] == 1 and job.result["removed_tags"] == 1
    tag = Tag.objects.get(account=account, wechat_id=made)
    assert tag.name == "后台标签" and tag.fan_count == 12
    assert set(FanTag.objects.filter(tag=tag).values_list("fan__openid", flat=True)) == set(openids[1:12])


def test_blacklist_sync_and_changes(control: WxsimControl) -> None:
    account, openids = _account_with_fans(control, 25)
    with client_for(account) as client:
        client.post("/cgi-bin/tags/members/batchblacklist", {"openid_list": openids[:3]})
    assert actions.sync_blacklist("op", account) == 3
    assert set(BlacklistEntry.objects.filter(account=account).values_list("openid", flat=True)) == set(
        openids[:3]
    )
    actions.blacklist_fans("op", account, openids[3:25])  # 22 fans: two calls of at most 20
    actions.unblacklist_fans("op", account, openids[:1])
    listed = {f["openid"] for f in control.fans(account.appid) if f["blacklisted"]}
    assert listed == set(openids[1:25])
    assert set(BlacklistEntry.objects.filter(account=account).values_list("openid", flat=True)) == listed


def test_outsider_gets_404_from_every_tag_endpoint(control: WxsimControl, client: Any) -> None:
    from django.contrib.auth import get_user_model

    account, openids = _account_with_fans(control, 2)
    tag = actions.create_tag("op", account, "别人的")
    outsider = get_user_model().objects.create_user("outsider", password="x" * 12)
    client.force_login(outsider)
    base = f"/api/accounts/{account.appid}"
    for method, url in [
        ("get", f"{base}/tags"),
        ("post", f"{base}/tags"),
        ("patch", f"{base}/tags/{tag.pk}"),
        ("delete", f"{base}/tags/{tag.pk}"),
        ("post", f"{base}/tags/{tag.pk}/fans"),
        ("post", f"{base}/tags/pull"),
        ("get", f"{base}/blacklist"),
        ("post", f"{base}/blacklist/sync"),
    ]:
        answer = getattr(client, method)(
            url, {"name": "x", "openids": openids}, content_type="application/json"
        )
        assert answer.status_code == 404, url
    assert Tag.objects.get(pk=tag.pk).name == "别人的" and not FanTag.objects.exists()
