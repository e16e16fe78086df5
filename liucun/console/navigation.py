"""Which sidebar entry a console page belongs to, from its URL name, so every page of an area (a fan's
page, a tag job, a menu draft) lights up its entry without each view having to say so."""

from __future__ import annotations

from django.http import HttpRequest

# First matching prefix wins; a view may still pass its own "nav" in the context, which takes precedence.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "overview"),
    ("fan", "fans"),
    ("saved-filter", "fans"),
    ("tag", "tags"),
    ("blacklist", "blacklist"),
    ("channel", "channels"),
    ("messages", "messages"),
    ("message", "messages"),
    ("inbox", "messages"),
    ("canned", "messages"),
    ("conversation", "messages"),
    ("rule", "rules"),
    ("menu", "menus"),
    ("sync", "sync"),
    ("import", "imports"),
    ("settings", "settings"),
    ("staff", "staff"),
    ("audit", "audit"),
    ("service-hours", "service-hours"),
)


def section_of(url_name: str) -> str:
    for prefix, section in SECTIONS:
        if url_name == prefix or url_name.startswith(prefix):
            return section
    return ""


def nav(request: HttpRequest) -> dict[str, str]:
    match = getattr(request, "resolver_match", None)
    return {"nav": section_of(match.url_name or "") if match is not None else ""}
