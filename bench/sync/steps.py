"""The steps of bench.sync, run inside a configured Django."""

from __future__ import annotations

from typing import Any

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.actions import start_follower_sync
from liucun.fans.models import Fan, SyncJob, SyncStatus
from liucun.fans.sync import run_sync
from liucun.fans.sync_reading import FollowerReader
from wxsim.control_client import WxsimControl

SCENES = ["store_001", "store_002", "giveaway_11", "event_2026", "", "", ""]
LOAD_CHUNK = 100_000


def add_followers(control: WxsimControl, appid: str, n: int) -> None:
    done = 0
    while done < n:
        count = min(LOAD_CHUNK, n - done)
        control.add_fans(appid, count=count, scene=SCENES[(done // LOAD_CHUNK) % len(SCENES)])
        done += count


def _pages(client: Any) -> Any:
    next_openid = ""
    while True:
        page = client.get("/cgi-bin/user/get", {"next_openid": next_openid} if next_openid else {})
        openids = list(page.get("data", {}).get("openid", [])) if page.get("count") else []
        if not openids:
            return
        yield openids
        next_openid = str(page.get("next_openid", ""))


def baseline_read(account: OfficialAccount) -> int:
    """What reading WeChat costs: every page and every profile, as the sync reads them, nothing written."""
    read = 0
    with client_for(account) as client:
        reader = FollowerReader(client, account)
        try:
            for openids in _pages(client):
                read += len(reader.read_all(openids))
        finally:
            reader.close()
    return read


def wechat_followers(account: OfficialAccount) -> set[str]:
    with client_for(account) as client:
        return {o for page in _pages(client) for o in page}


def following_in_liucun(account: OfficialAccount) -> set[str]:
    return set(Fan.objects.filter(account=account, is_following=True).values_list("openid", flat=True))


def sync_once(account: OfficialAccount, stop_after: int | None = None) -> SyncJob:
    job = start_follower_sync("bench", account)
    with client_for(account) as client:
        if stop_after is not None:
            run_sync(job, client, max_pages=stop_after)
            # The worker "dies" here: the job stays running with its checkpoint, and is picked up again.
            done_before = SyncJob.objects.get(pk=job.pk).pages_done
            assert done_before == stop_after
        run_sync(job, client)
    job.refresh_from_db()
    assert job.status == SyncStatus.DONE, job.error
    return job
