"""The follower sync's reading side: user/get pages, and user/info/batchget for followers Liucun does not
know yet, 100 a call, several calls at a time, one page ahead of the writing.

At a million new followers a sync makes 10,000 batchget calls; one at a time, their round trips would be
most of its wall time. The helper threads share the client's keep-alive pool and use the token the
calling thread holds, so they never touch the database; a batch whose token was refused is read again
by the calling thread, which refreshes the token through the shared store.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan
from liucun.wechat.api import users
from liucun.wechat.apierrors import TokenError
from liucun.wechat.client import WeChatClient

BATCHGET = 100  # WeChat's limit for user/info/batchget
CHUNK = 500  # openids per IN (...) clause
PROFILE_THREADS = 4  # batchget calls in flight at once


@dataclass
class Page:
    openids: list[str]
    total: int = 0
    next_openid: str = ""
    # Every listed fan followed at this moment: a sync fact is never newer than it (fans/lifecycle.py).
    read_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Pending:
    chunks: list[list[str]] = field(default_factory=list)
    answers: list[Future[list[users.UserInfo] | None]] = field(default_factory=list)


def chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class FollowerReader:
    def __init__(
        self, client: WeChatClient, account: OfficialAccount, threads: int = PROFILE_THREADS
    ) -> None:
        self._client, self._account = client, account
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="batchget")

    def page(self, next_openid: str | None) -> Page:
        """One user/get page after `next_openid` ("" for the first); None: there is no next page."""
        if next_openid is None:
            return Page([])
        page = users.followers(self._client, next_openid)
        return Page(page.openids, page.total or 0, page.next_openid)

    def start(self, page: Page) -> Pending:
        """Start reading the profiles of the page's followers Liucun does not know as following: new fans,
        and fans it believes gone (the time and scene of their refollow). Which ones those are is read on
        this thread's database connection."""
        following: set[str] = set()
        for chunk in chunks(page.openids, CHUNK):
            following.update(
                Fan.objects.filter(account=self._account, openid__in=chunk, is_following=True).values_list(
                    "openid", flat=True
                )
            )
        batches = list(chunks([o for o in page.openids if o not in following], BATCHGET))
        if not batches:
            return Pending()
        helper = self._client.pinned()
        return Pending(batches, [self._pool.submit(self._try, helper, batch) for batch in batches])

    def finish(self, pending: Pending) -> dict[str, dict[str, Any]]:
        infos: dict[str, dict[str, Any]] = {}
        for chunk, answer in zip(pending.chunks, pending.answers, strict=True):
            read = answer.result()
            for info in read if read is not None else self._read(self._client, chunk):
                infos[info["openid"]] = dict(info)
        return infos

    def read_all(self, openids: list[str]) -> dict[str, dict[str, Any]]:
        """Profiles of these followers, known or not (for measuring what reading costs)."""
        helper = self._client.pinned()
        batches = list(chunks(openids, BATCHGET))
        return self.finish(Pending(batches, [self._pool.submit(self._try, helper, b) for b in batches]))

    @staticmethod
    def _read(client: WeChatClient, chunk: list[str]) -> list[users.UserInfo]:
        return users.batch_info(client, chunk)

    @classmethod
    def _try(cls, client: WeChatClient, chunk: list[str]) -> list[users.UserInfo] | None:
        try:
            return cls._read(client, chunk)
        except TokenError:
            return None

    def close(self) -> None:
        self._pool.shutdown()
