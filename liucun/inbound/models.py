"""What the callback remembers besides the events themselves."""

from __future__ import annotations

from django.db import models


class PlaintextNonce(models.Model):
    """A (timestamp, nonce) pair already used by a plaintext-mode delivery, with the digest of its body.

    In plaintext mode WeChat's signature covers the token, the timestamp and the nonce but not the body, so
    whoever saw one signed URL could send any body with it. Remembering each pair for as long as its
    timestamp is accepted lets WeChat's own retries through (same body) and refuses everything else.
    Safe mode needs none of this: its msg_signature covers the encrypted body.
    """

    id = models.BigAutoField(primary_key=True)
    account_id = models.BigIntegerField()
    timestamp = models.BigIntegerField()
    nonce = models.CharField(max_length=64)
    body_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account_id", "timestamp", "nonce"], name="plaintext_nonce_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.timestamp}/{self.nonce}"
