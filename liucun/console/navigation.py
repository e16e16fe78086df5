"""Which sidebar entry a console page belongs to, from its URL name, so every page of an area (a fan's
page, a tag job, a menu draft) lights up its entry without each view having to say so."""

from __future__ import annotations

from django.http import HttpRequest

# First matching prefix wins; a view may still pass its own "nav" in the context, which takes precedence.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "overview"),
    ("report", "reports"),
    ("push", "pushes"),
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
    ("reconcile", "reconcile"),
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


def nav(request: HttpRequest) -> dict[str, object]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"nav": ""}
    if match.url_name in ("report", "report-csv"):
        # Each report has its own sidebar entry.
        return {"nav": f"report-{match.kwargs.get('name', '')}", "report_links": _report_links()}
    return {"nav": section_of(match.url_name or ""), "report_links": _report_links()}


def _report_links() -> list[tuple[str, object]]:
    from liucun.analytics.report import specs  # registered by the apps' reports.py at start-up

    return [(spec.name, spec.title) for spec in specs()]
