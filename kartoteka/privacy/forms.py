"""Input shapes of the privacy screens (business rules live in privacy.services)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.privacy.models import DataSubjectRequest


class RequestForm(forms.ModelForm):
    """Register a data-subject request on a card."""

    class Meta:
        model = DataSubjectRequest
        fields = [
            "kind",
            "received_on",
            "channel",
            "details",
            "by_representative",
            "representative_name",
            "reply_to",
            "identity_checked",
        ]
        widgets = {
            "received_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "details": forms.Textarea(attrs={"rows": 3}),
        }

    card_number = forms.IntegerField(
        label=_("Card number"),
        min_value=1,
        help_text=_("The number of the card the request is about."),
    )

    def __init__(self, *args: object, with_card_number: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not with_card_number:
            del self.fields["card_number"]
        else:
            self.order_fields(["card_number"])
        if not self.is_bound:
            self.initial.setdefault("received_on", timezone.localdate())


class RequestFilterForm(forms.Form):
    """The register's filters (status, kind, overdue only)."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("open", _("Open")), *DataSubjectRequest.Status.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All")), *DataSubjectRequest.Kind.choices],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class ReasonForm(forms.Form):
    """A reason or an outcome: for extend, refuse and complete (the label says which)."""

    LABELS = {
        "extend": _("Reason the person will be told"),
        "complete": _("What was done"),
        "refuse": _("Reason for the refusal"),
    }

    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: object, prefix: str, **kwargs: object) -> None:
        kwargs["prefix"] = prefix
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["text"].label = self.LABELS.get(prefix, self.fields["text"].label)


class ConfirmNumberForm(forms.Form):
    """Typing the card number to confirm an irreversible erasure."""

    confirm_number = forms.CharField(label=_("Card number"), max_length=20)
