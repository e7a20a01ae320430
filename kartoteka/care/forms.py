"""Forms of the care section. They give the input its shape and types; the rules live in
care.services and care.health, which the views call. These forms are never saved themselves."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.care.models import HealthNote, Recommendation, SurveyResponse


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class ServiceForm(forms.Form):
    """A form whose cleaned data goes to a service, and whose errors come back from it."""

    service_fields: list[str] = []
    # How the fields sit on the page: rows of field names, shown side by side.
    layout: list[list[str]] = []

    def rows(self) -> list[list[forms.BoundField]]:
        names = self.layout or [[name] for name in self.fields]
        return [[self[name] for name in row] for row in names]

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.service_fields}

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put the service's errors next to their fields (others on top of the form)."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class SurveyForm(ServiceForm):
    service_fields = ["taken_on", "name", "scale", "score", "summary"]
    layout = [["name"], ["taken_on", "scale", "score"], ["summary"]]

    taken_on = forms.DateField(label=_("Date"), widget=DateInput)
    name = forms.CharField(label=_("Survey"), max_length=200)
    scale = forms.ChoiceField(
        label=_("Scale"), choices=SurveyResponse.Scale.choices, initial=SurveyResponse.Scale.NPS
    )
    score = forms.IntegerField(
        label=_("Score"),
        required=False,
        min_value=0,
        max_value=10,
        help_text=_("NPS 0–10, CSAT 1–5; optional for a free-form survey."),
    )
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and "taken_on" not in self.initial:
            self.initial["taken_on"] = timezone.localdate()

    @classmethod
    def initial_for(cls, survey: SurveyResponse) -> dict[str, Any]:
        return {name: getattr(survey, name) for name in cls.service_fields}


class RecommendationForm(ServiceForm):
    service_fields = ["given_on", "text", "due_on", "period_days"]
    layout = [["text"], ["given_on", "due_on", "period_days"]]

    given_on = forms.DateField(label=_("Date"), widget=DateInput)
    text = forms.CharField(label=_("Recommendation"), widget=forms.Textarea(attrs={"rows": 2}))
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DateInput)
    period_days = forms.IntegerField(
        label=_("Repeat every, days"),
        required=False,
        min_value=1,
        help_text=_(
            "For a recurring recommendation: due again this many days after it is followed."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and "given_on" not in self.initial:
            self.initial["given_on"] = timezone.localdate()

    @classmethod
    def initial_for(cls, recommendation: Recommendation) -> dict[str, Any]:
        return {name: getattr(recommendation, name) for name in cls.service_fields}


class HealthNoteForm(ServiceForm):
    service_fields = ["kind", "text"]
    layout = [["kind"], ["text"]]

    kind = forms.ChoiceField(label=_("Kind"), choices=HealthNote.Kind.choices)
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))


class StatusForm(forms.Form):
    """A recommendation's new status, from the "followed" / "not followed" buttons."""

    status = forms.ChoiceField(choices=Recommendation.Status.choices)
