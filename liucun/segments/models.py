"""A saved filter and its versions: editing adds a version, so what a filter meant stays readable."""

from __future__ import annotations

from django.db import models

from liucun.accounts.models import OfficialAccount

NAME_MAX = 60
DESCRIPTION_MAX = 500


class SavedFilter(models.Model):
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(max_length=NAME_MAX)
    description = models.CharField(max_length=DESCRIPTION_MAX, blank=True, default="")
    version = models.PositiveIntegerField(default=1)  # the current one: its SavedFilterVersion
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Actor labels (a username, or an API token's label), as on jobs: they outlive the user.
    created_by = models.CharField(max_length=150)
    updated_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="savedfilter_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class SavedFilterVersion(models.Model):
    saved = models.ForeignKey(SavedFilter, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    filter = models.JSONField()  # FanFilter.to_json()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["saved", "version"], name="savedfilterversion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.saved_id} v{self.version}"
