"""Input shapes of the quality screens."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import Team, User
from kartoteka.quality.models import NormalisationRun

KIND_CHOICES = [
    ("", _("Any problem")),
    ("incomplete", _("Missing important fields")),
    ("invalid", _("Values that fail validation")),
    ("stale", _("Not confirmed for over a year")),
]


class AttentionFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Problem"), choices=KIND_CHOICES, required=False)
    responsible = forms.ModelChoiceField(
        label=_("Responsible"), queryset=User.objects.filter(is_active=True), required=False
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)


class NormaliseForm(forms.Form):
    operation = forms.ChoiceField(
        label=_("What to tidy"),
        choices=NormalisationRun.Operation.choices,
        widget=forms.RadioSelect,
    )
