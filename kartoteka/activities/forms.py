"""Forms of the interactions section. They give the input its shape and types; the rules live
in activities.services, which the views call. These forms are never saved themselves."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client

SERVICE_FIELDS = [
    "kind",
    "direction",
    "occurred_at",
    "duration_minutes",
    "contact_person",
    "subject",
    "content",
    "outcome",
    "next_step",
]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class InteractionForm(forms.Form):
    """An interaction as typed in the card's quick-add or inline edit form."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Interaction.Kind.choices,
        initial=Interaction.Kind.CALL,
        widget=forms.RadioSelect,
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[("", "—"), *Interaction.Direction.choices],
        required=False,
    )
    occurred_at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeInput)
    duration_minutes = forms.IntegerField(label=_("Duration, minutes"), required=False, min_value=0)
    contact_person = forms.TypedChoiceField(
        label=_("Person at the client"), required=False, coerce=int, empty_value=None
    )
    subject = forms.CharField(label=_("Subject"), required=False, max_length=300)
    content = forms.CharField(
        label=_("Content"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=300)
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=300)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        people: list[Client] | None = None,
        prefix: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, prefix=prefix, **kwargs)
        self.people = {person.pk: person for person in people or []}
        field = self.fields["contact_person"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—")] + [(p.pk, self._person_label(p)) for p in people or []]
        if not self.is_bound and "occurred_at" not in self.initial:
            self.initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)

    @staticmethod
    def _person_label(person: Client) -> str:
        if getattr(person, "is_hidden", False):
            return str(_("A person whose card you cannot see"))
        return person.display_name

    @classmethod
    def initial_for(cls, interaction: Interaction) -> dict[str, Any]:
        initial = {name: getattr(interaction, name) for name in SERVICE_FIELDS}
        initial["contact_person"] = interaction.contact_person_id
        initial["occurred_at"] = timezone.localtime(interaction.occurred_at)
        initial["version"] = interaction.version
        return initial

    def service_data(self) -> dict[str, Any]:
        """cleaned_data as the service takes it: the person as a card, not an id."""
        data = {name: self.cleaned_data.get(name) for name in SERVICE_FIELDS}
        person_id = data["contact_person"]
        if person_id is not None:
            data["contact_person"] = self.people.get(person_id)
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put the service's errors next to their fields (unknown fields go on top)."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)
