"""A small HTTP/1.1 reverse proxy for the multi-node run: round robin over the web nodes.

It behaves as docs/deploy.md asks of a production proxy: a node that refuses the connection is skipped
and the request goes to the next one (nothing was sent, so nothing can be stored twice), but a request
whose node dies after it was sent is not retried by the proxy: the client gets 502 and, like WeChat,
sends it again (the event store deduplicates). Placed in front of wxsim instead, with --record and
--delay, it is the run's witness of what Liucun asked of WeChat, and slows chosen calls down so a worker
can be killed in the middle of a job.

    python -m bench.multinode.proxy --listen 18000 --upstream 127.0.0.1:18001 --upstream 127.0.0.1:18002
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import socket
import socketserver
import threading
import time
from collections import Counter
from io import BufferedIOBase

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
UPSTREAM_TIMEOUT = 10.0  # above WeChat's 5 s, as docs/deploy.md recommends


class Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        listen: int,
        upstreams: list[tuple[str, int]],
        record: str | None,
        record_prefix: str,
        delays: list[tuple[str, float]],
    ) -> None:
        super().__init__(("127.0.0.1", listen), Handler)
        self.upstreams = upstreams
        self.turn = itertools.cycle(range(len(upstreams)))
        self.lock = threading.Lock()
        self.stats: Counter[str] = Counter()
        self.record_path, self.record_prefix, self.delays = record, record_prefix, delays

    def order(self) -> list[tuple[str, int]]:
        with self.lock:
            first = next(self.turn)
        return self.upstreams[first:] + self.upstreams[:first]

    def count(self, name: str) -> None:
        with self.lock:
            self.stats[name] += 1

    def write_record(self, entry: dict[str, object]) -> None:
        if self.record_path is None:
            return
        with self.lock, open(self.record_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")


class Handler(socketserver.StreamRequestHandler):
    server: Proxy

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(65537)
            if not line or not line.strip():
                return
            method, target, _version = line.decode("latin-1").split(" ", 2)
            headers = _read_headers(self.rfile)
            length = int(headers.get("content-length", "0") or 0)
            body = self.rfile.read(length) if length else b""
            if target == "/__proxy/stats":
                status, out_headers, out = 200, [("Content-Type", "application/json")], self._stats()
            else:
                status, out_headers, out = self._forward(method, target, headers, body)
            keep = headers.get("connection", "").lower() != "close"
            head = [f"HTTP/1.1 {status} {http.client.responses.get(status, '')}"]
            head += [f"{k}: {v}" for k, v in out_headers if k.lower() not in HOP_BY_HOP | {"content-length"}]
            head += [f"Content-Length: {len(out)}", f"Connection: {'keep-alive' if keep else 'close'}"]
            try:
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + out)
            except OSError:
                return
            if not keep:
                return

    def _stats(self) -> bytes:
        with self.server.lock:
            return json.dumps(dict(self.server.stats)).encode()

    def _forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        for prefix, seconds in self.server.delays:
            if target.startswith(prefix):
                time.sleep(seconds)
        forwarded = {k: v for k, v in headers.items() if k not in HOP_BY_HOP}
        client = self.client_address[0]
        previous = forwarded.get("x-forwarded-for")
        forwarded["x-forwarded-for"] = f"{previous}, {client}" if previous else client
        for host, port in self.server.order():
            upstream = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT)
            try:
                upstream.connect()
            except OSError:
                # Nothing reached the node: safe to send the request to the next one.
                self.server.count(f"refused {port}")
                upstream.close()
                continue
            try:
                upstream.request(method, target, body=body, headers=forwarded)
                response = upstream.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                # The node took the request and died (or hung): it may have stored it, so the client
                # decides whether to send it again, as WeChat does.
                self.server.count(f"broken {port}")
                return 502, [("Content-Type", "text/plain")], b"bad gateway: the node dropped the request"
            finally:
                upstream.close()
            self.server.count(f"answered {port}")
            if self.server.record_path and target.startswith(self.server.record_prefix):
                self.server.write_record(
                    {
                        "at": time.time(),
                        "path": target.split("?", 1)[0],
                        "body": body.decode("utf-8", "replace"),
                        "status": response.status,
                        "answer": data.decode("utf-8", "replace"),
                    }
                )
            return response.status, response.getheaders(), data
        self.server.count("no node")
        return 502, [("Content-Type", "text/plain")], b"bad gateway: no node answered"


def _read_headers(rfile: BufferedIOBase) -> dict[str, str]:
    headers: dict[str, str] = {}
    while True:
        line = rfile.readline(65537)
        if line in (b"\r\n", b"\n", b""):
            return headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


def _upstream(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def _delay(value: str) -> tuple[str, float]:
    prefix, _, seconds = value.partition("=")
    return prefix, float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.multinode.proxy", description=__doc__)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", type=_upstream, action="append", required=True)
    parser.add_argument("--record", help="append a JSON line per request under --record-prefix to this file")
    parser.add_argument("--record-prefix", default="/cgi-bin/")
    parser.add_argument("--delay", type=_delay, action="append", default=[], help="PATH_PREFIX=SECONDS")
    args = parser.parse_args()
    socket.setdefaulttimeout(None)
    with Proxy(args.listen, args.upstream, args.record, args.record_prefix, args.delay) as proxy:
        proxy.serve_forever()


if __name__ == "__main__":
    main()
