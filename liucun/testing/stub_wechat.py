"""A minimal WeChat API stub over real HTTP for client tests that need exact control of each answer.

Scenario tests use wxsim; this stub exists for the cases that must script one response at a time
(a timeout now, a 5xx next) and count every request.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class StubState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.tokens_issued: list[str] = []
        self.valid_tokens: set[str] = set()
        self.scripted: dict[str, list[Any]] = {}
        self.fetch_delay = 0.0
        self.stable_token_missing = False
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def script(self, path: str, *answers: Any) -> None:
        """Queue answers for a path: a dict (JSON), an int (HTTP status), or ("sleep", seconds)."""
        self.scripted.setdefault(path, []).extend(answers)

    def issue_token(self) -> str:
        with self.lock:
            token = f"ACCESS_TOKEN_{len(self.tokens_issued) + 1}"
            self.tokens_issued.append(token)
            self.valid_tokens = {token}
            return token


class _Handler(BaseHTTPRequestHandler):
    state: StubState

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        state = self.state
        with state.lock:
            state.hits[parts.path] += 1
            state.requests.append((self.command, parts.path, query))
            scripted = state.scripted.get(parts.path)
            answer = scripted.pop(0) if scripted else None
        if isinstance(answer, tuple) and answer[0] == "sleep":
            time.sleep(answer[1])
            answer = None
        if isinstance(answer, int):
            self._send(answer, {"error": "scripted"})
            return
        if isinstance(answer, dict):
            self._send(200, answer)
            return
        if parts.path in ("/cgi-bin/stable_token", "/cgi-bin/token"):
            if parts.path == "/cgi-bin/stable_token" and state.stable_token_missing:
                self._send(404, {"error": "not found"})
                return
            if state.fetch_delay:
                time.sleep(state.fetch_delay)
            self._send(200, {"access_token": state.issue_token(), "expires_in": 7200})
            return
        token = query.get("access_token", "")
        if token not in state.valid_tokens:
            self._send(200, {"errcode": 40001, "errmsg": "invalid credential"})
            return
        payload = json.loads(body) if body else {}
        if parts.path == "/cgi-bin/user/info/batchget":
            users = [
                {
                    "subscribe": 1,
                    "openid": u["openid"],
                    "unionid": f"union-{u['openid']}",
                    "subscribe_scene": "ADD_SCENE_QR_CODE",
                }
                for u in payload.get("user_list", [])
            ]
            self._send(200, {"user_info_list": users})
            return
        self._send(200, {"errcode": 0, "errmsg": "ok", "echo": payload, "openid": query.get("openid")})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def running_stub() -> Iterator[tuple[str, StubState]]:
    state = StubState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
