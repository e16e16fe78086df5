"""Settings come from the environment through strict helpers; production refuses dev secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from liucun.envvars import ConfigurationError, database_from_url, env_bool, env_int, env_secret
from liucun.logredact import redact

REPO = Path(__file__).resolve().parents[2]


def test_booleans_are_strict(monkeypatch) -> None:
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "flase")
    with pytest.raises(ConfigurationError, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_integers_are_strict_and_bounded(monkeypatch) -> None:
    monkeypatch.setenv("X_NUM", "12a")
    with pytest.raises(ConfigurationError):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ConfigurationError, match="minimum"):
        env_int("X_NUM", 1, minimum=1)


def test_secrets_can_come_from_files(monkeypatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "s"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret_file))
    assert env_secret("X_SECRET") == "from-a-file"
    monkeypatch.setenv("X_SECRET", "direct")
    with pytest.raises(ConfigurationError, match="only one"):
        env_secret("X_SECRET")


def database_url_for_testss() -> None:
    pg = database_from_url(
        "postgres://u:p%40ss@db.internal:5433/liucun?sslmode=require", sqlite_default=Path("x")
    )
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "u",
        "p@ss",
        "db.internal",
        "5433",
        "liucun",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    lite = database_from_url("", sqlite_default=Path("/tmp/x.sqlite3"))
    assert lite["NAME"] == "/tmp/x.sqlite3"
    assert "journal_mode=WAL" in lite["OPTIONS"]["init_command"]
    with pytest.raises(ConfigurationError):
        database_from_url("mysql://x/y", sqlite_default=Path("x"))


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIUCUN_")}
    return subprocess.run(
        [sys.executable, "-m", "liucun.cli", "check"],
        check=False,
        env={**clean, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_the_development_secret(tmp_path: Path) -> None:
    result = _start({"LIUCUN_DEBUG": "false", "LIUCUN_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "LIUCUN_SECRET_KEY" in result.stderr


def test_production_refuses_the_development_encryption_key(tmp_path: Path) -> None:
    result = _start(
        {"LIUCUN_DEBUG": "false", "LIUCUN_SECRET_KEY": "x" * 50, "LIUCUN_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "LIUCUN_ENCRYPTION_KEYS" in result.stderr


def test_production_starts_with_real_secrets(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    result = _start(
        {
            "LIUCUN_DEBUG": "false",
            "LIUCUN_SECRET_KEY": "k" * 50,
            "LIUCUN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "LIUCUN_DATA_DIR": str(tmp_path),
        }
    )
    assert result.returncode == 0, result.stderr


def test_malformed_debug_flag_stops_start_up(tmp_path: Path) -> None:
    result = _start({"LIUCUN_DEBUG": "maybe", "LIUCUN_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "LIUCUN_DEBUG" in result.stderr


def test_log_redaction() -> None:
    line = "GET /cgi-bin/user/info?access_token=ABC123&openid=o1 secret=xyz {'secret': 'abc'}"
    cleaned = redact(line)
    assert "ABC123" not in cleaned and "xyz" not in cleaned and "'abc'" not in cleaned
    assert "openid=o1" in cleaned
