"""The WeChat client of an account: its base URL, credentials and shared token store wired together."""

from __future__ import annotations

from django.conf import settings

from liucun.accounts.models import OfficialAccount
from liucun.accounts.tokens import SharedTokenStore
from liucun.wechat.client import FetchedToken, WeChatClient


def client_for(account: OfficialAccount) -> WeChatClient:
    client = WeChatClient(
        base_url=account.api_base_url,
        appid=account.appid,
        secret=account.secret,
        timeout=settings.LIUCUN_WECHAT_TIMEOUT,
        max_retries=settings.LIUCUN_WECHAT_MAX_RETRIES,
    )

    def fetch(*, rejected: str | None = None) -> FetchedToken:
        return client.fetch_token(rejected=rejected)

    client.tokens = SharedTokenStore(account.pk, fetch)
    return client
