"""Console forms: they validate input and turn it into the arguments of queries and actions."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import datetime, time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import PrivacyOnUnfollow
from liucun.fans.queries import ORDERINGS, FanFilter

YES_NO = [("", _("Any")), ("1", _("Yes")), ("0", _("No"))]
PAGE_SIZES = [20, 50, 100, 200]


def _start_of(day: Any) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone()) if day else None


class FanFilterForm(forms.Form):
    following = forms.ChoiceField(label=_("Following"), choices=YES_NO, required=False)
    window_open = forms.ChoiceField(label=_("48h window open"), choices=YES_NO, required=False)
    channel = forms.CharField(label=_("Channel"), max_length=64, required=False)
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None)
    followed_after = forms.DateField(label=_("Followed from"), required=False)
    followed_before = forms.DateField(label=_("Followed before"), required=False)
    interacted_after = forms.DateField(label=_("Active since"), required=False)
    openid_prefix = forms.CharField(label=_("OpenID starts with"), max_length=64, required=False)
    ordering = forms.ChoiceField(choices=[(o, o) for o in ORDERINGS], required=False)
    page_size = forms.TypedChoiceField(
        choices=[(n, n) for n in PAGE_SIZES], coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, tags: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tag_field = self.fields["tag"]
        assert isinstance(tag_field, forms.ChoiceField)
        tag_field.choices = [("", _("Any"))] + [(str(pk), name) for pk, name in tags or []]

    def fan_filter(self) -> FanFilter:
        data = self.cleaned_data
        values: dict[str, Any] = {
            "following": {"1": True, "0": False}.get(data.get("following") or ""),
            "window_open": {"1": True, "0": False}.get(data.get("window_open") or ""),
            "channel": data.get("channel") or None,
            "tag": data.get("tag"),
            "followed_after": _start_of(data.get("followed_after")),
            "followed_before": _start_of(data.get("followed_before")),
            "interacted_after": _start_of(data.get("interacted_after")),
            "openid_prefix": data.get("openid_prefix") or None,
        }
        known = {f.name for f in dataclass_fields(FanFilter)}
        return FanFilter(**{k: v for k, v in values.items() if k in known})

    def ordering_value(self) -> str:
        return self.cleaned_data.get("ordering") or "-followed_at"


class AccountSettingsForm(forms.Form):
    """What an account's admin may change from the console; credentials are changed with the CLI."""

    name = forms.CharField(label=_("Name"), max_length=100)
    welcome_text = forms.CharField(
        label=_("Welcome text"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    sync_every_hours = forms.IntegerField(
        label=_("Scheduled follower sync every (hours, 0 = off)"), min_value=0, max_value=24 * 30
    )
    privacy_on_unfollow = forms.ChoiceField(label=_("On unfollow"), choices=PrivacyOnUnfollow.choices)


class ImportForm(forms.Form):
    """A CSV from a company system and how its columns map onto fans."""

    file = forms.FileField(label=_("CSV file"))
    key_type = forms.ChoiceField(
        label=_("Match fans by"), choices=[("openid", "OpenID"), ("unionid", "UnionID")], initial="openid"
    )
    key_column = forms.CharField(label=_("Column holding it"), max_length=100, initial="openid")
    columns = forms.CharField(
        label=_("Columns to attributes, one per line: column=attribute"),
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "客户编号=customer_id\n手机=phone\n门店=store"}
        ),
    )

    def clean_columns(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["columns"].splitlines(), start=1):
            if not line.strip():
                continue
            column, sep, attribute = line.partition("=")
            if not sep or not column.strip() or not attribute.strip():
                raise forms.ValidationError(
                    _("Line %(n)d: write column=attribute, for example 手机=phone.") % {"n": number}
                )
            mapping[column.strip()] = attribute.strip()
        if not mapping:
            raise forms.ValidationError(_("Map at least one column to an attribute."))
        return mapping

    def mapping(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "key_column": data["key_column"].strip(),
            "key_type": data["key_type"],
            "columns": data["columns"],
        }
