"""Input shapes of the export screens (rules live in exports.services)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.exports.models import Export


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=_("File format"),
        choices=Export.Format.choices,
        initial=Export.Format.XLSX,
        widget=forms.RadioSelect,
    )
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)


class SavedSearchForm(forms.Form):
    name = forms.CharField(label=_("Name of the search"), max_length=100)
    shared = forms.BooleanField(label=_("Share with my teams"), required=False)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
