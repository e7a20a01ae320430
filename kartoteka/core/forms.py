"""Forms of the business's settings page (shape only; core.services does the writing)."""

from typing import Any

from django import forms

from kartoteka.core.models import SiteSettings
from kartoteka.core.services import SITE_SETTINGS_FIELDS


class SiteSettingsForm(forms.ModelForm):
    class Meta:
        model = SiteSettings
        fields = SITE_SETTINGS_FIELDS

    def _post_clean(self) -> None:
        # The service validates the model; a ModelForm would do it a second time.
        pass

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in SITE_SETTINGS_FIELDS}
