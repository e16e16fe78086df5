"""Django for a benchmark: its own SQLite data directory (PostgreSQL under DATABASE_URL), migrated."""

from __future__ import annotations

import os
from pathlib import Path


def setup_django(directory: Path) -> str:
    """Set Django up on `directory` (ignored under DATABASE_URL) and migrate; returns the database's name."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["LIUCUN_DATA_DIR"] = str(directory)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"
