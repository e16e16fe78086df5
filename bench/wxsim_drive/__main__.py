"""python -m bench.wxsim_drive: how fast wxsim can produce and deliver signed, encrypted callbacks.

Each driver process makes a population's fans act (wxsim's own actions and callback XML), signs and
encrypts the callbacks for a safe-mode account (wxsim's protocol code), and sends them over keep-alive
connections to a trivial sink that answers "success". Reported: end-to-end callbacks/s (building
included), with 1 process and with --processes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import subprocess
import sys
import time

from wxsim.actions import apply_action
from wxsim.fastdrive import build_requests, drive
from wxsim.world import World


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(args: tuple[int, int, str, int]) -> tuple[int, float]:
    index, count, url, connections = args
    started = time.perf_counter()
    world = World(seed=index)
    world.add_account(
        {
            "appid": f"wx{index:016x}",
            "secret": "s",
            "token": "benchtoken",
            "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "original_id": "gh_drive000001",
            "mode": "safe",
            "callback_url": url,
        }
    )
    appid = f"wx{index:016x}"
    fans = 2000
    callbacks = []
    for _ in range(fans):
        done = apply_action(world, appid, "follow", None, scene="store_001")
        callbacks.append((done.xml, done.fan.openid, done.at))
    openids = world.accounts[appid].fan_order
    for i in range(count - fans):
        done = apply_action(world, appid, "text", openids[i % fans], content=f"消息 {i}")
        callbacks.append((done.xml, done.fan.openid, done.at))
    result = drive(url, build_requests(world.accounts[appid], callbacks), connections)
    assert result.failed == 0, result
    return result.delivered, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.wxsim_drive")
    parser.add_argument("--callbacks", type=int, default=60000, help="callbacks per run")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16, help="connections per process")
    args = parser.parse_args()
    port = _port()
    sink = subprocess.Popen([sys.executable, "-m", "bench.wxsim_drive.sink", str(port)])
    time.sleep(0.5)
    url = f"http://127.0.0.1:{port}/wechat/callback"
    try:
        for processes in sorted({1, args.processes}):
            per = args.callbacks // processes
            started = time.perf_counter()
            with multiprocessing.Pool(processes) as pool:
                results = pool.map(_worker, [(i + 1, per, url, args.connections) for i in range(processes)])
            elapsed = time.perf_counter() - started
            delivered = sum(r[0] for r in results)
            print(
                f"{processes} process(es): {delivered} signed+encrypted callbacks in {elapsed:.1f} s "
                f"= {delivered / elapsed:.0f}/s end to end (fan actions, XML, AES, signatures, HTTP)"
            )
    finally:
        sink.terminate()


if __name__ == "__main__":
    main()
