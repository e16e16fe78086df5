"""A real wxsim server over HTTP for the whole session; each test starts from a reset world."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator

import httpx
import pytest

from wxsim.control_client import WxsimControl, running_wxsim


@pytest.fixture(scope="session")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=7) as url:
        yield url


@pytest.fixture
def control(wxsim_url: str) -> WxsimControl:
    ctl = WxsimControl(wxsim_url)
    ctl.reset(seed=7)
    ctl.clock(mode="stepped", set=1_760_000_000)
    return ctl


@pytest.fixture
def http(wxsim_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=wxsim_url, timeout=30) as client:
        yield client


def new_account(control: WxsimControl, **overrides: object) -> dict[str, str]:
    spec = {
        "appid": "wx" + secrets.token_hex(8),
        "secret": secrets.token_hex(16),
        "token": "tok" + secrets.token_hex(4),
        "encoding_aes_key": "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43)),
        "original_id": "gh_" + secrets.token_hex(6),
        **overrides,
    }
    control.add_account(**spec)
    return spec  # type: ignore[return-value]


def token_for(http: httpx.Client, account: dict[str, str]) -> str:
    answer = http.get(
        "/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": account["appid"], "secret": account["secret"]},
    ).json()
    return str(answer["access_token"])
