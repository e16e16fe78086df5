"""Reply rules in the console: the list by trigger with hits, the editor, "try it", export and import.

Writes go to liucun.autoreply.actions (validated there, refusals shown on the page with the field named);
"try it" runs liucun.autoreply.trying, the callback's own decision code.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.autoreply import actions
from liucun.autoreply.models import Match, ReplyMode, Rule, Trigger
from liucun.autoreply.queries import rules_by_trigger
from liucun.autoreply.trying import KINDS, probe_for, try_message
from liucun.autoreply.validation import CONTENT_TYPES, REPLIES_MAX, RuleInvalid
from liucun.console.scope import ConsoleRequest, account_page
from liucun.fans.queries import recent_fans
from liucun.refusals import Refused
from liucun.servicehours.hours import CHINA
from liucun.staff.models import Role
from liucun.tags.queries import tag_choices

IMPORT_MAX_BYTES = 2 * 1024 * 1024
REPLY_FIELDS = ("text", "media_id", "title", "description", "url", "picurl")


@account_page(Role.AGENT)
def rules_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    context = {
        "nav": "rules",
        "groups": rules_by_trigger(account),
        "kinds": KINDS,
        "recent_fans": recent_fans(account.pk),
    }
    return render(request, "console/rules.html", context)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _when(text: str) -> str | None:
    # <input type=datetime-local> gives China time without a zone; the rule stores an aware instant.
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=CHINA).isoformat()
    except ValueError:
        return text


def rule_data(post: QueryDict) -> dict[str, Any]:
    """The editor's form as the data actions.create_rule/update_rule take."""
    replies = []
    for n in range(1, REPLIES_MAX + 1):
        kind = post.get(f"reply{n}_type", "")
        if kind in CONTENT_TYPES:
            reply = {"type": kind} | {f: post.get(f"reply{n}_{f}", "") for f in REPLY_FIELDS}
            replies.append({k: v for k, v in reply.items() if k == "type" or v != ""})
    conditions: dict[str, Any] = {}
    tags = [int(t) for t in post.getlist("tags") if t.isdigit()]
    if tags:
        conditions["tags"] = tags
    channels = [c.strip() for c in post.get("channels", "").replace("，", ",").split(",") if c.strip()]
    if channels:
        conditions["channels"] = channels
    days = post.get("new_within_days", "").strip()
    if days:
        conditions["new_within_days"] = int(days) if days.isdigit() else days
    window = post.get("window_open", "")
    if window in ("yes", "no"):
        conditions["window_open"] = window == "yes"
    priority = post.get("priority", "0").strip() or "0"
    return {
        "name": post.get("name", ""),
        "trigger": post.get("trigger", ""),
        "match": post.get("match", ""),
        "values": _lines(post.get("values", "")),
        "conditions": conditions,
        "valid_from": _when(post.get("valid_from", "")),
        "valid_until": _when(post.get("valid_until", "")),
        "priority": int(priority) if priority.lstrip("-").isdigit() else priority,
        "enabled": post.get("enabled") == "on",
        "reply_mode": post.get("reply_mode", ReplyMode.RANDOM),
        "replies": replies,
        "handoff": post.get("handoff") == "on",
    }


def _local(value: datetime | None) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M") if value else ""


def _form_of(rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {
            "trigger": Trigger.KEYWORD,
            "match": Match.CONTAINS,
            "enabled": True,
            "priority": 0,
            "replies": [],
        }
    return {
        "name": rule.name,
        "trigger": rule.trigger,
        "match": rule.match,
        "values": "\n".join(rule.values),
        "tags": rule.conditions.get("tags", []),
        "channels": ", ".join(rule.conditions.get("channels", [])),
        "new_within_days": rule.conditions.get("new_within_days", ""),
        "window_open": {True: "yes", False: "no"}.get(rule.conditions.get("window_open"), ""),
        "valid_from": _local(rule.valid_from),
        "valid_until": _local(rule.valid_until),
        "priority": rule.priority,
        "enabled": rule.enabled,
        "reply_mode": rule.reply_mode,
        "handoff": rule.handoff,
        "replies": rule.replies,
    }


def _editor(
    request: ConsoleRequest,
    account: OfficialAccount,
    rule: Rule | None,
    form: dict[str, Any],
    error: str = "",
) -> HttpResponse:
    replies = list(form.get("replies") or [])
    slots = [replies[i] if i < len(replies) else {} for i in range(REPLIES_MAX)]
    context = {
        "nav": "rules",
        "rule": rule,
        "form": form,
        "slots": list(enumerate(slots, start=1)),
        "error": error,
        "triggers": Trigger.choices,
        "matches": Match.choices,
        "modes": ReplyMode.choices,
        "content_types": CONTENT_TYPES,
        "tags": tag_choices(account),
    }
    return render(request, "console/rules_edit.html", context, status=400 if error else 200)


def _save(request: ConsoleRequest, account: OfficialAccount, rule: Rule | None) -> HttpResponse:
    data = rule_data(request.POST)
    try:
        if rule is None:
            saved = actions.create_rule(request.user, account, data)
        else:
            saved = actions.update_rule(request.user, account, rule.pk, data)
    except RuleInvalid as exc:
        form = {**data, "values": "\n".join(data["values"]), "tags": data["conditions"].get("tags", [])}
        form |= {k: request.POST.get(k, "") for k in ("channels", "new_within_days", "window_open")}
        form |= {k: request.POST.get(k, "") for k in ("valid_from", "valid_until", "priority")}
        return _editor(request, account, rule, form, exc.message)
    messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
    return redirect("console:rules", appid=account.appid)


@account_page(Role.OPERATOR)
def rule_new(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    if request.method == "POST":
        return _save(request, account, None)
    return _editor(request, account, None, _form_of(None))


def _rule(account: OfficialAccount, rule_id: int) -> Rule:
    rule = Rule.objects.filter(account=account, pk=rule_id).first()
    if rule is None:
        raise Http404("no such rule")
    return rule


@account_page(Role.OPERATOR)
def rule_edit(request: ConsoleRequest, account: OfficialAccount, rule_id: int) -> HttpResponse:
    rule = _rule(account, rule_id)
    if request.method == "POST":
        return _save(request, account, rule)
    return _editor(request, account, rule, _form_of(rule))


@account_page(Role.OPERATOR)
@require_POST
def rule_toggle(request: ConsoleRequest, account: OfficialAccount, rule_id: int) -> HttpResponse:
    rule = _rule(account, rule_id)
    actions.set_enabled(request.user, account, rule.pk, not rule.enabled)
    return redirect("console:rules", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def rule_delete(request: ConsoleRequest, account: OfficialAccount, rule_id: int) -> HttpResponse:
    rule = _rule(account, rule_id)
    actions.delete_rule(request.user, account, rule.pk)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("console:rules", appid=account.appid)


@account_page(Role.AGENT)
@require_POST
def rules_try(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    kind = request.POST.get("kind", "text")
    if kind not in KINDS:
        kind = "text"
    probe = probe_for(
        kind,
        text=request.POST.get("text", ""),
        scene=request.POST.get("scene", ""),
        key=request.POST.get("key", ""),
    )
    decision = try_message(account, probe, request.POST.get("openid", ""))
    rule = Rule.objects.filter(account=account, pk=decision.rule_id).first() if decision.rule_id else None
    context = {"decision": decision, "rule": rule, "probe": probe, "reply": _shown(decision)}
    return render(request, "console/rules_try.html", context)


def _shown(decision: Any) -> dict[str, str] | None:
    """The passive reply as the bubble shows it."""
    reply = decision.reply
    if reply is None:
        return None
    kind = type(reply).__name__.removesuffix("Reply").lower()
    if kind == "news":
        article = reply.articles[0]
        return {
            "type": "news",
            "title": article.title,
            "description": article.description,
            "url": article.url,
        }
    if kind == "text":
        return {"type": "text", "text": reply.content}
    return {"type": kind, "media_id": getattr(reply, "media_id", "")}


@account_page(Role.OPERATOR)
def rules_export(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    response = JsonResponse(
        actions.export_rules(account), json_dumps_params={"ensure_ascii": False, "indent": 1}
    )
    response["Content-Disposition"] = f'attachment; filename="reply-rules-{account.appid}.json"'
    return response


@account_page(Role.OPERATOR)
@require_POST
def rules_import(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None or upload.size is None or upload.size > IMPORT_MAX_BYTES:
        messages.error(request, _("Choose a rules export file (JSON, at most 2 MB)."))
        return redirect("console:rules", appid=account.appid)
    try:
        document = json.loads(upload.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        messages.error(request, _("This file is not JSON."))
        return redirect("console:rules", appid=account.appid)
    try:
        created = actions.import_rules(request.user, account, document)
    except Refused as exc:
        for problem in exc.messages:
            messages.error(request, problem)
        messages.error(request, _("Nothing was imported."))
        return redirect("console:rules", appid=account.appid)
    messages.success(
        request, _("%(n)d rules imported; the earlier rules were replaced.") % {"n": len(created)}
    )
    return redirect("console:rules", appid=account.appid)
