"""`liucun generate_key`: print a new key for LIUCUN_ENCRYPTION_KEYS and a LIUCUN_SECRET_KEY."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand

from liucun.accounts.secretbox import generate_key


class Command(BaseCommand):
    help = "Print fresh values for LIUCUN_SECRET_KEY and LIUCUN_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"LIUCUN_SECRET_KEY={secrets.token_urlsafe(50)}")
        self.stdout.write(f"LIUCUN_ENCRYPTION_KEYS={generate_key()}")
