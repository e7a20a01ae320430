from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class ApiTokenForm(forms.Form):
    """Name a new personal API token."""

    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("Where the token is used, e.g. “accounting export” or “my laptop”."),
    )


class LanguageForm(forms.Form):
    """The interface language picked in the top bar."""

    language = forms.ChoiceField(choices=settings.LANGUAGES)
