"""Delivering many callbacks fast: requests built up front, sent over keep-alive connections on asyncio.

`deliver()` in delivery.py is the faithful one-at-a-time path (5 s wait, identical retries). This is the
throughput path used when a population or a benchmark must push thousands of callbacks a second: the
same signed and encrypted requests, several in flight per connection's turn, with WeChat's retry rule
applied to failures.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from wxsim.delivery import ANSWER_TIMEOUT, RETRIES, signed_request
from wxsim.model import Account


@dataclass
class DriveResult:
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    retries: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0


def build_requests(account: Account, callbacks: list[tuple[str, str, int]]) -> list[bytes]:
    """Whole HTTP/1.1 requests for (xml, openid, timestamp) callbacks to the account's callback URL."""
    url = urlsplit(account.callback_url)
    host = f"{url.hostname}:{url.port}" if url.port else str(url.hostname)
    out = []
    for xml, openid, timestamp in callbacks:
        query, body = signed_request(account, xml, openid, timestamp)
        head = (
            f"POST {url.path or '/'}?{query} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].lower()
        start = head.find(b"content-length:")
        length = int(head[start + 15 :].split(b"\r\n", 1)[0]) if start >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        status = int(self.buffer[9:12])
        self.buffer = self.buffer[end + 4 + length :]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed"))


async def _drive(host: str, port: int, requests: list[bytes], connections: int) -> DriveResult:
    result = DriveResult()
    queue = iter(requests)
    loop = asyncio.get_running_loop()

    async def lane() -> None:
        conn: _Conn | None = None
        for raw in queue:
            for attempt in range(RETRIES + 1):
                try:
                    if conn is None:
                        _, conn = await loop.create_connection(_Conn, host, port)
                    conn.waiter = loop.create_future()
                    assert conn.transport is not None
                    conn.transport.write(raw)
                    result.sent += 1
                    status = await asyncio.wait_for(conn.waiter, ANSWER_TIMEOUT)
                except (TimeoutError, OSError, ConnectionError):
                    status = 0
                    if conn is not None and conn.transport is not None:
                        conn.transport.abort()
                    conn = None
                if status == 200:
                    result.delivered += 1
                    break
                if attempt < RETRIES:
                    result.retries += 1
            else:
                result.failed += 1
        if conn is not None and conn.transport is not None:
            conn.transport.close()

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    return result


def drive(callback_url: str, requests: list[bytes], connections: int = 32) -> DriveResult:
    url = urlsplit(callback_url)
    return asyncio.run(_drive(url.hostname or "127.0.0.1", url.port or 80, requests, connections))
