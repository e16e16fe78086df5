"""Reading credentials for `liucun` commands from a file or standard input instead of the command line.

A secret given as an argument is visible to every user of the machine (ps, /proc) and stays in shell
history; a file (`--secret-file path`) or standard input (`--secret-file -`, or a prompt on a terminal)
does not leak that way.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from django.core.management.base import CommandError


def read_secret(path: str, what: str) -> str:
    """The first line of `path` ('-': standard input), without its line ending."""
    try:
        text = sys.stdin.readline() if path == "-" else Path(path).read_text(encoding="utf-8").split("\n")[0]
    except OSError as exc:
        raise CommandError(f"cannot read {what} from {path}: {exc.strerror}") from None
    value = text.rstrip("\r\n")
    if not value:
        raise CommandError(f"{what}: {path} is empty")
    return value


def new_password(path: str | None) -> str:
    """A password from a file, from piped standard input, or typed twice at a terminal prompt."""
    if path is not None:
        return read_secret(path, "the password")
    if not sys.stdin.isatty():
        return read_secret("-", "the password")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CommandError("the two passwords differ")
    return first
