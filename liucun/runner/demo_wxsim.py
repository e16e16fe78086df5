"""The demo of `liucun run`: one account on a local wxsim, with a simulated population.

The account's credentials and the start of its simulated history are kept in $LIUCUN_DATA_DIR/demo.json,
so every run replays the same 90 days (the event store deduplicates them) before live traffic begins.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from liucun.accounts.actions import create_account, update_account
from liucun.accounts.models import OfficialAccount
from liucun.autoreply.demo import seed_demo as seed_rules
from liucun.channels.demo import seed_demo as seed_channels
from liucun.inbox.demo import seed_demo as seed_inbox
from liucun.menus.demo import seed_demo as seed_menus
from liucun.pushimpact.demo import seed_demo as seed_pushes
from liucun.runner.demo import DemoSetup
from liucun.runner.processes import spawn

DEMO_APPID = "wx6c697563756e0001"
DEMO_NAME = "留存演示号"
DEMO_WELCOME = "欢迎关注留存演示号！回复“积分”查询积分，点击菜单预约到店服务。"
HISTORY_DAYS = 90


def _credentials() -> dict[str, Any]:
    path = Path(settings.DATA_DIR) / "demo.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    alphabet = string.ascii_letters + string.digits
    data = {
        "appid": DEMO_APPID,
        "original_id": "gh_" + secrets.token_hex(6),
        "token": "demo" + secrets.token_hex(8),
        "encoding_aes_key": "".join(secrets.choice(alphabet) for _ in range(43)),
        "secret": secrets.token_hex(16),
        "history_start": int(time.time()) - HISTORY_DAYS * 86400,
        "seed": 2026,
    }
    path.write_text(json.dumps(data, indent=2))
    path.chmod(0o600)
    return data


def start_demo(children: list[subprocess.Popen[bytes]], *, liucun_url: str) -> DemoSetup:
    port = int(os.environ.get("LIUCUN_DEMO_WXSIM_PORT", "8090"))
    wxsim_url = f"http://127.0.0.1:{port}"
    demo = _credentials()
    if not _port_free(port):
        return DemoSetup(
            [
                f"demo: port {port} is taken (an earlier wxsim still running?); no demo account started.",
                "demo: stop that process, or set LIUCUN_DEMO_WXSIM_PORT to a free port, and run again",
            ]
        )
    children.append(
        spawn(
            "wxsim",
            [sys.executable, "-m", "wxsim", "serve", "--port", str(port), "--seed", str(demo["seed"])],
        )
    )
    http = httpx.Client(base_url=wxsim_url, timeout=30)
    deadline = time.monotonic() + 30
    while True:
        try:
            http.get("/wxsim/clock")
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                return DemoSetup([f"demo: wxsim did not start on port {port}; no demo account"])
            time.sleep(0.2)
    fields = dict(
        original_id=demo["original_id"],
        name=DEMO_NAME,
        account_type="service",
        verified=True,
        token=demo["token"],
        encoding_aes_key=demo["encoding_aes_key"],
        secret=demo["secret"],
        encryption_mode="safe",
        api_base_url=wxsim_url,
        welcome_text=DEMO_WELCOME,
    )
    existing = OfficialAccount.objects.filter(appid=DEMO_APPID).first()
    if existing is None:
        create_account(appid=DEMO_APPID, **fields)
    else:
        update_account(existing, **fields)
    seed_channels(OfficialAccount.objects.get(appid=DEMO_APPID))
    seed_inbox(OfficialAccount.objects.get(appid=DEMO_APPID))
    seed_rules(OfficialAccount.objects.get(appid=DEMO_APPID))
    try:
        _register_account(http, demo, liucun_url)
        # Before the replay starts: its accelerated clock would expire each access token as it is issued.
        seed_menus(OfficialAccount.objects.get(appid=DEMO_APPID))
        _start_population(http, demo)
        seed_pushes(OfficialAccount.objects.get(appid=DEMO_APPID), demo["history_start"])
    except httpx.HTTPError as exc:
        return DemoSetup([f"demo: wxsim at {wxsim_url} refused the demo set-up ({exc}); no demo traffic"])
    return DemoSetup(
        [
            f"demo: {DEMO_NAME} ({DEMO_APPID}) on wxsim at {wxsim_url}",
            f"demo: replaying {HISTORY_DAYS} days of simulated fans through the callback, then live traffic",
            f"demo: progress at {wxsim_url}/wxsim/population?appid={DEMO_APPID}",
        ]
    )


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _register_account(http: httpx.Client, demo: dict[str, Any], liucun_url: str) -> None:
    http.post(
        "/wxsim/accounts",
        json={
            "appid": DEMO_APPID,
            "secret": demo["secret"],
            "token": demo["token"],
            "encoding_aes_key": demo["encoding_aes_key"],
            "original_id": demo["original_id"],
            "name": DEMO_NAME,
            "mode": "safe",
            "callback_url": f"{liucun_url}/wechat/{DEMO_APPID}/callback",
        },
    ).raise_for_status()


def _start_population(http: httpx.Client, demo: dict[str, Any]) -> None:
    http.post(
        "/wxsim/population",
        json={
            "appid": DEMO_APPID,
            "scenario": "demo",
            "seed": demo["seed"],
            "history_days": HISTORY_DAYS,
            "history_start": demo["history_start"],
            "live": True,
        },
    ).raise_for_status()
