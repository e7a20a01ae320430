"""The audit page's search form: shape and per-field errors only (audit.selectors filters)."""

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kartoteka.audit.models import AuditEvent


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    """Who, which card, what, through which door, when and from where."""

    user = forms.CharField(label=_("User"), required=False, max_length=150)
    card = forms.CharField(
        label=_("Card"),
        required=False,
        max_length=20,
        help_text=_("Card number or id."),
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any")), *AuditEvent.Action.choices]
    )
    door = forms.ChoiceField(
        label=_("Door"), required=False, choices=[("", _("Any")), *AuditEvent.Channel.choices]
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    ip = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=64,
        help_text=_("An address or its beginning."),
    )

    def clean_card(self) -> int | None:
        value = self.cleaned_data["card"].strip().lstrip("#")
        if not value:
            return None
        if not value.isdigit() or len(value) > 18:
            raise ValidationError(_("Enter a card number or id (digits)."), code="card_invalid")
        return int(value)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        start: datetime.date | None = data.get("date_from")
        end: datetime.date | None = data.get("date_to")
        if start and end and end < start:
            self.add_error(
                "date_to",
                ValidationError(_("The end date is before the start date."), code="date_order"),
            )
        return data
