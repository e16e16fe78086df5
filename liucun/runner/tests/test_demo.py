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


@pytest.mark.django_db(transaction=True)
def test_the_demo_menu_reaches_wechat_before_the_replay_runs_its_clock_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liucun.menus.models import PublishedMenu
    from liucun.testing.live import free_port

    monkeypatch.setenv("LIUCUN_DEMO_WXSIM_PORT", str(free_port()))
    children: list[subprocess.Popen[bytes]] = []
    try:
        with override_settings(DATA_DIR=tmp_path):
            demo = start_demo(children, liucun_url="http://127.0.0.1:1")
        assert "refused" not in " ".join(demo.describe())
        # Published once, accepted: an access token issued after the replay's accelerated clock started
        # would have expired at once (42001) and the demo would have started without its menu.
        assert list(PublishedMenu.objects.values_list("ok", flat=True)) == [True]
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=30)
