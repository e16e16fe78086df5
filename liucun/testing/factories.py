"""Builders of realistic test data through the real action functions."""

from __future__ import annotations

import secrets
import string
from typing import Any

from liucun.accounts.actions import create_account
from liucun.accounts.models import OfficialAccount

_ALNUM = string.ascii_letters + string.digits


def random_aes_key() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(43))


def make_account(
    *,
    mode: str = "safe",
    account_type: str = "service",
    verified: bool = True,
    welcome_text: str = "欢迎关注！回复“帮助”查看服务。",
    api_base_url: str | None = None,
    name: str | None = None,
) -> OfficialAccount:
    appid = "wx" + secrets.token_hex(8)
    fields: dict[str, Any] = dict(
        original_id="gh_" + secrets.token_hex(6),
        name=name or f"测试账号 {appid[-4:]}",
        account_type=account_type,
        verified=verified,
        token="tok" + secrets.token_hex(8),
        encoding_aes_key=random_aes_key(),
        secret=secrets.token_hex(16),
        encryption_mode=mode,
        welcome_text=welcome_text,
    )
    if api_base_url:
        fields["api_base_url"] = api_base_url
    return create_account(appid=appid, **fields)


def make_account_on_wxsim(control: Any, **fields: Any) -> OfficialAccount:
    """An account in Liucun that talks to wxsim, and the same account inside wxsim.

    `control` is a wxsim.control_client.WxsimControl; `callback_url` (optional) is where wxsim delivers,
    and may name the account as "{appid}".
    """
    callback_template = fields.pop("callback_url", "")
    account = make_account(api_base_url=control.base_url, **fields)
    control.add_account(
        appid=account.appid,
        secret=account.secret,
        token=account.token,
        encoding_aes_key=account.encoding_aes_key,
        original_id=account.original_id,
        account_type=account.account_type,
        verified=account.verified,
        mode=account.encryption_mode,
        callback_url=callback_template.format(appid=account.appid),
    )
    return account
