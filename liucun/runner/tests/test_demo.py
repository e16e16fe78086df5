"""The demo of `liucun run` says plainly what went wrong instead of failing with a traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings

from liucun.runner.demo_wxsim import start_demo


@pytest.mark.django_db
def test_a_taken_demo_port_is_reported_and_starts_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with override_settings(DATA_DIR=str(tmp_path)), socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        monkeypatch.setenv("LIUCUN_DEMO_WXSIM_PORT", str(holder.getsockname()[1]))
        children: list[subprocess.Popen[bytes]] = []
        demo = start_demo(children, liucun_url="http://127.0.0.1:1")
    assert children == []
    assert "is taken" in demo.describe()[0]
    assert "LIUCUN_DEMO_WXSIM_PORT" in demo.describe()[1]
