"""Custom menus in the console: drafts and their editor with a phone preview, publish (default or for a
tag), what WeChat has now, delete, history with restore, a fan's menu (trymatch) and click statistics.

The editor is a plain form (3 top buttons, 5 sub-buttons each; fields a type does not use are hidden by
static/console/menus.css, so it works without scripts). liucun.menus does the work.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.scope import ConsoleRequest, account_page
from liucun.fans.queries import recent_fans
from liucun.menus import actions, queries, spec
from liucun.menus.models import MenuDraft, MenuReading, PublishedMenu, PublishKind
from liucun.menus.spec import MenuRefused
from liucun.staff.models import Role
from liucun.tags.models import Tag
from liucun.wechat.api.menus import SUB_MAX, TOP_MAX

STARTER = [{"type": "click", "name": "菜单", "key": "MENU_1"}]
FIELDS = ("key", "url", "appid", "pagepath", "article_id", "media_id")
GROUP = "group"  # the editor's "type" of a top button that opens sub-buttons


def _reading(account: OfficialAccount) -> MenuReading | None:
    return MenuReading.objects.filter(account=account).first()


def _tag_names(account: OfficialAccount) -> dict[int, str]:
    return dict(Tag.objects.filter(account=account).values_list("wechat_id", "name"))


def _conditional(account: OfficialAccount, reading: MenuReading | None) -> list[dict[str, Any]]:
    if reading is None or not reading.conditional:
        return []
    tags = _tag_names(account)
    return [{**c, "tag_name": tags.get(c["tag_wechat_id"], "")} for c in reading.conditional]


@account_page(Role.OPERATOR)
def menus_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    reading = _reading(account)
    context = {
        "nav": "menus",
        "drafts": MenuDraft.objects.filter(account=account).order_by("name"),
        "reading": reading,
        "conditional": _conditional(account, reading),
        "last": PublishedMenu.objects.filter(account=account).order_by("-id").first(),
    }
    return render(request, "console/menus.html", context)


@account_page(Role.OPERATOR)
@require_POST
def draft_create(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    source = request.POST.get("source", "")
    buttons: Any = STARTER
    if source == "wechat":
        reading = _reading(account)
        buttons = reading.buttons if reading is not None and reading.buttons else STARTER
    elif source.isdigit():
        buttons = get_object_or_404(MenuDraft, account=account, pk=int(source)).buttons
    draft = actions.create_draft(request.user, account, request.POST.get("name", ""), buttons)
    messages.success(request, _("Draft “%(name)s” created.") % {"name": draft.name})
    return redirect("console:menu-draft", appid=account.appid, draft_id=draft.pk)


def _draft(account: OfficialAccount, draft_id: int) -> MenuDraft:
    return get_object_or_404(MenuDraft, account=account, pk=draft_id)


@account_page(Role.OPERATOR)
def draft_page(request: ConsoleRequest, account: OfficialAccount, draft_id: int) -> HttpResponse:
    draft = _draft(account, draft_id)
    return _editor(request, account, draft, name=draft.name, rows=_rows(draft.buttons))


def _editor(
    request: ConsoleRequest,
    account: OfficialAccount,
    draft: MenuDraft,
    *,
    name: str,
    rows: list[dict[str, Any]],
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    reading = _reading(account)
    context = {
        "nav": "menus",
        "draft": draft,
        "name": name,
        "rows": rows,
        "problem": problem,
        "types": [(t, spec.TYPE_LABELS[t]) for t in spec.TYPE_FIELDS],
        "reading": reading,
        "same_as_wechat": reading is not None and reading.buttons == draft.buttons,
        "tags": Tag.objects.filter(account=account).order_by("name").values_list("pk", "name"),
    }
    return render(request, "console/menu_draft.html", context, status=status)


def _rows(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The editor's 3 x (1 + 5) rows from stored buttons, empty rows filling the rest."""

    def row(prefix: str, button: dict[str, Any] | None, top: bool) -> dict[str, Any]:
        button = button or {}
        kind = button.get("type", "") or (GROUP if top and button.get("sub_button") else "")
        return {"prefix": prefix, "name": button.get("name", ""), "type": kind,
                **{f: button.get(f, "") for f in FIELDS}}  # fmt: skip

    rows = []
    for i in range(TOP_MAX):
        top = buttons[i] if i < len(buttons) else None
        subs = (top or {}).get("sub_button") or []
        rows.append(
            {
                **row(f"b{i}", top, True),
                "position": spec.position(i),
                "subs": [
                    {
                        **row(f"b{i}s{j}", subs[j] if j < len(subs) else None, False),
                        "position": spec.position(i, j),
                    }
                    for j in range(SUB_MAX)
                ],
            }
        )
    return rows


def buttons_from_form(data: QueryDict) -> list[dict[str, Any]]:
    """The buttons an editor form describes: a row with neither name nor type is left out, a top button of
    type "group" holds its sub-buttons, and only what a row's type shows is read (hidden fields may still
    hold what an earlier type needed). Not checked here: spec.checked does that, naming each button."""

    def read(prefix: str) -> dict[str, Any]:
        kind = data.get(f"{prefix}-type", "").strip()
        out = {"name": data.get(f"{prefix}-name", "").strip(), "type": kind}
        out.update({f: data.get(f"{prefix}-{f}", "").strip() for f in spec.KEPT_TYPES.get(kind, ())})
        return out

    buttons: list[dict[str, Any]] = []
    for i in range(TOP_MAX):
        top = read(f"b{i}")
        if top["type"] == GROUP:
            subs = [s for s in (read(f"b{i}s{j}") for j in range(SUB_MAX)) if s["name"] or s["type"]]
            buttons.append({"name": top["name"], "sub_button": subs})
        elif top["name"] or top["type"]:
            buttons.append(top)
    return buttons


@account_page(Role.OPERATOR)
@require_POST
def draft_save(request: ConsoleRequest, account: OfficialAccount, draft_id: int) -> HttpResponse:
    draft = _draft(account, draft_id)
    name = request.POST.get("name", draft.name)
    buttons = buttons_from_form(request.POST)
    try:
        actions.update_draft(request.user, draft, name=name, buttons=buttons)
    except MenuRefused as exc:
        # Shown on the editor with what the operator typed, not as a redirect that would lose it all.
        return _editor(
            request, account, draft, name=name, rows=_rows(buttons), problem=exc.message, status=400
        )
    messages.success(request, _("Draft saved."))
    return redirect("console:menu-draft", appid=account.appid, draft_id=draft.pk)


@account_page(Role.OPERATOR)
@require_POST
def draft_delete(request: ConsoleRequest, account: OfficialAccount, draft_id: int) -> HttpResponse:
    draft = _draft(account, draft_id)
    actions.delete_draft(request.user, draft)
    messages.success(request, _("Draft “%(name)s” deleted.") % {"name": draft.name})
    return redirect("console:menus", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def publish(request: ConsoleRequest, account: OfficialAccount, draft_id: int) -> HttpResponse:
    draft = _draft(account, draft_id)
    tag = None
    raw = request.POST.get("tag", "")
    if raw:
        if not raw.isdigit():
            raise Http404("no such tag")
        tag = get_object_or_404(Tag, account=account, pk=int(raw))
    actions.publish(request.user, draft, tag)
    actions.read_back(request.user, account)
    if tag is None:
        messages.success(request, _("Published: fans now see “%(name)s”.") % {"name": draft.name})
    else:
        messages.success(
            request,
            _("Published: fans tagged “%(tag)s” now see “%(name)s”.") % {"tag": tag.name, "name": draft.name},
        )
    return redirect("console:menus", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def read_back(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    actions.read_back(request.user, account)
    messages.success(request, _("Read what WeChat has now."))
    return redirect("console:menus", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def delete_menus(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    actions.delete_menus(request.user, account)
    actions.read_back(request.user, account)
    messages.success(request, _("Every menu was deleted in WeChat."))
    return redirect("console:menus", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def delete_conditional(request: ConsoleRequest, account: OfficialAccount, menu_id: str) -> HttpResponse:
    actions.delete_conditional(request.user, account, menu_id)
    actions.read_back(request.user, account)
    messages.success(request, _("The conditional menu was deleted in WeChat."))
    return redirect("console:menus", appid=account.appid)


@account_page(Role.OPERATOR)
def history_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    rows = PublishedMenu.objects.filter(account=account).order_by("-id")[:100]
    restorable = (PublishKind.DEFAULT, PublishKind.CONDITIONAL)
    return render(
        request, "console/menu_history.html", {"nav": "menus", "rows": rows, "restorable": restorable}
    )


@account_page(Role.OPERATOR)
@require_POST
def restore(request: ConsoleRequest, account: OfficialAccount, published_id: int) -> HttpResponse:
    published = get_object_or_404(PublishedMenu, account=account, pk=published_id)
    actions.restore(request.user, published)
    actions.read_back(request.user, account)
    messages.success(
        request, _("The version of %(when)s is published again.") % {"when": published.published_at}
    )
    return redirect("console:menu-history", appid=account.appid)


@account_page(Role.OPERATOR)
def try_match_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    """Which menu a fan sees: asks WeChat (menu/trymatch) only when an openid is given."""
    openid = request.GET.get("openid", "").strip()
    buttons = actions.try_match(account, openid) if openid else None
    return render(
        request,
        "console/menu_trymatch.html",
        {"nav": "menus", "openid": openid, "buttons": buttons, "recent_fans": recent_fans(account.pk)},
    )


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@account_page(Role.OPERATOR)
def stats_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    start, end = _day(request.GET.get("start", "")), _day(request.GET.get("end", ""))
    try:
        start, end = queries.period_of(start, end)
    except MenuRefused as exc:
        messages.error(request, exc.message)  # a bad period reads as the default one, said so
        start, end = queries.period_of(None, None)
    stats = queries.menu_stats(account.pk, start, end)
    top = stats.buttons[:8]  # the chart shows the busiest buttons; the table lists them all
    chart = {
        "days": [d.isoformat() for d in stats.days],
        "series": [{"name": b.name or b.button, "clicks": stats.daily[b.button]} for b in top],
    }
    context = {"nav": "menus", "stats": stats, "chart": chart}
    return render(request, "console/menu_stats.html", context)
