"""Background jobs of the fan CRM. Each is idempotent: running it twice leaves the same state."""

from __future__ import annotations

import logging

from django_tasks import task

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.actions import apply_profile
from liucun.wechat.apierrors import PermanentError

log = logging.getLogger(__name__)


@task()
def refresh_fan_profile(account_id: int, openid: str) -> bool:
    account = OfficialAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None or not account.capabilities.user_management:
        return False
    client = client_for(account)
    try:
        info = client.get("/cgi-bin/user/info", {"openid": openid, "lang": "zh_CN"})
    except PermanentError as exc:
        log.info("user/info for a fan of %s refused: %s", account.appid, exc)
        return False
    finally:
        client.close()
    return apply_profile(account_id, openid, info) is not None
