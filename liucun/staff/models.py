"""Roles granted per official account, and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount


class Role(models.TextChoices):
    AGENT = "agent", _("agent")
    OPERATOR = "operator", _("operator")
    ADMIN = "admin", _("admin")


# Each role can do everything the roles below it can.
ROLE_RANK = {Role.AGENT: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} is {self.role} of {self.account_id}"


class AuditEntry(models.Model):
    """One write: who, when, on which account, what changed. Never updated or deleted."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # For writes without a staff member: "system", "worker", "api-token:<name>", "cli".
    actor_label = models.CharField(max_length=80)
    account = models.ForeignKey(OfficialAccount, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=80)
    target = models.CharField(max_length=200, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "at"], name="audit_account_time")]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target}"


class ApiToken(models.Model):
    """A bearer token for the REST API: acts as its user, capped at `max_role`, optionally on fewer accounts.

    Only a SHA-256 of the key is stored; the key is shown once, when the token is made.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    max_role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    # Empty: every account the user may see. Otherwise only these.
    accounts = models.ManyToManyField(OfficialAccount, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """A failed console login, kept for throttling (liucun.staff.throttle) and pruned after the window."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True)
    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="loginfail_username"),
            models.Index(fields=["ip", "at"], name="loginfail_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} from {self.ip}"


class Invitation(models.Model):
    """An admin's invitation to a role on one account, redeemed once through a link shown once.

    Grants go to people the admin already works with (staff of the admin's accounts) or by invitation,
    never to any username of the instance: otherwise an admin of one account could probe who else has
    a login, and hand roles to other companies' staff. Only a SHA-256 of the link's key is stored.
    """

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=16, choices=Role.choices)
    note = models.CharField(max_length=80, blank=True, default="")  # whom it is for, as the admin wrote
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "created_at"], name="invitation_account")]

    def __str__(self) -> str:
        return f"invitation {self.pk} to {self.role} of {self.account_id}"

    @property
    def is_open(self) -> bool:
        from django.utils import timezone

        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()
