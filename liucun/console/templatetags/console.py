"""Template helpers of the console: query strings for sort/page links, and readable event lines."""

from __future__ import annotations

from typing import Any

from defusedxml import ElementTree
from django import template
from django.http import QueryDict
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from liucun.events import kinds
from liucun.fans.privacy import REDACTED
from liucun.menus.clicks import MENU_TAP_KINDS
from liucun.menus.queries import button_names_for

register = template.Library()


@register.simple_tag(takes_context=True)
def qs(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (None or "" removes them)."""
    params: QueryDict = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_link(context: dict[str, Any], field: str) -> str:
    """Link for a column header: sorts by `field` descending first, then toggles."""
    current = context["request"].GET.get("ordering", "")
    target = field if current == f"-{field}" else f"-{field}"
    return qs(context, ordering=target, page=None)


@register.filter
def kind_label(kind: str) -> str:
    return kinds.label(kind)


@register.filter
def event_summary(payload: dict[str, Any]) -> str:
    """The part of a stored message or event an operator wants to read."""
    if not isinstance(payload, dict):
        return ""
    if any(value == REDACTED for value in payload.values()):
        return str(_("(erased)"))  # what the fan sent is gone (docs/privacy.md); the kind and time stay
    return _readable(payload)


def _readable(payload: dict[str, Any]) -> str:
    if payload.get("MsgType") == "location":
        return f"{payload.get('Label', '')} ({payload.get('Location_X')}, {payload.get('Location_Y')})"
    for field in ("Content", "Title", "Recognition"):
        if payload.get(field):
            return str(payload[field])
    key = str(payload.get("EventKey") or "")
    if key:
        return key.removeprefix("qrscene_")
    if payload.get("sync_job"):
        return _("follower sync %(job)s") % {"job": payload["sync_job"]}
    return ""


@register.simple_tag(takes_context=True)
def event_text(context: dict[str, Any], event: Any, limit: int = 0) -> str:
    """event_summary of an event, with a menu tap shown by its button's name (from published menus and
    drafts; the key or URL when no menu named it). The names are read once per request."""
    text = event_summary(event.payload)
    request = context.get("request")
    account = getattr(request, "account", None)
    if event.kind in MENU_TAP_KINDS and text and account is not None:
        # An erased payload holds no key any more, so it keeps reading "(erased)".
        text = button_names_for(request, account.pk).get(str(event.payload.get("EventKey") or ""), text)
    return Truncator(text).chars(limit) if limit else text


@register.filter
def reply_summary(reply_xml: str) -> str:
    """What Liucun answered, from the stored passive reply (our own XML, parsed safely all the same)."""
    if reply_xml == REDACTED:
        return str(_("(erased)"))  # answered, but the text of the answer was erased with the fan's data
    if not reply_xml or not reply_xml.lstrip().startswith("<"):
        return ""
    try:
        root = ElementTree.fromstring(reply_xml)
    except ElementTree.ParseError:
        return ""
    content = root.findtext("Content")
    if content:
        return content
    title = root.findtext("Articles/item/Title")
    return f"[{root.findtext('MsgType') or ''}] {title or ''}".strip()
