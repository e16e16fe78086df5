"""python -m bench.ingest: callback ingestion throughput and latency, Liucun against a plain Flask handler.

See bench/ingest/README.md. Everything runs on loopback in a temporary directory and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sqlite3
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from cryptography.fernet import Fernet

from bench.ingest import loadgen
from bench.ingest.deliveries import Delivery, build
from bench.ingest.servers import (
    REPO,
    baseline_server,
    cpu_seconds,
    kill_one_worker,
    liucun_server,
    worker_pids,
)

APPID = "wx5e1f0c2d3b4a6978"
ORIGINAL_ID = "gh_b3nchb3nch01"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (both systems)")
    parser.add_argument("--threads", type=int, default=32, help="threads per worker (both systems)")
    parser.add_argument("--saturation", type=int, default=30000, help="deliveries in the saturation run")
    parser.add_argument("--connections", type=int, default=128, help="concurrent connections at saturation")
    parser.add_argument("--rate", type=float, default=1000.0, help="offered rate of the latency runs (req/s)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each latency run")
    parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rules",
        action="store_true",
        help="Liucun without reply rules, then with 1,000 keyword + 100 regex rules, in one run (no Flask)",
    )
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results")
    return parser.parse_args()


def _liucun_env(data_dir: Path) -> dict[str, str]:
    return dict(
        os.environ,
        LIUCUN_DEBUG="false",
        LIUCUN_SECRET_KEY=secrets.token_urlsafe(50),
        LIUCUN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        LIUCUN_DATA_DIR=str(data_dir),
        LIUCUN_ALLOWED_HOSTS="127.0.0.1",
        LIUCUN_LOG_LEVEL="warning",
        DATABASE_URL="",
    )


def _run(coro: object) -> loadgen.Result:
    return asyncio.run(coro)  # type: ignore[arg-type]


def _stored(database: Path, table: str, account_filter: str = "") -> Counter[str]:
    conn = sqlite3.connect(database)
    rows = conn.execute(f"SELECT dedupe_key, COUNT(*) FROM {table} {account_filter} GROUP BY dedupe_key")
    counts = Counter({key: count for key, count in rows})
    conn.close()
    return counts


def _verify(expected: list[Delivery], stored: Counter[str]) -> dict[str, int]:
    keys = {d.key for d in expected}
    return {
        "expected": len(keys),
        "stored": sum(stored.values()),
        "lost": sum(1 for k in keys if stored.get(k, 0) == 0),
        "duplicated": sum(1 for k in keys if stored.get(k, 0) > 1),
        "unexpected": sum(1 for k in stored if k not in keys),
    }


def _measure(
    port: int,
    process: subprocess.Popen[bytes],
    sets: dict[str, list[Delivery]],
    args: argparse.Namespace,
    kill: bool,
) -> dict[str, object]:
    out: dict[str, object] = {}
    _run(loadgen.closed_loop("127.0.0.1", port, sets["warmup"], 16))
    pids = [process.pid, *worker_pids(process.pid)]
    cpu_before = cpu_seconds(pids)
    saturation = _run(loadgen.closed_loop("127.0.0.1", port, sets["saturation"], args.connections))
    cpu = cpu_seconds(pids) - cpu_before
    out["saturation"] = {
        **saturation.summary(),
        "server_cpu_us_per_request": round(cpu / max(1, saturation.ok) * 1e6),
    }
    out["offered"] = _run(loadgen.open_loop("127.0.0.1", port, sets["offered"], args.rate)).summary()
    if kill:
        killed: list[int | None] = []
        half = len(sets["kill"]) // 2

        def on_tick(i: int) -> None:
            if i == half and not killed:
                # In a thread so the load generator's loop never waits on it.
                threading.Thread(target=lambda: killed.append(kill_one_worker(process.pid))).start()

        result = _run(loadgen.open_loop("127.0.0.1", port, sets["kill"], args.rate, on_tick))
        out["kill"] = {**result.summary(), "killed_pid": killed[0] if killed else None}
    return out


def main() -> None:
    args = _args()
    work = Path(tempfile.mkdtemp(prefix="liucun-bench-ingest-"))
    env = _liucun_env(work / "liucun")
    token = "Bench" + secrets.token_hex(6)
    aes_key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))
    liucun = [sys.executable, "-m", "liucun.cli"]
    subprocess.run([*liucun, "migrate", "-v0"], env=env, cwd=REPO, check=True)
    subprocess.run(
        [
            *liucun,
            "account",
            "add",
            "--appid",
            APPID,
            "--original-id",
            ORIGINAL_ID,
            "--name",
            "Bench",
            "--type",
            "service",
            "--verified",
            "true",
            "--token",
            token,
            "--aes-key",
            aes_key,
            "--secret",
            secrets.token_hex(16),
            "--mode",
            "safe",
            "--welcome",
            "欢迎关注！",
        ],
        env=env,
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"building deliveries ({platform.node()}, {os.cpu_count()} cores) ...", flush=True)
    base = int(time.time()) - 3600
    per_run = int(args.rate * args.seconds)
    common = dict(appid=APPID, token=token, aes_key=aes_key, original_id=ORIGINAL_ID)
    sets = {
        "warmup": build(count=500, seed=args.seed, base_time=base, **common),
        "saturation": build(count=args.saturation, seed=args.seed + 1, base_time=base + 10**5, **common),
        "offered": build(count=per_run, seed=args.seed + 2, base_time=base + 2 * 10**5, **common),
        "kill": build(count=per_run, seed=args.seed + 3, base_time=base + 3 * 10**5, **common),
    }
    results: dict[str, object] = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    }

    if args.rules:
        _with_and_without_rules(env, sets, args, results, work, common, base)
        return
    print("liucun: serve ...", flush=True)
    with liucun_server(env, args.workers, args.threads) as (port, process):
        results["liucun"] = _measure(port, process, sets, args, kill=not args.no_kill)
    expected = [
        d
        for name in ("warmup", "saturation", "offered", "kill")
        for d in sets[name]
        if name != "kill" or not args.no_kill
    ]
    results["liucun_check"] = _verify(expected, _stored(work / "liucun" / "liucun.sqlite3", "events_event"))

    print("flask baseline ...", flush=True)
    baseline_db = work / "baseline.sqlite3"
    base_env = dict(
        os.environ,
        BASELINE_TOKEN=token,
        BASELINE_APPID=APPID,
        BASELINE_AES_KEY=aes_key,
        BASELINE_DATABASE=str(baseline_db),
    )
    os.environ.update(
        {
            k: base_env[k]
            for k in ("BASELINE_TOKEN", "BASELINE_APPID", "BASELINE_AES_KEY", "BASELINE_DATABASE")
        }
    )
    from bench.ingest.flask_baseline import create_schema

    create_schema(str(baseline_db))
    with baseline_server(base_env, args.workers, args.threads) as (port, process):
        results["flask"] = _measure(port, process, sets, args, kill=False)
    results["flask_check"] = _verify(
        [d for n in ("warmup", "saturation", "offered") for d in sets[n]], _stored(baseline_db, "events")
    )
    _report(results, args)


# (label, rule set installed before the phase); the no-rules phase is run first and again last, so
# whatever drifts during a run (the database growing, the neighbours' load) shows as a difference
# between the two no-rules phases instead of being charged to the rules.
RULE_PHASES = (
    ("none", "none"),
    ("default only", "default"),
    ("1,101 rules", "full"),
    ("none again", "none"),
)


def _with_and_without_rules(
    env: dict[str, str],
    sets: dict[str, list[Delivery]],
    args: argparse.Namespace,
    results: dict[str, object],
    work: Path,
    common: dict[str, str],
    base: int,
) -> None:
    """The same server and load without rules, with only a default rule, with the 1,101 rules, and
    without rules again: new deliveries in every phase (the earlier ones are stored already)."""
    per_run = int(args.rate * args.seconds)
    expected: list[Delivery] = []
    phases: dict[str, dict[str, object]] = {}
    for n, (label, rule_set) in enumerate(RULE_PHASES):
        if n > 0:  # the first phase's account never had a rule, like most accounts
            subprocess.run(
                [sys.executable, "-m", "bench.rules.install", APPID, "--set", rule_set],
                env=env,
                cwd=REPO,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        shift = 10 * n
        phase_sets = (
            sets
            if n == 0
            else {
                "warmup": build(
                    count=500, seed=args.seed + shift, base_time=base + (3 * n + 1) * 10**5, **common
                ),
                "saturation": build(
                    count=args.saturation,
                    seed=args.seed + shift + 1,
                    base_time=base + (3 * n + 2) * 10**5,
                    **common,
                ),
                "offered": build(
                    count=per_run, seed=args.seed + shift + 2, base_time=base + (3 * n + 3) * 10**5, **common
                ),
            }
        )
        print(f"liucun, rules: {label}: serve ...", flush=True)
        with liucun_server(env, args.workers, args.threads) as (port, process):
            phase = _measure(port, process, phase_sets, args, kill=False)
        phase["load_average"] = [round(x, 2) for x in os.getloadavg()]
        phases[label] = phase
        expected.extend(d for name in ("warmup", "saturation", "offered") for d in phase_sets[name])
    results["phases"] = phases
    database = work / "liucun" / "liucun.sqlite3"
    results["liucun_check"] = _verify(expected, _stored(database, "events_event"))
    conn = sqlite3.connect(database)
    answered = conn.execute("SELECT COUNT(*) FROM events_event WHERE rule_id IS NOT NULL").fetchone()[0]
    conn.close()
    print(
        f"\n{'run':<14}{'rules':<14}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'p99.9':>9}"
        f"{'max ms':>9}{'failed':>8}{'CPU µs/req':>12}{'load':>7}"
    )
    for run in ("saturation", "offered"):
        for label, phase in phases.items():
            r = phase[run]
            cpu = phase["saturation"]["server_cpu_us_per_request"] if run == "saturation" else ""  # type: ignore[index]
            name = "saturation" if run == "saturation" else f"{args.rate:.0f} req/s"
            print(
                f"{name:<14}{label:<14}{r['throughput']:>8.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"  # type: ignore[index]
                f"{r['p999_ms']:>9.1f}{r['max_ms']:>9.1f}{r['failed']:>8}{cpu:>12}"  # type: ignore[index]
                f"{phase['load_average'][0]:>7.1f}"  # type: ignore[index]
            )

    def saturation(label: str) -> float:
        return float(phases[label]["saturation"]["throughput"])  # type: ignore[index]

    without = (saturation("none") + saturation("none again")) / 2
    ratio = saturation("1,101 rules") / without
    results["rules_throughput_ratio"] = round(ratio, 3)
    results["rules_vs_default_only_ratio"] = round(saturation("1,101 rules") / saturation("default only"), 3)
    results["events_answered_by_a_rule"] = answered
    print(
        f"\nthroughput with 1,101 rules / the mean of the two runs without: {ratio:.3f}; "
        f"/ default only: {results['rules_vs_default_only_ratio']:.3f}; events answered by a rule: {answered}"
    )
    print(f"liucun exactly-once check: {results['liucun_check']}")
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"ingest-rules-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {path}")


def _report(results: dict[str, object], args: argparse.Namespace) -> None:
    liucun, flask = results["liucun"], results["flask"]  # type: ignore[index]
    rows = [
        ("saturation", "liucun", liucun["saturation"]),
        ("saturation", "flask", flask["saturation"]),  # type: ignore[index]
        (f"{args.rate:.0f} req/s", "liucun", liucun["offered"]),
        (f"{args.rate:.0f} req/s", "flask", flask["offered"]),
    ]  # type: ignore[index]
    if "kill" in liucun:  # type: ignore[operator]
        rows.append((f"{args.rate:.0f} req/s + SIGKILL", "liucun", liucun["kill"]))  # type: ignore[index]
    print(
        f"\n{'run':<24}{'system':<8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99.9':>9}{'max ms':>9}"
        f"{'failed':>8}{'retries':>8}"
    )
    for run, system, r in rows:
        print(
            f"{run:<24}{system:<8}{r['throughput']:>9.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['p999_ms']:>9.1f}"
            f"{r['max_ms']:>9.1f}{r['failed']:>8}{r['retries']:>8}"
        )
    ratio = liucun["saturation"]["throughput"] / flask["saturation"]["throughput"]  # type: ignore[index]
    results["throughput_ratio"] = round(ratio, 2)
    print(f"\nthroughput ratio liucun/flask at saturation: {ratio:.2f}x")
    print(
        f"server CPU per request: liucun {liucun['saturation']['server_cpu_us_per_request']} us, "  # type: ignore[index]
        f"flask {flask['saturation']['server_cpu_us_per_request']} us"
    )  # type: ignore[index]
    print(f"liucun exactly-once check: {results['liucun_check']}")
    print(f"flask exactly-once check:  {results['flask_check']}")
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"ingest-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
