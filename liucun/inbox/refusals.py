"""Why an inbox operation was refused (liucun.refusals.Refused: nothing changed)."""

from __future__ import annotations

from liucun.refusals import Refused


class InboxRefused(Refused):
    code = "inbox_refused"
    status = 400


class NotAllowed(Refused):
    code = "inbox_not_allowed"
    status = 403


class AnsweredMeanwhile(Refused):
    """Someone else replied after this composer was shown: read their answer before sending another."""

    code = "answered_meanwhile"
    status = 409
