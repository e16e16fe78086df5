"""The `liucun` command: Django's manage.py with Liucun's settings and a few friendlier names.

liucun serve            production web server
liucun worker           background jobs
liucun run              everything for a local trial (web, worker, demo account)
liucun account add ...  connect an official account
liucun <any manage.py command>
"""

from __future__ import annotations

import os
import sys

_ALIASES = {"generate-key": "generate_key", "import-history": "import_history"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    from django.core.management import execute_from_command_line

    from liucun.envvars import ConfigurationError

    argv = list(sys.argv)
    argv[0] = "liucun"
    if len(argv) > 1:
        argv[1] = _ALIASES.get(argv[1], argv[1])
    try:
        execute_from_command_line(argv)
    except ConfigurationError as exc:
        sys.stderr.write(f"liucun: configuration error: {exc}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
