"""Input shapes of the history page: its filters and a restore request."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.history.selectors import HistoryFilters, restorable_fields


class HistoryFilterForm(forms.Form):
    """The filters above a card's history; the choices are the card's own sections and people."""

    section = forms.ChoiceField(label=_("Section"), required=False)
    actor = forms.TypedChoiceField(label=_("Who"), required=False, coerce=int, empty_value=None)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        sections: list[tuple[str, str]],
        actors: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [("", _("All sections")), *sections]  # type: ignore[attr-defined]
        self.fields["actor"].choices = [("", _("Everyone")), *actors]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return cleaned

    def filters(self) -> HistoryFilters:
        data = self.cleaned_data
        return HistoryFilters(
            section=data.get("section") or "",
            actor=data.get("actor"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class RestoreForm(forms.Form):
    """Which fields of a change to set back (none: all of them) and the card version seen."""

    field = forms.MultipleChoiceField(required=False)
    version = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(name, name) for name in sorted(restorable_fields())]
        self.fields["field"].choices = choices  # type: ignore[attr-defined]
