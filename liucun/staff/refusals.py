"""Why a staff operation was refused, in the operator's words (mapped once by the API and the console)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from liucun.refusals import Refused


class StaffRefused(Refused):
    code = "staff_refused"


NO_SUCH_COLLEAGUE = _(
    "No one you work with has that username. To give a role to someone new, send them an invitation."
)
INVITATION_GONE = _("This invitation link is not valid: it was used, withdrawn or has expired.")
