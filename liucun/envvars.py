"""Small strict readers for settings that come from the environment.

A value that is present but malformed is an error at start-up, never a silent default: a typo in
`LIUCUN_DEBUG=flase` must not run production in debug mode.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigurationError(Exception):
    """An environment variable is set to something Liucun cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean; use one of true/false, 1/0, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{name}={value} is above the maximum {maximum}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name}={value} is below the minimum {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated addresses or networks (10.0.0.5, 10.0.0.0/8, ::1); a malformed one is an error."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigurationError(f"{name}: {item!r} is not an IP address or network") from None
    return networks


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from `NAME`, or from the file named by `NAME_FILE` (for container secrets)."""
    direct = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if direct and file_name:
        raise ConfigurationError(f"set only one of {name} and {name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}") from None
    if direct:
        return direct
    return default


def database_from_url(url: str, *, sqlite_default: Path) -> dict[str, object]:
    """Django DATABASES['default'] from a URL: sqlite:///path or postgres://user:pass@host:port/name."""
    if not url:
        return _sqlite(sqlite_default)
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if path.startswith("/") and parts.netloc == "":
            path = path[1:] if path.startswith("//") else path
        return _sqlite(Path(path) if path else sqlite_default)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigurationError("DATABASE_URL names no database (postgres://user@host:port/NAME)")
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError("DATABASE_URL has a port that is not a number") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(port or ""),
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ConfigurationError(f"DATABASE_URL scheme {parts.scheme!r} is not supported; use sqlite or postgres")


def _sqlite(path: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Opening a connection runs the PRAGMAs below; reopening per request would cost more than the work.
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": True,
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of deadlocking on upgrade.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=FULL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
                "PRAGMA cache_size=-65536;"
                "PRAGMA temp_store=MEMORY;"
            ),
        },
        # A file, not memory: tests start other processes that must see the same database.
        "TEST": {"NAME": str(path.with_name(f"test_{path.stem}.sqlite3"))},
    }
