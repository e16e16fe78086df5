"""WeChat's side of the run: signed, encrypted callbacks through the proxy, retried as WeChat retries.

The deliveries are bench/ingest's (wechatpy's crypto, each with its own dedupe key), sent over its
keep-alive connection pool. Each is sent at its
due time (open loop) and, like WeChat, sent again identically when there is no answer within 5 s, the
connection breaks or the answer is a 5xx, up to 3 more times. What matters for the run is which
deliveries were acknowledged (200): each of those must be stored exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.ingest.deliveries import Delivery

# bench/ingest's keep-alive connections on asyncio protocols with pre-built request bytes: cheap enough
# that the generator keeps its schedule on a busy machine (an HTTP client library fell behind).
from bench.ingest.loadgen import MAX_RETRIES, _Pool


@dataclass
class Sent:
    acknowledged: set[str] = field(default_factory=set)
    given_up: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)  # a 4xx: the delivery was judged bad
    retries: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0


async def _deliver(pool: _Pool, delivery: Delivery, sent: Sent) -> None:
    for attempt in range(MAX_RETRIES + 1):
        conn = None
        try:
            conn = await pool.get()
            status = await conn.send(delivery.raw)  # answers within 5 s or raises TimeoutError
        except (TimeoutError, OSError, ConnectionError):
            if conn is not None:
                pool.discard(conn)
            status = 0
        else:
            pool.put(conn)
        sent.statuses[status] += 1
        if status == 200:
            sent.acknowledged.add(delivery.key)
            return
        if 400 <= status < 500:
            sent.refused[delivery.key] = status
            return
        if attempt < MAX_RETRIES:
            sent.retries += 1
            await asyncio.sleep(0.2 * (attempt + 1))
    sent.given_up.add(delivery.key)


async def _open_loop(
    port: int, deliveries: list[Delivery], rate: float, on_tick: Callable[[int], None]
) -> Sent:
    sent, pool = Sent(), _Pool("127.0.0.1", port)
    tasks = []
    start = time.perf_counter()
    for i, delivery in enumerate(deliveries):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        on_tick(i)
        tasks.append(asyncio.ensure_future(_deliver(pool, delivery, sent)))
    await asyncio.gather(*tasks)
    sent.elapsed = time.perf_counter() - start
    return sent


def send_all(
    port: int, deliveries: list[Delivery], rate: float, on_tick: Callable[[int], None] = lambda i: None
) -> Sent:
    """Send every delivery to 127.0.0.1:port at `rate` per second; returns what was acknowledged, refused
    or given up."""
    return asyncio.run(_open_loop(port, deliveries, rate, on_tick))
