"""Forms of the consent section: input shape only. The rules (dates, order, the document
belonging to the card, what may be withdrawn) live in consent.services."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.consent.models import ConsentEvent
from kartoteka.documents.models import Document


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class _LedgerForm(forms.Form):
    """A form whose cleaned data goes to a consent service, and whose errors come back."""

    layout: list[list[str]] = []

    def __init__(self, *args: Any, documents: list[Document] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(str(d.pk), str(d)) for d in documents or []]
        self.fields["document"].choices = choices  # type: ignore[attr-defined]
        if not self.is_bound and "effective_at" not in self.initial:
            self.initial["effective_at"] = timezone.localtime().replace(second=0, microsecond=0)

    def rows(self) -> list[list[forms.BoundField]]:
        return [[self[name] for name in row] for row in self.layout]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["document"] = int(data["document"]) if data.get("document") else None
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put the service's errors next to their fields (others on top of the form)."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            shown = name in self.fields and not self.fields[name].widget.is_hidden
            self.add_error(name if shown else None, errors)


class ConsentGiveForm(_LedgerForm):
    layout = [
        ["purpose", "legal_basis"],
        ["text_version", "channel"],
        ["effective_at", "expires_on"],
        ["evidence_reference", "document"],
    ]

    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentEvent.Purpose.choices)
    legal_basis = forms.ChoiceField(
        label=_("Legal basis"),
        choices=ConsentEvent.LegalBasis.choices,
        initial=ConsentEvent.LegalBasis.CONSENT,
    )
    text_version = forms.CharField(
        label=_("Text version"),
        max_length=100,
        help_text=_("Which notice or consent text the client saw, e.g. “privacy-notice v3”."),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=ConsentEvent.Channel.choices,
        initial=ConsentEvent.Channel.PAPER_FORM,
    )
    effective_at = forms.DateTimeField(label=_("Given on"), widget=DateTimeInput)
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=DateInput)
    evidence_reference = forms.CharField(
        label=_("Evidence"),
        max_length=300,
        required=False,
        help_text=_("Where the proof is: a form number, a call recording, an email."),
    )
    document = forms.ChoiceField(label=_("Signed document"), required=False)


class ConsentWithdrawForm(_LedgerForm):
    layout = [["channel", "effective_at"], ["evidence_reference", "document"]]

    purpose = forms.ChoiceField(choices=ConsentEvent.Purpose.choices, widget=forms.HiddenInput)
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=ConsentEvent.Channel.choices,
        initial=ConsentEvent.Channel.PAPER_FORM,
    )
    effective_at = forms.DateTimeField(label=_("Withdrawn on"), widget=DateTimeInput)
    evidence_reference = forms.CharField(
        label=_("Evidence"),
        max_length=300,
        required=False,
        help_text=_("Where the proof is: a form number, a call recording, an email."),
    )
    document = forms.ChoiceField(label=_("Signed document"), required=False)
