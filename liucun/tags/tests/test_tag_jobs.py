"""Tag jobs on the one job base: "every fan of this filter" stores the filter and walks the fans from a
checkpoint; a job killed mid-way is resumed by the stalled-job pass (wxsim over HTTP, the real task)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.fans.filters import FanFilter
from liucun.fans.models import Fan
from liucun.jobs.tests.helpers import WorkerKilled, queued_args, run_last_queued, silence, staff_client
from liucun.runner.scheduler import tick
from liucun.staff.models import AuditEntry
from liucun.tags import actions
from liucun.tags.models import FanTag, Tag, TagJob, TagJobStatus
from liucun.tags.tasks import run_tag_job
from liucun.testing.factories import make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db
TAGGING = "/cgi-bin/tags/members/batchtagging"


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=23) as url:
        yield url


@pytest.fixture
def control(wxsim_url: str) -> WxsimControl:
    return WxsimControl(wxsim_url)


class Calls:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str]]] = []
        self.kill_at: int | None = None  # die instead of making this batchtagging call (1 = the first)

    def tagging(self) -> list[list[str]]:
        return [openids for path, openids in self.sent if path == TAGGING]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """The member calls that reached wxsim, with their openids."""
    from liucun.wechat.client import WeChatClient

    seen = Calls()
    real = WeChatClient.post

    def post(self: WeChatClient, path: str, body: dict[str, Any], **kw: Any) -> Any:
        if path == TAGGING and seen.kill_at == len(seen.tagging()) + 1:
            raise WorkerKilled(path)
        answer = real(self, path, body, **kw)
        seen.sent.append((path, list(body.get("openid_list", []))))
        return answer

    monkeypatch.setattr(WeChatClient, "post", post)
    return seen


def _store_fans(control: WxsimControl, account: OfficialAccount, count: int, channel: str) -> list[str]:
    openids = control.add_fans(account.appid, count=count)
    Fan.objects.bulk_create(
        Fan(account=account, openid=o, is_following=True, channel=channel) for o in openids
    )
    return openids


def _tagged_in_wechat(control: WxsimControl, appid: str, tag: Tag) -> set[str]:
    return {f["openid"] for f in control.fans(appid) if tag.wechat_id in f.get("tagid_list", [])}


def test_tagging_every_fan_of_a_filter_stores_the_filter_and_resumes_after_a_kill(
    control: WxsimControl, calls: Calls
) -> None:
    account = make_account_on_wxsim(control)
    matching = _store_fans(control, account, 130, "store_7")  # more than one WeChat call (50)
    others = _store_fans(control, account, 20, "store_8")
    Fan.objects.bulk_create(
        Fan(account=account, openid=f"oGone{i}", is_following=False, channel="store_7") for i in range(5)
    )
    tag = actions.create_tag("op", account, "七号店")

    job = actions.tag_fans_matching("op", account, tag.pk, FanFilter(channel="store_7"))
    assert isinstance(job, TagJob)
    stored = TagJob.objects.get(pk=job.pk)
    assert (stored.fan_filter, stored.openids, stored.total) == ({"channel": "store_7"}, [], 130)
    entry = AuditEntry.objects.get(account=account, action="tags.tag_fans")
    assert entry.changes == {"job": job.pk, "fans": 130, "filter": {"channel": "store_7"}}

    # The worker dies as it is about to send the second batch: the first 50 are done and checkpointed.
    calls.kill_at = 2
    with pytest.raises(WorkerKilled):
        run_last_queued(run_tag_job)
    silence(stored)
    by_id = list(Fan.objects.filter(account=account, openid__in=matching).order_by("pk"))
    assert (stored.status, stored.done, stored.last_fan_id) == (TagJobStatus.RUNNING, 50, by_id[49].pk)
    assert _tagged_in_wechat(control, account.appid, tag) == {f.openid for f in by_id[:50]}

    page = staff_client(account).get(reverse("console:tag-jobs", kwargs={"appid": account.appid}))
    row = page.content.decode().split(f'id="tag-job-{job.pk}"')[1].split("</tr>")[0]
    assert "50 / 130 · 38%" in row and "stalled" in row and "七号店" in row

    calls.kill_at = None
    assert tick()["resume-stalled-jobs"] == 1
    assert queued_args(run_tag_job)[-1] == [job.pk, 2]
    run_last_queued(run_tag_job)

    stored.refresh_from_db()
    assert (stored.status, stored.attempt, stored.done, stored.total) == (TagJobStatus.DONE, 2, 130, 130)
    # Three calls in all, none of the first 50 sent twice; every matching follower tagged, no one else.
    assert calls.tagging() == [[f.openid for f in by_id[i : i + 50]] for i in (0, 50, 100)]
    assert _tagged_in_wechat(control, account.appid, tag) == set(matching)
    assert set(FanTag.objects.filter(tag=tag).values_list("fan__openid", flat=True)) == set(matching)
    assert not set(others) & _tagged_in_wechat(control, account.appid, tag)
    tag.refresh_from_db()
    assert tag.fan_count == 130
    assert run_tag_job.call(job.pk, 1) == "nothing to do"  # the dead run's task, delivered late
    progress = staff_client(account).get(
        reverse("console:tag-job-progress", kwargs={"appid": account.appid, "job_id": job.pk}),
        HTTP_HX_REQUEST="true",
    )
    assert progress.status_code == 286 and "130 / 130 · 100%" in progress.content.decode().replace(",", "")


def test_a_filter_job_skips_fans_who_have_twenty_tags(control: WxsimControl, calls: Calls) -> None:
    account = make_account_on_wxsim(control)
    openids = _store_fans(control, account, 60, "store_1")
    full = Fan.objects.get(account=account, openid=openids[3])
    many = Tag.objects.bulk_create(Tag(account=account, wechat_id=2000 + i, name=f"满{i}") for i in range(20))
    FanTag.objects.bulk_create(FanTag(fan=full, tag=t) for t in many)
    tag = actions.create_tag("op", account, "新标签")
    job = actions.tag_fans_matching("op", account, tag.pk, FanFilter(channel="store_1"))
    assert isinstance(job, TagJob)
    run_last_queued(run_tag_job)
    job.refresh_from_db()
    assert (job.status, job.done, job.result) == (TagJobStatus.DONE, 60, {"skipped_full": 1})
    assert [len(batch) for batch in calls.tagging()] == [49, 10]
    assert _tagged_in_wechat(control, account.appid, tag) == set(openids) - {full.openid}


def test_a_small_filter_is_tagged_at_once_and_an_empty_one_refused(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control)
    openids = _store_fans(control, account, 12, "store_2")
    tag = actions.create_tag("op", account, "小批")
    assert actions.tag_fans_matching("op", account, tag.pk, FanFilter(channel="store_2")) == 12
    assert not TagJob.objects.filter(account=account).exists()
    assert _tagged_in_wechat(control, account.appid, tag) == set(openids)
    assert actions.untag_fans_matching("op", account, tag.pk, FanFilter(channel="store_2")) == 12
    with pytest.raises(actions.TagError, match="No following fan matches"):
        actions.tag_fans_matching("op", account, tag.pk, FanFilter(channel="nowhere"))


def test_the_api_takes_a_filter_instead_of_openids(control: WxsimControl, client: Any) -> None:
    from liucun.console.tests.conftest import make_user, member
    from liucun.staff.models import Role

    account = make_account_on_wxsim(control)
    _store_fans(control, account, 55, "store_3")
    tag = actions.create_tag("op", account, "接口")
    client.force_login(member(make_user("operator"), account, Role.OPERATOR))
    url = f"/api/accounts/{account.appid}/tags/{tag.pk}/fans"
    both = client.post(url, {"openids": ["o1"], "filter": {"channel": "x"}}, content_type="application/json")
    bad = client.post(url, {"filter": {"colour": "red"}}, content_type="application/json")
    assert (both.status_code, bad.status_code) == (400, 400)
    assert "unknown filter field: colour" in bad.json()["detail"]
    assert not TagJob.objects.exists()
    answer = client.post(url, {"filter": {"channel": "store_3"}}, content_type="application/json")
    assert answer.status_code == 202
    body = answer.json()
    assert (body["fan_filter"], body["total"], body["done"], body["status"]) == (
        {"channel": "store_3"},
        55,
        0,
        "queued",
    )
    assert TagJob.objects.get(pk=body["id"]).openids == []


def test_a_failed_tag_job_is_resumed_from_the_console(control: WxsimControl) -> None:
    from liucun.console.tests.conftest import logged_in, make_user, member
    from liucun.staff.models import Role

    account = make_account_on_wxsim(control)
    openids = _store_fans(control, account, 70, "store_4")
    tag = actions.create_tag("op", account, "重试")
    job = actions.tag_fans("op", account, tag.pk, openids)
    assert isinstance(job, TagJob)
    TagJob.objects.filter(pk=job.pk).update(
        status=TagJobStatus.FAILED, done=50, error="WeChatAPIError: quota"
    )
    agent = staff_client(account)
    url = reverse("console:tag-job-resume", kwargs={"appid": account.appid, "job_id": job.pk})
    tags_page = agent.get(reverse("console:tags", kwargs={"appid": account.appid})).content.decode()
    assert "quota" in tags_page and url not in tags_page  # an agent sees why, but no button
    assert agent.post(url).status_code == 403
    operator = logged_in(member(make_user("op4"), account, Role.OPERATOR))
    assert url in operator.get(reverse("console:tags", kwargs={"appid": account.appid})).content.decode()
    operator.post(url)
    job.refresh_from_db()
    assert (job.status, job.attempt, job.error) == (TagJobStatus.QUEUED, 2, "")
    assert queued_args(run_tag_job)[-1] == [job.pk, 2]
    run_last_queued(run_tag_job)
    job.refresh_from_db()
    assert (job.status, job.done) == (TagJobStatus.DONE, 70)
    assert _tagged_in_wechat(control, account.appid, tag) == set(openids[50:])  # from the checkpoint on
    assert AuditEntry.objects.filter(account=account, action="tags.resume_job").count() == 1
