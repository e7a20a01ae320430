"""Forms of the import pages: input shape only; the rules live in imports.services."""

from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import User
from kartoteka.clients.forms import UserChoiceField, assignable_teams, assignable_users
from kartoteka.clients.models import Client
from kartoteka.imports.models import Import
from kartoteka.imports.selectors import target_choices

FORMAT_CHOICES = [
    ("", _("Detect")),
    ("xlsx", "Excel (XLSX)"),
    ("csv", "CSV"),
    ("vcard", "vCard (VCF)"),
]
ENCODING_CHOICES = [
    ("", _("Detect")),
    ("utf-8", "UTF-8"),
    ("utf-8-sig", _("UTF-8 with BOM")),
    ("cp1251", _("Windows-1251 (Russian and Ukrainian Excel)")),
    ("gb18030", _("GB18030 / GBK (Chinese Excel)")),
]
DELIMITER_CHOICES = [
    ("", _("Detect")),
    (",", _("Comma ,")),
    (";", _("Semicolon ;")),
    ("\t", _("Tab")),
    ("|", _("Vertical bar |")),
]


# Countries whose phone numbers Kartoteka's users meet most; any other two-letter code works
# through the API.
PHONE_REGIONS = [
    ("RU", _("Russia")), ("UA", _("Ukraine")), ("BY", _("Belarus")), ("KZ", _("Kazakhstan")),
    ("UZ", _("Uzbekistan")), ("KG", _("Kyrgyzstan")), ("AM", _("Armenia")),
    ("GE", _("Georgia")), ("AZ", _("Azerbaijan")), ("MD", _("Moldova")),
    ("CN", _("China")), ("HK", _("Hong Kong")), ("TW", _("Taiwan")),
    ("PL", _("Poland")), ("DE", _("Germany")), ("LV", _("Latvia")), ("LT", _("Lithuania")),
    ("EE", _("Estonia")), ("FI", _("Finland")), ("CZ", _("Czechia")), ("FR", _("France")),
    ("IT", _("Italy")), ("ES", _("Spain")), ("GB", _("United Kingdom")), ("TR", _("Türkiye")),
    ("IL", _("Israel")), ("AE", _("United Arab Emirates")), ("US", _("USA and Canada")),
]  # fmt: skip


def phone_region_choices(current: str = "") -> list[tuple[str, str]]:
    """The choices of the phone-country field: the installation's default first."""
    default = settings.KARTOTEKA_PHONE_REGION
    names = dict(PHONE_REGIONS)
    label = "%s (+%s)"
    choices = [
        ("", _("As set for Kartoteka: %(country)s") % {"country": names.get(default, default)})
    ]
    regions = list(PHONE_REGIONS)
    if current and current not in names:
        regions.append((current, current))
    for code, name in regions:
        choices.append((code, label % (name, phonenumbers.country_code_for_region(code))))
    return choices


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("Excel (XLSX), CSV or vCard (VCF) with one client per row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt,.vcf,.vcard"}),
    )
    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODING_CHOICES, required=False)
    delimiter = forms.ChoiceField(label=_("Delimiter"), choices=DELIMITER_CHOICES, required=False)

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        limit = settings.KARTOTEKA_IMPORT_MAX_MB * 1024 * 1024
        if file.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB."),
                code="file_too_large",
                params={"limit": settings.KARTOTEKA_IMPORT_MAX_MB},
            )
        return file


class ImportSettingsForm(forms.Form):
    """One select per column of the file, then what to do with matching cards and whose
    the new cards are."""

    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODING_CHOICES[1:], required=False)
    delimiter = forms.ChoiceField(
        label=_("Delimiter"), choices=DELIMITER_CHOICES[1:], required=False
    )
    match_by = forms.MultipleChoiceField(
        label=_("Find existing cards by"),
        choices=Import.MatchBy.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    on_match = forms.ChoiceField(
        label=_("When a card exists"), choices=Import.OnMatch.choices, widget=forms.RadioSelect
    )
    default_kind = forms.ChoiceField(
        label=_("Rows without a kind are"),
        choices=Client.Kind.choices,
        widget=forms.RadioSelect,
    )
    phone_region = forms.ChoiceField(
        label=_("Phones without a country code are from"), choices=(), required=False
    )

    def __init__(self, *args: Any, job: Import, user: User, **kwargs: Any) -> None:
        initial = {
            "encoding": job.encoding,
            "delimiter": job.delimiter,
            "match_by": job.match_by,
            "on_match": job.on_match,
            "default_kind": job.default_kind,
            "phone_region": job.phone_region,
            "responsible": job.responsible_id,
            "team": job.team_id,
        }
        for index, _name in enumerate(job.header):
            initial[f"column_{index}"] = job.mapping.get(str(index), "")
        super().__init__(*args, initial=initial, **kwargs)
        self.job = job
        self.fields["phone_region"].choices = phone_region_choices(job.phone_region)
        choices = [("", _("— do not import —")), *target_choices()]
        for index, name in enumerate(job.header):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=name or _("Column %(number)s") % {"number": index + 1},
                choices=choices,
                required=False,
            )
        self.fields["responsible"] = UserChoiceField(
            label=_("Responsible for new cards"),
            queryset=assignable_users(user, job.responsible),
            required=False,
            empty_label=_("— nobody —"),
        )
        self.fields["team"] = forms.ModelChoiceField(
            label=_("Team of new cards"),
            queryset=assignable_teams(user, job.team),
            required=False,
            empty_label=_("— no team —"),
        )
        if job.format != "csv":
            del self.fields["encoding"]
            del self.fields["delimiter"]

    def column_fields(self) -> list[tuple[int, forms.BoundField]]:
        return [(i, self[f"column_{i}"]) for i in range(len(self.job.header))]

    def mapping(self) -> dict[str, str]:
        return {
            str(i): self.cleaned_data.get(f"column_{i}") or "" for i in range(len(self.job.header))
        }
