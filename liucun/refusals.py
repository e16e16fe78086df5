"""One base class for every refusal a domain operation gives, so the API and the console map them once.

A refusal is an answer, not a fault: the operation changed nothing and says why in the operator's
words. Domain apps subclass Refused (TagError, SyncAlreadyRunning, RemarkNotSynced, ...) and raise it;
api/main.py turns any of them into {"detail", "code"} with the refusal's HTTP status, and
console/scope.py's account_page shows the message on the page. Neither catches domain errors by name.

Messages are gettext_lazy templates with their parameters kept apart, so the text is rendered in the
language of whoever reads it (the console's, the API caller's), not of the code that raised it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.functional import Promise

Text = str | Promise


class Refused(Exception):
    """The operation was refused and nothing changed. `code` is stable for API clients; `status` is the
    HTTP status the API answers with."""

    status: int = 400
    code: str = "refused"

    def __init__(
        self,
        message: Text | Sequence[Text],
        params: Mapping[str, Any] | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        self.templates: list[Text] = [message] if isinstance(message, str | Promise) else list(message)
        self.params = dict(params or {})
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        super().__init__(*self.templates)

    @property
    def messages(self) -> list[str]:
        """Each problem as a sentence in the active language."""
        params = {k: str(v) if isinstance(v, Promise) else v for k, v in self.params.items()}
        return [str(t) % params if params else str(t) for t in self.templates]

    @property
    def message(self) -> str:
        return " ".join(self.messages)

    def __str__(self) -> str:
        return self.message
