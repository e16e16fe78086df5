"""Official accounts (公众号) and their shared access token."""

from __future__ import annotations

from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.capabilities import SERVICE, SUBSCRIPTION, Capabilities, capabilities_for
from liucun.accounts.fields import SealedTextField

appid_validator = RegexValidator(r"^wx[0-9a-f]{16}$", "an appid is 'wx' followed by 16 hex digits")
original_id_validator = RegexValidator(r"^gh_[0-9a-zA-Z]{1,32}$", "an original id looks like gh_0123456789ab")
aes_key_validator = RegexValidator(r"^[A-Za-z0-9]{43}$", "an EncodingAESKey is 43 letters and digits")
token_validator = RegexValidator(r"^[A-Za-z0-9]{3,32}$", "a callback token is 3 to 32 letters and digits")


def default_api_base() -> str:
    from django.conf import settings

    return str(settings.LIUCUN_WECHAT_API_BASE)


class EncryptionMode(models.TextChoices):
    PLAINTEXT = "plaintext", _("plaintext")
    COMPATIBLE = "compatible", _("compatible")
    SAFE = "safe", _("safe")


class AccountType(models.TextChoices):
    SERVICE = SERVICE, _("service account")
    SUBSCRIPTION = SUBSCRIPTION, _("subscription account")


class PrivacyOnUnfollow(models.TextChoices):
    ERASE = "erase", _("erase personal data, keep a pseudonymous lifecycle record")
    KEEP = "keep", _("keep everything (only with the fans' consent; see docs/privacy.md)")


class OfficialAccount(models.Model):
    appid = models.CharField(max_length=18, unique=True, validators=[appid_validator])
    original_id = models.CharField(max_length=40, unique=True, validators=[original_id_validator])
    name = models.CharField(max_length=100)
    account_type = models.CharField(max_length=16, choices=AccountType.choices)
    verified = models.BooleanField(default=False)
    token = SealedTextField(validators=[token_validator])
    encoding_aes_key = SealedTextField(blank=True, validators=[aes_key_validator])
    secret = SealedTextField()
    encryption_mode = models.CharField(
        max_length=16, choices=EncryptionMode.choices, default=EncryptionMode.SAFE
    )
    api_base_url = models.CharField(
        max_length=200,
        validators=[URLValidator(schemes=["http", "https"])],
        default=default_api_base,
        help_text="WeChat's API host, or a wxsim URL for development and tests.",
    )
    welcome_text = models.TextField(blank=True, default="")
    privacy_on_unfollow = models.CharField(
        max_length=8, choices=PrivacyOnUnfollow.choices, default=PrivacyOnUnfollow.ERASE
    )
    # Incremental follower sync every this many hours (0: only when an operator starts one).
    sync_every_hours = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "appid"]

    def __str__(self) -> str:
        return f"{self.name} ({self.appid})"

    @property
    def capabilities(self) -> Capabilities:
        return capabilities_for(self.account_type, self.verified)


class AccessToken(models.Model):
    """The one access token of an account, shared by every process through the database.

    A process that needs a new token first claims the refresh lease with a conditional UPDATE, so exactly
    one process talks to WeChat while the others wait for the row to change. No database lock is held
    during the HTTP call, so a slow WeChat never stalls the callback path.
    """

    account = models.OneToOneField(OfficialAccount, on_delete=models.CASCADE, related_name="access_token")
    token = SealedTextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveBigIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    fetch_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"access token of {self.account_id} (generation {self.generation})"
