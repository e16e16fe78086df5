"""What a console page says when the read models behind its numbers are incomplete (readmodels/freshness.py).

Operators see the read models by what they count, not by their registry names (the JSON keeps those).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.formats import number_format
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from liucun.readmodels.freshness import Freshness

# Registry name -> what its rows count, as it reads inside "the numbers from ..." below.
READ_MODEL_NAMES = {
    "daily-follows": _("daily follows and unfollows"),
    "following": _("fans following by channel"),
    "follow-stays": _("how long fans stay"),
    "menu-clicks": _("menu clicks"),
    "inbox-conversations": _("inbox conversations"),
    "push-hourly-flows": _("hourly follows and unfollows"),
    "fan-activity": _("fan activity"),
}


def read_model_name(name: str) -> str:
    return str(READ_MODEL_NAMES.get(name, name))


def notice(state: Freshness) -> str:
    """One sentence on one incomplete read model: why its numbers are short and until when."""
    what = read_model_name(state.name)
    if state.rebuilding:
        return _g(
            "Being rebuilt: the numbers from %(what)s are incomplete until the rebuild finishes "
            "(usually minutes; “liucun readmodels status” shows it)."
        ) % {"what": what}
    # `behind` counts event ids, some of them events this read model does not count: hence "about".
    return _g(
        "About %(n)s newer events are not counted in %(what)s yet: the worker is catching up "
        "(“liucun readmodels status” shows how far it is)."
    ) % {"n": number_format(state.behind, force_grouping=True), "what": what}


def notices(incomplete: Iterable[Freshness]) -> list[str]:
    return [notice(state) for state in incomplete]
