"""A small Python client for wxsim's control API, for tests and scripts (Liucun's included)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx


class WxsimError(Exception):
    pass


class WxsimControl:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise WxsimError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def reset(self, seed: int | None = None) -> Any:
        return self._call("POST", "/wxsim/reset", json={} if seed is None else {"seed": seed})

    def add_account(self, **spec: Any) -> Any:
        return self._call("POST", "/wxsim/accounts", json=spec)

    def add_fans(self, appid: str, count: int = 1, **spec: Any) -> list[str]:
        return list(
            self._call("POST", "/wxsim/fans", json={"appid": appid, "count": count, **spec})["openids"]
        )

    def fans(self, appid: str) -> list[dict[str, Any]]:
        return list(self._call("GET", "/wxsim/fans", params={"appid": appid})["fans"])

    def act(self, appid: str, action: str, openid: str | None = None, **detail: Any) -> Any:
        return self._call(
            "POST", "/wxsim/act", json={"appid": appid, "action": action, "openid": openid, **detail}
        )

    def clock(self, **change: Any) -> Any:
        if not change:
            return self._call("GET", "/wxsim/clock")
        return self._call("POST", "/wxsim/clock", json=change)

    def faults(self, appid: str, **faults: Any) -> Any:
        return self._call("POST", "/wxsim/faults", json={"appid": appid, **faults})

    def clear_faults(self, appid: str) -> Any:
        return self._call("DELETE", "/wxsim/faults", params={"appid": appid})

    def recorder(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self._call("GET", "/wxsim/recorder", params=filters)["entries"])

    def start_population(self, appid: str, **options: Any) -> Any:
        return self._call("POST", "/wxsim/population", json={"appid": appid, **options})

    def population(self, appid: str) -> Any:
        return self._call("GET", "/wxsim/population", params={"appid": appid})

    def set_reading(self, appid: str, **parameters: Any) -> Any:
        return self._call("POST", "/wxsim/reading", json={"appid": appid, **parameters})

    def add_draft(self, appid: str, *titles: str) -> str:
        """A draft with one article per title (its media_id names it in an mpnews mass send)."""
        articles = [{"title": t} for t in titles]
        return str(
            self._call("POST", "/wxsim/drafts", json={"appid": appid, "articles": articles})["media_id"]
        )

    def reads(self, appid: str) -> Any:
        return self._call("GET", "/wxsim/reads", params={"appid": appid})

    def traffic(self, appid: str) -> Any:
        return self._call("GET", "/wxsim/traffic", params={"appid": appid})

    def kf_online(self, appid: str, kf_account: str, online: bool = True) -> Any:
        return self._call(
            "POST", "/wxsim/kf", json={"appid": appid, "kf_account": kf_account, "online": online}
        )

    def add_template(self, appid: str, **spec: Any) -> str:
        """`template_id_short=...` (a template message) or `kind="subscribe", tid, kidList, sceneDesc`."""
        return str(self._call("POST", "/wxsim/templates", json={"appid": appid, **spec})["template_id"])

    def truth(self, appid: str | None = None) -> list[dict[str, Any]]:
        return list(self._call("GET", "/wxsim/truth", params={"appid": appid} if appid else {})["events"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_wxsim(seed: int = 1, env: dict[str, str] | None = None, port: int | None = None) -> Iterator[str]:
    """`wxsim serve` on a (free) loopback port for the duration of the block; yields its base URL."""
    port = port or _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "wxsim", "serve", "--port", str(port), "--seed", str(seed)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise WxsimError(f"wxsim exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                httpx.get(f"{base}/wxsim/clock", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise WxsimError("wxsim did not start within 30 s") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
