"""Named writes on saved filters, each in one transaction with its audit entry.

A filter is checked before anything is written: it must read back as a FanFilter (its JSON shape and
limits), and a tag it names must be one of the account's. Editing the filter adds a version; the old
versions stay, so what a segment meant on a given day can still be read.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from liucun.accounts.models import OfficialAccount
from liucun.fans.filters import FanFilter, FilterError
from liucun.segments.models import DESCRIPTION_MAX, NAME_MAX, SavedFilter, SavedFilterVersion
from liucun.staff.audit import actor_label, record
from liucun.tags.models import Tag

Actor = AbstractBaseUser | str


class SavedFilterError(ValueError):
    """A saved-filter write refused, in words an operator can act on; nothing was written."""


def create_saved_filter(
    actor: Actor, account: OfficialAccount, name: str, filt: FanFilter, description: str = ""
) -> SavedFilter:
    name, description = _clean_name(name), _clean_description(description)
    stored = _checked(account, filt)
    label = actor_label(actor)
    try:
        with transaction.atomic():
            saved = SavedFilter.objects.create(
                account=account,
                name=name,
                description=description,
                version=1,
                created_by=label,
                updated_by=label,
            )
            SavedFilterVersion.objects.create(saved=saved, version=1, filter=stored, created_by=label)
            record(actor, "segments.create", account=account, target=name, changes={"filter": stored})
    except IntegrityError:
        raise SavedFilterError(_NAME_TAKEN) from None
    return saved


def update_saved_filter(
    actor: Actor,
    saved: SavedFilter,
    filt: FanFilter | None = None,
    description: str | None = None,
) -> SavedFilter:
    """A changed filter becomes the next version; an unchanged one writes nothing."""
    stored = _checked(saved.account, filt) if filt is not None else None
    description = _clean_description(description) if description is not None else None
    label = actor_label(actor)
    with transaction.atomic():
        # Locked, so two editors at once get versions n+1 and n+2 instead of a clash.
        current = SavedFilter.objects.select_for_update().get(pk=saved.pk)
        latest = current.versions.get(version=current.version).filter
        changes: dict[str, Any] = {}
        if stored is not None and stored != latest:
            current.version += 1
            SavedFilterVersion.objects.create(
                saved=current, version=current.version, filter=stored, created_by=label
            )
            changes.update(version=current.version, filter=stored)
        if description is not None and description != current.description:
            changes["description"] = [current.description, description]
            current.description = description
        if not changes:
            return current
        current.updated_by = label
        current.save(update_fields=["version", "description", "updated_by", "updated_at"])
        record(actor, "segments.update", account=current.account, target=current.name, changes=changes)
    return current


def rename_saved_filter(actor: Actor, saved: SavedFilter, name: str) -> SavedFilter:
    name = _clean_name(name)
    if name == saved.name:
        return saved
    try:
        with transaction.atomic():
            current = SavedFilter.objects.select_for_update().get(pk=saved.pk)
            old = current.name
            current.name, current.updated_by = name, actor_label(actor)
            current.save(update_fields=["name", "updated_by", "updated_at"])
            record(
                actor, "segments.rename", account=current.account, target=name, changes={"name": [old, name]}
            )
    except IntegrityError:
        raise SavedFilterError(_NAME_TAKEN) from None
    return current


def delete_saved_filter(actor: Actor, saved: SavedFilter) -> None:
    """Gone with its versions; the audit entry keeps the name and the last filter."""
    with transaction.atomic():
        current = SavedFilter.objects.select_for_update().filter(pk=saved.pk).first()
        if current is None:
            return
        last = current.versions.get(version=current.version).filter
        current.delete()
        record(
            actor,
            "segments.delete",
            account=saved.account,
            target=current.name,
            changes={"versions": current.version, "filter": last},
        )


_NAME_TAKEN = "a saved filter with this name already exists"


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise SavedFilterError("a saved filter needs a name")
    if len(name) > NAME_MAX:
        raise SavedFilterError(f"the name is longer than {NAME_MAX} characters")
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise SavedFilterError(f"the description is longer than {DESCRIPTION_MAX} characters")
    return description


def _checked(account: OfficialAccount, filt: FanFilter) -> dict[str, Any]:
    """The JSON to store: read back through from_json, so the stored form is the one declared."""
    try:
        stored = FanFilter.from_json(filt.to_json()).to_json()
    except FilterError as exc:
        raise SavedFilterError(str(exc)) from None
    if filt.tag is not None and not Tag.objects.filter(account=account, pk=filt.tag).exists():
        raise SavedFilterError("tag: no such tag on this account")
    return stored
