"""Forms of the task pages. They give the input its shape and types; the rules live in
tasks.services, which the views call. These forms are never saved themselves."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import User
from kartoteka.activities.forms import DateTimeInput
from kartoteka.clients.models import Client
from kartoteka.tasks import services
from kartoteka.tasks.models import Task

SERVICE_FIELDS = [
    "title",
    "kind",
    "assignee",
    "due_at",
    "duration_minutes",
    "priority",
    "notes",
    "repeat",
    "repeat_interval",
    "repeat_until",
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def assignee_choices(actor: Any) -> list[User]:
    """The people `actor` may set a task for: themselves first, then teammates (everyone
    active who can act, for administrators)."""
    people = User.objects.filter(is_active=True).exclude(role=User.Role.READ_ONLY)
    if not actor.is_admin_role:
        people = people.filter(pk__in=actor.team_member_ids())
    others = [u for u in people.order_by("first_name", "last_name", "username") if u != actor]
    return [actor, *others]


class TaskForm(forms.Form):
    """A task as typed on the Today page, the card's quick-add form or the edit page.

    `with_card` adds a card-number field (the Today page, the edit page); on a card the card
    is known already.
    """

    title = forms.CharField(
        label=_("Title"),
        required=False,
        max_length=300,
        help_text=_("Leave blank to call it after the kind and the card."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Task.Kind.choices, initial=Task.Kind.CALL)
    card = forms.IntegerField(
        label=_("Card number"), required=False, min_value=1, widget=forms.NumberInput()
    )
    assignee = forms.TypedChoiceField(
        label=_("Assignee"), coerce=int, required=False, empty_value=None
    )
    due_at = forms.DateTimeField(label=_("Due"), widget=DateTimeInput)
    duration_minutes = forms.IntegerField(label=_("Duration, minutes"), required=False, min_value=0)
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Task.Priority.choices, coerce=int, initial=2
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    repeat = forms.ChoiceField(label=_("Repeats"), choices=Task.Repeat.choices, required=False)
    repeat_interval = forms.IntegerField(
        label=_("Every"), required=False, min_value=1, max_value=365, initial=1
    )
    repeat_until = forms.DateField(label=_("Repeat until"), required=False, widget=DateInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        actor: Any,
        with_card: bool = True,
        task: Task | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        people = assignee_choices(actor)
        if task is not None and task.assignee not in people:
            people.append(task.assignee)
        self.people = {person.pk: person for person in people}
        field = self.fields["assignee"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(p.pk, str(p)) for p in people]
        if not self.is_bound and "assignee" not in self.initial:
            self.initial["assignee"] = actor.pk
        if not with_card:
            del self.fields["card"]
        if not self.is_bound and "due_at" not in self.initial:
            # The next whole hour, in the user's zone: a sensible default for a call-back.
            now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
            self.initial["due_at"] = now + timezone.timedelta(hours=1)

    @classmethod
    def initial_for(cls, task: Task) -> dict[str, Any]:
        initial = {name: getattr(task, name) for name in SERVICE_FIELDS}
        initial["assignee"] = task.assignee_id
        initial["due_at"] = timezone.localtime(task.due_at)
        initial["card"] = task.client.number if task.client is not None else None
        initial["version"] = task.version
        return initial

    def clean_card(self) -> Client | None:
        number = self.cleaned_data.get("card")
        if number is None:
            return None
        client = Client.objects.visible_to(self.actor).filter(number=number).first()
        if client is None:
            raise ValidationError(
                _("No card with this number that you can see."), code="client_invalid"
            )
        return client

    def service_data(self) -> dict[str, Any]:
        """cleaned_data as the service takes it: people and cards as objects, not ids."""
        data = {name: self.cleaned_data.get(name) for name in SERVICE_FIELDS}
        data["assignee"] = self.people.get(data["assignee"], self.actor)
        data["repeat_interval"] = data["repeat_interval"] or 1
        data["repeat"] = data["repeat"] or ""
        if "card" in self.fields:
            data["client"] = self.cleaned_data.get("card")
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put the service's errors next to their fields (the card's under "card")."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            target = "card" if name in ("client", "order") and "card" in self.fields else name
            self.add_error(target if target in self.fields else None, errors)


class CompleteForm(forms.Form):
    """The "log it on the card" switch of the complete form; the interaction's own fields
    come from activities.forms.InteractionForm (prefix "log")."""

    log = forms.BooleanField(label=_("Log it on the card"), required=False)

    @staticmethod
    def log_by_default(task: Task) -> bool:
        return task.client_id is not None and task.kind in services.LOG_BY_DEFAULT
