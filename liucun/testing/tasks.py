"""Tasks used only by tests of the job machinery."""

from __future__ import annotations

import os

from django_tasks import task


@task()
def append_marker(path: str, marker: str) -> str:
    # O_APPEND writes of one short line are atomic, so concurrent workers cannot interleave lines.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{marker}\n".encode())
    finally:
        os.close(fd)
    return marker
