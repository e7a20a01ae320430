"""Forms of the plans pages and the reassignment page. They give the input its shape; the
rules live in plans.services, which the views call. These forms are never saved themselves."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import Team, User
from kartoteka.plans.models import Plan

SERVICE_FIELDS = ["employee", "team", "metric", "period", "period_start", "target", "notes"]


class ServiceErrorsMixin:
    """Put a service's ValidationError next to the fields it names (the rest on top)."""

    def add_service_errors(self, exc: ValidationError) -> None:
        form: Any = self
        if not hasattr(exc, "error_dict"):
            form.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)


class PlanForm(ServiceErrorsMixin, forms.Form):
    """A plan as typed: for an employee or a team, a metric, a period and a target."""

    employee = forms.ModelChoiceField(
        label=_("Employee"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    team = forms.ModelChoiceField(
        label=_("or a team"), queryset=Team.objects.none(), required=False, empty_label="—"
    )
    metric = forms.ChoiceField(label=_("Metric"), choices=Plan.Metric.choices)
    period = forms.ChoiceField(label=_("Period"), choices=Plan.Period.choices)
    period_start = forms.DateField(
        label=_("Week, month or quarter of"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Any day of the week, month or quarter."),
    )
    target = forms.DecimalField(
        label=_("Target"),
        min_value=0,
        max_digits=16,
        decimal_places=2,
        help_text=_("Revenue in the base currency; everything else is a count."),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=300)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        employees: QuerySet[User],
        teams: QuerySet[Team],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        employee_field = self.fields["employee"]
        team_field = self.fields["team"]
        assert isinstance(employee_field, forms.ModelChoiceField)
        assert isinstance(team_field, forms.ModelChoiceField)
        employee_field.queryset = employees
        team_field.queryset = teams

    @classmethod
    def initial_for(cls, plan: Plan) -> dict[str, Any]:
        initial = {name: getattr(plan, name) for name in SERVICE_FIELDS}
        initial["version"] = plan.version
        return initial

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in SERVICE_FIELDS}


class ReassignForm(ServiceErrorsMixin, forms.Form):
    """Who takes a leaving employee's work over, and what moves."""

    to_user = forms.ModelChoiceField(
        label=_("Hand the work to"), queryset=User.objects.none(), required=False
    )
    include_cards = forms.BooleanField(label=_("Cards they are responsible for"), required=False)
    include_tasks = forms.BooleanField(label=_("Open tasks"), required=False)
    deactivate = forms.BooleanField(
        label=_("Switch the user off (they can no longer sign in)"), required=False
    )

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people
