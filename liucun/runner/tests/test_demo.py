"""The demo of `liucun run` says plainly what went wrong instead of failing with a traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from pytest_django.fixtures import SettingsWrapper

from liucun.runner.demo_wxsim import start_demo


@pytest.mark.django_db
def test_a_taken_demo_port_is_reported_and_starts_nothing(
    monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.DATA_DIR = str(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        monkeypatch.setenv("LIUCUN_DEMO_WXSIM_PORT", str(holder.getsockname()[1]))
        children: list[subprocess.Popen[bytes]] = []
        demo = start_demo(children, liucun_url="http://127.0.0.1:1")
    assert children == []
    assert "is taken" in demo.describe()[0]
    assert "LIUCUN_DEMO_WXSIM_PORT" in demo.describe()[1]
