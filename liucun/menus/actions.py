"""Named writes on custom menus: drafts, publishing (default and conditional), delete, restore, read-back.

A menu is checked (spec.checked) before anything is saved or sent. WeChat is called first, outside any
transaction; what it accepted is then stored in one transaction with its audit entry. What it refused is
kept in the history too (PublishedMenu.ok False, with WeChat's answer) and raised as a refusal, so the
history answers "what was sent, by whom, when, and what WeChat said" for every attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.menus import spec
from liucun.menus.models import (
    DRAFT_NAME_MAX,
    ButtonName,
    MenuDraft,
    MenuReading,
    PublishedMenu,
    PublishKind,
)
from liucun.menus.spec import MenuRefused
from liucun.staff.audit import actor_label, record
from liucun.tags.models import Tag
from liucun.wechat.api import menus as wx
from liucun.wechat.apierrors import WeChatAPIError
from liucun.wechat.client import WeChatClient
from liucun.wechat_refusals import WeChatRefused

Actor = AbstractBaseUser | str
T = TypeVar("T")

_NAME_TAKEN = _("A draft with this name already exists.")


def create_draft(actor: Actor, account: OfficialAccount, name: str, buttons: Any) -> MenuDraft:
    name, clean = _draft_name(name), spec.checked(buttons)
    label = actor_label(actor)
    try:
        with transaction.atomic():
            draft = MenuDraft.objects.create(
                account=account, name=name, buttons=clean, created_by=label, updated_by=label
            )
            _remember_names(account, clean, published=False)
            record(actor, "menus.create_draft", account=account, target=name, changes={"buttons": clean})
    except IntegrityError:
        raise MenuRefused(_NAME_TAKEN) from None
    return draft


def update_draft(actor: Actor, draft: MenuDraft, name: str | None = None, buttons: Any = None) -> MenuDraft:
    """A new name and/or new buttons; unchanged values write nothing."""
    new_name = _draft_name(name) if name is not None else None
    clean = spec.checked(buttons) if buttons is not None else None
    try:
        with transaction.atomic():
            current = MenuDraft.objects.select_for_update().get(pk=draft.pk)
            changes: dict[str, Any] = {}
            if new_name is not None and new_name != current.name:
                changes["name"] = [current.name, new_name]
                current.name = new_name
            if clean is not None and clean != current.buttons:
                changes["buttons"] = clean
                current.buttons = clean
                _remember_names(current.account, clean, published=False)
            if not changes:
                return current
            current.updated_by = actor_label(actor)
            current.save(update_fields=["name", "buttons", "updated_by", "updated_at"])
            record(actor, "menus.update_draft", account=current.account, target=current.name, changes=changes)
    except IntegrityError:
        raise MenuRefused(_NAME_TAKEN) from None
    return current


def delete_draft(actor: Actor, draft: MenuDraft) -> None:
    with transaction.atomic():
        deleted, _rows = MenuDraft.objects.filter(pk=draft.pk).delete()
        if deleted:
            record(
                actor,
                "menus.delete_draft",
                account=draft.account,
                target=draft.name,
                changes={"buttons": draft.buttons},
            )


def publish(actor: Actor, draft: MenuDraft, tag: Tag | None = None) -> PublishedMenu:
    """The draft as the default menu (menu/create), or with `tag` as a conditional menu for that tag's
    fans (menu/addconditional; WeChat needs a default menu first)."""
    draft = MenuDraft.objects.get(pk=draft.pk)  # what is stored now, not what the caller read earlier
    buttons = spec.checked(draft.buttons)  # checked again: the rules may be newer than the draft
    if tag is not None and tag.account_id != draft.account_id:
        raise MenuRefused(_("No such tag on this account."))
    return _send(
        actor,
        draft.account,
        buttons,
        draft.name,
        tag_wechat_id=tag.wechat_id if tag else None,
        tag_name=tag.name if tag else "",
    )


def restore(actor: Actor, published: PublishedMenu) -> PublishedMenu:
    """Publish a version from the history again (a conditional one for the same tag)."""
    if published.kind not in (PublishKind.DEFAULT, PublishKind.CONDITIONAL) or not published.buttons:
        raise MenuRefused(_("Only a published menu can be restored."))
    buttons = spec.checked(published.buttons)
    tag_id = published.tag_wechat_id if published.kind == PublishKind.CONDITIONAL else None
    return _send(
        actor,
        published.account,
        buttons,
        published.draft_name,
        tag_wechat_id=tag_id,
        tag_name=published.tag_name,
        restored=published,
    )


def delete_menus(actor: Actor, account: OfficialAccount) -> PublishedMenu:
    """menu/delete: the default menu and every conditional one are gone from WeChat."""
    _call(actor, account, PublishKind.DELETE, [], wx.delete)
    return _stored(actor, account, PublishKind.DELETE, [], "menus.delete")


def delete_conditional(actor: Actor, account: OfficialAccount, menu_id: str) -> PublishedMenu:
    menu_id = str(menu_id).strip()
    if not menu_id.isdigit() or len(menu_id) > 32:
        raise MenuRefused(_("A conditional menu id is a number."))
    kind = PublishKind.DELETE_CONDITIONAL
    _call(actor, account, kind, [], lambda client: wx.delete_conditional(client, menu_id), menu_id=menu_id)
    return _stored(actor, account, kind, [], "menus.delete_conditional", menu_id=menu_id)


def read_back(actor: Actor, account: OfficialAccount) -> MenuReading:
    """menu/get, kept as the account's "in WeChat now" (46003, no menu, reads as an empty menu)."""
    try:
        with client_for(account) as client:
            menus = wx.current(client)
    except WeChatAPIError as exc:
        if exc.errcode != 46003:
            raise WeChatRefused(exc) from exc
        menus = wx.Menus([], [])
    conditional = [
        {
            "menu_id": m.menu_id,
            "tag_wechat_id": m.rule.tag_id,
            "platform": m.rule.client_platform_type,
            "buttons": spec.from_wechat(m.buttons),
        }
        for m in menus.conditional
    ]
    reading, _created = MenuReading.objects.update_or_create(
        account=account,
        defaults={
            "buttons": spec.from_wechat(menus.buttons),
            "conditional": conditional,
            "read_by": actor_label(actor),
            "read_at": timezone.now(),
        },
    )
    return reading


def try_match(account: OfficialAccount, openid: str) -> list[dict[str, Any]]:
    """The menu WeChat shows this fan (menu/trymatch); a read, nothing stored."""
    openid = (openid or "").strip()
    if not openid or len(openid) > 64:
        raise MenuRefused(_("Give the openid of a fan."))
    try:
        with client_for(account) as client:
            return spec.from_wechat(wx.try_match(client, openid))
    except WeChatAPIError as exc:
        raise WeChatRefused(exc) from exc


def _send(
    actor: Actor,
    account: OfficialAccount,
    buttons: list[dict[str, Any]],
    draft_name: str,
    *,
    tag_wechat_id: int | None,
    tag_name: str,
    restored: PublishedMenu | None = None,
) -> PublishedMenu:
    typed = spec.to_wechat(buttons)
    common: dict[str, Any] = {"draft_name": draft_name, "restored_from": restored}
    if tag_wechat_id is None:
        _call(actor, account, PublishKind.DEFAULT, buttons, lambda client: wx.create(client, typed), **common)
        action = "menus.restore" if restored else "menus.publish"
        return _stored(actor, account, PublishKind.DEFAULT, buttons, action, **common)
    rule = wx.MatchRule(tag_id=tag_wechat_id)
    common.update(tag_wechat_id=tag_wechat_id, tag_name=tag_name)
    menu_id = _call(
        actor,
        account,
        PublishKind.CONDITIONAL,
        buttons,
        lambda client: wx.add_conditional(client, typed, rule),
        **common,
    )
    action = "menus.restore" if restored else "menus.publish_conditional"
    return _stored(actor, account, PublishKind.CONDITIONAL, buttons, action, menu_id=menu_id, **common)


def _call(
    actor: Actor,
    account: OfficialAccount,
    kind: str,
    buttons: list[dict[str, Any]],
    work: Callable[[WeChatClient], T],
    **fields: Any,
) -> T:
    """Make the WeChat call; a refusal is kept in the history, then raised in the operator's words."""
    try:
        with client_for(account) as client:
            return work(client)
    except WeChatAPIError as exc:
        said = WeChatRefused(exc)
        if getattr(exc, "checked_locally", False):
            raise said from exc  # never sent: not part of the history
        answer = f"{exc.errcode} {exc.errmsg}" if exc.errcode is not None else exc.errmsg
        PublishedMenu.objects.create(
            account=account,
            kind=kind,
            buttons=buttons,
            published_by=actor_label(actor),
            ok=False,
            answer=answer[:500],
            **fields,
        )
        raise said from exc


def _stored(
    actor: Actor,
    account: OfficialAccount,
    kind: str,
    buttons: list[dict[str, Any]],
    action: str,
    **fields: Any,
) -> PublishedMenu:
    with transaction.atomic():
        published = PublishedMenu.objects.create(
            account=account,
            kind=kind,
            buttons=buttons,
            published_by=actor_label(actor),
            ok=True,
            answer="ok",
            **fields,
        )
        if buttons:
            _remember_names(account, buttons, published=True)
        changes: dict[str, Any] = {"kind": kind, "history": published.pk}
        if buttons:
            changes["buttons"] = buttons
        for name in ("tag_wechat_id", "menu_id"):
            if fields.get(name) not in (None, ""):
                changes[name] = fields[name]
        if fields.get("restored_from") is not None:
            changes["restored_from"] = fields["restored_from"].pk
        record(actor, action, account=account, target=fields.get("draft_name", "") or kind, changes=changes)
    return published


def _remember_names(account: OfficialAccount, buttons: list[dict[str, Any]], *, published: bool) -> None:
    """Keep key -> name for the console: a published name replaces any; a draft's fills only gaps."""
    names = spec.named_keys(buttons)
    if not names:
        return
    existing = {b.key: b for b in ButtonName.objects.filter(account=account, key__in=list(names))}
    changed = []
    for key, name in names.items():
        row = existing.get(key)
        if row is None:
            continue
        if (published or not row.published) and (row.name, row.published) != (
            name,
            row.published or published,
        ):
            row.name, row.published = name, row.published or published
            changed.append(row)
    ButtonName.objects.bulk_create(
        [
            ButtonName(account=account, key=k, name=n, published=published)
            for k, n in names.items()
            if k not in existing
        ]
    )
    ButtonName.objects.bulk_update(changed, ["name", "published"])


def _draft_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise MenuRefused(_("A draft needs a name."))
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise MenuRefused(_("The name holds a control character."))
    if len(name) > DRAFT_NAME_MAX:
        raise MenuRefused(_("The name is longer than %(n)d characters."), {"n": DRAFT_NAME_MAX})
    return name
