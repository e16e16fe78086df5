"""An HTTP/1.1 keep-alive load generator on asyncio protocols, cheap enough to share 2 cores.

Closed loop (saturation): C connections, each sends its next delivery when the last one is answered.
Open loop (offered rate): delivery i is due at start + i/rate whatever happened before, and its
latency is measured from that due time, so a stalled server cannot hide its queue (no coordinated
omission). Like WeChat, a delivery that gets no answer in 5 s, a broken connection or a 5xx is sent
again, identical, up to 3 more times.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench.ingest.deliveries import Delivery

ANSWER_TIMEOUT = 5.0
MAX_RETRIES = 3


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    failed: int = 0
    retries: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def summary(self) -> dict[str, float]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

        return {
            "requests": self.ok + self.failed,
            "ok": self.ok,
            "failed": self.failed,
            "retries": self.retries,
            "throughput": self.ok / self.elapsed if self.elapsed else 0.0,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "p999_ms": pct(0.999),
            "max_ms": lat[-1] * 1000 if lat else float("nan"),
        }


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[int] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].decode("latin-1")
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head.split(" ", 2)[1])
        self.buffer = self.buffer[end + 4 + length :]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))

    async def send(self, raw: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await asyncio.wait_for(self.waiter, ANSWER_TIMEOUT)


class _Pool:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[_Conn] = []

    async def get(self) -> _Conn:
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                return conn
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(_Conn, self.host, self.port)
        return conn

    def put(self, conn: _Conn) -> None:
        if not conn.closed:
            self.idle.append(conn)

    def discard(self, conn: _Conn) -> None:
        conn.closed = True
        if conn.transport is not None:
            conn.transport.abort()


async def _deliver(pool: _Pool, delivery: Delivery, result: Result, started: float) -> None:
    for attempt in range(MAX_RETRIES + 1):
        conn = None
        try:
            conn = await pool.get()
            status = await conn.send(delivery.raw)
        except (TimeoutError, OSError, ConnectionError):
            if conn is not None:
                pool.discard(conn)
            status = 0
        else:
            pool.put(conn)
        if 200 <= status < 500:
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.latencies.append(time.perf_counter() - started)
            if status == 200:
                result.ok += 1
            else:
                result.failed += 1
            return
        if attempt < MAX_RETRIES:
            result.retries += 1
            await asyncio.sleep(0.05 * (attempt + 1))
    result.failed += 1


async def closed_loop(host: str, port: int, deliveries: list[Delivery], connections: int) -> Result:
    pool, result = _Pool(host, port), Result()
    queue = iter(deliveries)

    async def lane() -> None:
        for delivery in queue:
            await _deliver(pool, delivery, result, time.perf_counter())

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(connections)))
    result.elapsed = time.perf_counter() - start
    return result


async def open_loop(
    host: str, port: int, deliveries: list[Delivery], rate: float, on_tick: object = None
) -> Result:
    pool, result = _Pool(host, port), Result()
    tasks = []
    start = time.perf_counter()
    for i, delivery in enumerate(deliveries):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if callable(on_tick):
            on_tick(i)
        tasks.append(asyncio.ensure_future(_deliver(pool, delivery, result, due)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    return result
