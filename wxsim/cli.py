"""`wxsim serve`: run the simulator over HTTP (granian, one process: the world lives in its memory)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(prog="wxsim", description="A local WeChat Official Account platform.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the WeChat API and the /wxsim/ control API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.add_argument("--accounts", type=Path, help="JSON file: a list of account objects to create")
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--threads", type=int, default=16)
    bulk = sub.add_parser("bulk", help="write a population's history to a file for `liucun import-history`")
    bulk.add_argument("output", type=Path)
    bulk.add_argument("--appid", required=True)
    bulk.add_argument("--original-id", required=True)
    bulk.add_argument("--fans", type=int, default=1_000_000)
    bulk.add_argument("--days", type=int, default=365)
    bulk.add_argument("--seed", type=int, default=1)
    bulk.add_argument("--scenario", type=Path, help="scenario JSON (default: the demo scenario)")
    bulk.add_argument("--start", type=int, help="unix time of day one (default: --days before now)")
    args = parser.parse_args()
    if args.command == "bulk":
        _bulk(args)
        return
    if args.accounts is not None and not args.accounts.is_file():
        parser.error(f"--accounts {args.accounts} is not a file")
    env = {"WXSIM_SEED": str(args.seed)}
    if args.accounts:
        env["WXSIM_ACCOUNTS"] = str(args.accounts.resolve())
    os.environ.update(env)
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--factory",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--workers",
        "1",
        "--blocking-threads",
        str(args.threads),
        "--no-ws",
        "--log-level",
        "warning",
        "wxsim.app:create_app",
    ]
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with the server


def _bulk(args: argparse.Namespace) -> None:
    import time

    from wxsim.population.bulk import generate, write
    from wxsim.population.scenario import DEMO, Scenario

    try:
        scenario = Scenario.load(args.scenario) if args.scenario else DEMO
    except (OSError, ValueError, TypeError) as exc:
        sys.exit(f"wxsim bulk: bad scenario {args.scenario}: {exc}")
    start = args.start if args.start is not None else int(time.time()) - args.days * 86400
    began = time.perf_counter()
    if args.fans < 1 or args.days < 1:
        sys.exit("wxsim bulk: --fans and --days must be at least 1")
    try:
        header, arrays = generate(
            scenario,
            appid=args.appid,
            original_id=args.original_id,
            seed=args.seed,
            fans=args.fans,
            days=args.days,
            start=start,
        )
    except ValueError as exc:  # too many fans and days for one file
        sys.exit(f"wxsim bulk: {exc}")
    write(args.output, header, arrays)
    print(
        f"{args.output}: {header['fans']} fans, {header['events']} events, {header['unfollows']} unfollows, "
        f"{header['refollows']} refollows, "
        f"{time.perf_counter() - began:.1f} s"
    )


if __name__ == "__main__":
    main()
