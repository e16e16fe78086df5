"""Why a send was refused, in the operator's words (liucun.refusals.Refused: nothing changed)."""

from __future__ import annotations

from liucun.refusals import Refused


class ContentRefused(Refused):
    """The message breaks one of WeChat's limits; the message names the field."""

    code = "invalid_content"
    status = 400


class WindowClosed(Refused):
    """The fan's customer-service window does not allow this send; the message says why and what else."""

    code = "window_closed"
    status = 409


class KeyRequired(Refused):
    code = "idempotency_key_required"
    status = 400


class KeyReused(Refused):
    code = "idempotency_key_reused"
    status = 409


class NotResendable(Refused):
    code = "not_resendable"
    status = 409
