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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
