"""An account's service hours: when people answer, in China time. No row means always open."""

from __future__ import annotations

from django.db import models

from liucun.accounts.models import OfficialAccount


class ServiceHours(models.Model):
    account = models.OneToOneField(OfficialAccount, on_delete=models.CASCADE, related_name="service_hours")
    # Off means "always open": keeping the schedule lets an admin switch it back on without retyping it.
    enabled = models.BooleanField(default=True)
    # [[weekday (0 = Monday), "HH:MM", "HH:MM"], ...] in Asia/Shanghai; end "24:00" means midnight.
    weekly = models.JSONField(default=list)
    # ["YYYY-MM-DD", ...]: whole days closed in China time.
    holidays = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True, default="")

    def __str__(self) -> str:
        return f"service hours of account {self.account_id}"
