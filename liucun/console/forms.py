"""Console forms: they validate input and turn it into the arguments of queries and actions."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import PrivacyOnUnfollow
from liucun.fans.filters import MAX_DAYS, Condition, FanFilter, conditions
from liucun.fans.queries import ORDERINGS

YES_NO = [("", _("Any")), ("1", _("Yes")), ("0", _("No"))]
PAGE_SIZES = [20, 50, 100, 200]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class DayInput(forms.DateInput):
    """A date picker; a moment that is not the start of a day (saved through the API) shows as text, so
    the form sends it back unchanged instead of a picker dropping it."""

    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        if isinstance(value, str) and len(value.strip()) > len("2026-01-01"):
            context["widget"]["type"] = "text"
        return context


class MomentField(forms.DateField):
    """A day, meaning its start in the deployment's time zone, or an exact ISO 8601 moment with offset."""

    widget = DayInput

    def to_python(self, value: Any) -> datetime | None:
        if isinstance(value, datetime):
            return value
        try:
            day = super().to_python(value)
        except forms.ValidationError:
            try:
                moment = datetime.fromisoformat(str(value).strip())
            except ValueError:
                moment = None
            if moment is None or moment.tzinfo is None:
                raise
            return moment
        return _start_of(day) if day is not None else None


def _form_field(c: Condition) -> forms.Field:
    """The console's field for a declared filter condition (liucun/fans/filters.py)."""
    if c.kind == "bool":
        return forms.TypedChoiceField(
            label=c.label, choices=YES_NO, coerce=lambda v: v == "1", required=False, empty_value=None
        )
    if c.kind == "tag":
        # Its choices are the account's tags, given to the form (FanFilterForm.__init__).
        return forms.TypedChoiceField(label=c.label, coerce=int, required=False, empty_value=None)
    if c.kind == "moment":
        return MomentField(label=c.label, required=False)
    if c.kind == "days":
        return forms.IntegerField(
            label=c.label, min_value=0, max_value=MAX_DAYS, required=False, widget=forms.NumberInput
        )
    return forms.CharField(label=c.label, max_length=c.max_length, required=False, empty_value=None)


class FanFilterForm(forms.Form):
    """A FanFilter from the fan list's query string: one field per declared condition, then the sort."""

    ordering = forms.ChoiceField(choices=[(o, o) for o in ORDERINGS], required=False)
    page_size = forms.TypedChoiceField(
        choices=[(n, n) for n in PAGE_SIZES], coerce=int, required=False, empty_value=None
    )

    # The id of the <datalist> offering the account's channels (any scene can still be typed).
    CHANNEL_LIST = "channel-choices"

    def __init__(
        self,
        *args: Any,
        tags: list[tuple[int, str]] | None = None,
        channels: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for c in conditions():
            if c.kind == "tag":
                tag_field = self.fields[c.name]
                assert isinstance(tag_field, forms.ChoiceField)
                tag_field.choices = [("", _("Any"))] + [(str(pk), name) for pk, name in tags or []]
        self.channel_choices = channels or []
        if self.channel_choices:
            self.fields["channel"].widget.attrs["list"] = self.CHANNEL_LIST

    def fan_filter(self) -> FanFilter:
        return FanFilter(**{c.name: self.cleaned_data.get(c.name) for c in conditions()})

    def ordering_value(self) -> str:
        return self.cleaned_data.get("ordering") or "-followed_at"


# The filter's fields come from the one declaration, ahead of the sort and page size.
FanFilterForm.base_fields = {
    **{c.name: _form_field(c) for c in conditions()},
    **FanFilterForm.base_fields,
}


def filter_query(filt: FanFilter) -> dict[str, str]:
    """The fan list's query string for a filter: what FanFilterForm reads back into the same filter."""
    out: dict[str, str] = {}
    for c in conditions():
        value = getattr(filt, c.name)
        if value is None:
            continue
        if c.kind == "bool":
            out[c.name] = "1" if value else "0"
        elif c.kind == "moment":
            local = timezone.localtime(value)
            exact_day = local == _start_of(local.date())
            out[c.name] = local.date().isoformat() if exact_day else value.isoformat()
        else:
            out[c.name] = str(value)
    return out


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
