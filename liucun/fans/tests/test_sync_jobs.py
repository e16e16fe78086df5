"""A follower sync on the one job base: killed mid-way, resumed by the worker's stalled-job pass from
its checkpoint, with its progress in the console all along (wxsim over HTTP, the real task)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from liucun.fans.actions import start_follower_sync
from liucun.fans.models import Fan, SyncStatus
from liucun.fans.tasks import sync_followers
from liucun.jobs.tests.helpers import WorkerKilled, queued_args, run_last_queued, silence, staff_client
from liucun.runner.scheduler import tick
from liucun.testing.factories import make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=21) as url:
        yield url


class Calls:
    """The WeChat calls that reached wxsim (path, what they asked for); kills the worker at one."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.kill_at: tuple[str, int] | None = None  # (path, n): die instead of making the n-th call

    def before(self, path: str) -> None:
        made = sum(p == path for p, _ in self.sent)
        if self.kill_at and self.kill_at == (path, made + 1):
            raise WorkerKilled(path)

    def of(self, path: str) -> list[Any]:
        return [what for p, what in self.sent if p == path]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    from liucun.wechat.client import WeChatClient

    seen = Calls()
    real_get, real_post = WeChatClient.get, WeChatClient.post

    def get(self: WeChatClient, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        seen.before(path)
        answer = real_get(self, path, params, **kw)
        seen.sent.append((path, dict(params or {})))
        return answer

    def post(self: WeChatClient, path: str, body: dict[str, Any], **kw: Any) -> Any:
        seen.before(path)
        answer = real_post(self, path, body, **kw)
        seen.sent.append((path, [u["openid"] for u in body.get("user_list", [])]))
        return answer

    monkeypatch.setattr(WeChatClient, "get", get)
    monkeypatch.setattr(WeChatClient, "post", post)
    return seen


def test_a_sync_killed_mid_way_resumes_from_its_checkpoint(wxsim_url: str, calls: Calls) -> None:
    control = WxsimControl(wxsim_url)
    account = make_account_on_wxsim(control)
    control.add_fans(account.appid, count=10_003)  # two pages of user/get: 10,000 and 3
    job = start_follower_sync("tester", account)
    assert queued_args(sync_followers) == [[job.pk, 1]]

    # The worker dies after the first page was stored, as it asks for what follows the second.
    calls.kill_at = ("/cgi-bin/user/get", 3)
    with pytest.raises(WorkerKilled):
        run_last_queued(sync_followers)
    silence(job)
    assert (job.status, job.attempt, job.pages_done, job.seen, job.total) == ("running", 1, 1, 10_000, 10_003)
    assert Fan.objects.filter(account=account).count() == 10_000
    assert job.stalled

    # The console shows it, stalled, with its progress.
    page = (
        staff_client(account).get(reverse("console:sync", kwargs={"appid": account.appid})).content.decode()
    )
    row = page.split(f'id="sync-{job.pk}"')[1].split("</tr>")[0]
    assert "10000 / 10003 · 99%" in row.replace(",", "") and "stalled" in row

    checkpoint = job.next_openid
    calls.kill_at, calls.sent = None, []
    assert tick()["resume-stalled-jobs"] == 1
    assert queued_args(sync_followers)[-1] == [job.pk, 2]
    run_last_queued(sync_followers)

    job.refresh_from_db()
    assert (job.status, job.attempt, job.pages_done, job.seen, job.created_fans) == (
        SyncStatus.DONE,
        2,
        2,
        10_003,
        10_003,
    )
    # Nothing of the first page was read again: user/get from the checkpoint on, profiles of the 3 only.
    assert calls.of("/cgi-bin/user/get") == [{"next_openid": checkpoint}, {"next_openid": job.next_openid}]
    assert [len(batch) for batch in calls.of("/cgi-bin/user/info/batchget")] == [3]
    assert Fan.objects.filter(account=account, is_following=True).count() == 10_003
    # A late delivery of the dead run's task finds nothing to do.
    assert sync_followers.call(job.pk, 1) == "nothing to do"
    progress = staff_client(account).get(
        reverse("console:sync-progress", kwargs={"appid": account.appid, "job_id": job.pk}),
        HTTP_HX_REQUEST="true",
    )
    assert progress.status_code == 286  # over: the row stops polling
    row = progress.content.decode()
    assert "10003 / 10003 · 100%" in row.replace(",", "") and "stalled" not in row
