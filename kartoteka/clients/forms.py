"""Forms of the card pages. They give the input its shape and types; the rules live in
clients.services, which the views call. These forms are never saved themselves."""

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q, QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import Team, User
from kartoteka.clients import normalize, permissions
from kartoteka.clients.filters import ClientFilterSet
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.services import COMMON_FIELDS, COMPANY_FIELDS, PERSON_FIELDS
from kartoteka.clients.widgets import WIDGET_RENDERER


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _model_field(name: str, **overrides: Any) -> forms.Field:
    """The form field of a Client model field: same label, help text, length and choices."""
    field = Client._meta.get_field(name).formfield(**overrides)
    assert field is not None
    field.required = False
    choices = getattr(field, "choices", None)
    if choices and choices[0][0] == "":
        field.choices = [("", "—"), *list(choices)[1:]]
    return field


def assignable_users(user: User, current: User | None = None) -> QuerySet[User]:
    """Who `user` may make responsible for a card (see permissions.can_assign), plus the
    current responsible so an unchanged card never fails on its own value."""
    if user.is_admin_role:
        queryset = User.objects.filter(is_active=True)
    elif user.role == User.Role.MANAGER:
        queryset = User.objects.filter(Q(pk=user.pk) | Q(is_active=True, teams__in=user.team_ids()))
    else:
        queryset = User.objects.filter(pk=user.pk)
    if current is not None:
        queryset = queryset | User.objects.filter(pk=current.pk)
    return queryset.distinct().order_by("last_name", "first_name", "username")


def assignable_teams(user: User, current: Team | None = None) -> QuerySet[Team]:
    """Teams `user` may put a card in, plus the card's current team."""
    queryset = Team.objects.all()
    if not user.is_admin_role:
        condition = Q(pk__in=user.team_ids())
        if current is not None:
            condition |= Q(pk=current.pk)
        queryset = queryset.filter(condition)
    return queryset.order_by("name")


def _hides_employer(user: Any, client: Client) -> bool:
    """Is the card linked to a company `user` may not see?"""
    employer = client.employer if client.employer_id else None
    return employer is not None and not permissions.can_view_client(user, employer)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class ClientForm(forms.Form):
    """The card's own fields. `kind` decides which of the person or company fields count."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Client.Kind.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    allow_duplicates = forms.BooleanField(
        label=_("Save anyway: this is a different client"), required=False
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas, e.g. VIP, wholesale."),
    )

    def __init__(self, *args: Any, user: User, client: Client | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.client = client
        self.fields["status"] = _model_field("status")
        self.fields["status"].required = True
        self.fields["responsible"] = UserChoiceField(
            label=_("Responsible"),
            queryset=assignable_users(user, client.responsible if client else None),
            required=False,
            empty_label=_("— nobody —"),
        )
        self.fields["team"] = forms.ModelChoiceField(
            label=_("Team"),
            queryset=assignable_teams(user, client.team if client else None),
            required=False,
            empty_label=_("— no team —"),
        )
        self.fields["source"] = _model_field("source")
        self.fields["notes"] = _model_field("notes", widget=forms.Textarea(attrs={"rows": 4}))
        for name in PERSON_FIELDS:
            if name == "employer":
                # Rendered as a short searchable select by the template: a company base can
                # hold a million cards, so never every option at once.
                self.fields[name] = forms.ModelChoiceField(
                    label=_("Company"),
                    queryset=Client.objects.visible_to(user).filter(kind=Client.Kind.COMPANY),
                    required=False,
                    widget=forms.HiddenInput,
                )
            elif name == "birth_date":
                self.fields[name] = _model_field(name, widget=DateInput)
            elif name in ("interests", "preferences"):
                self.fields[name] = _model_field(name, widget=forms.Textarea(attrs={"rows": 3}))
            else:
                self.fields[name] = _model_field(name)
        for name in COMPANY_FIELDS:
            if name == "website":
                self.fields[name] = forms.URLField(
                    label=capfirst(Client._meta.get_field(name).verbose_name),
                    required=False,
                    assume_scheme="https",
                )
            elif name in ("legal_address", "postal_address"):
                self.fields[name] = _model_field(name, widget=forms.Textarea(attrs={"rows": 2}))
            else:
                self.fields[name] = _model_field(name)
        for name in normalize.DUPLICATE_REGISTRATION_FIELDS:
            self.fields[name].widget.attrs["data-dup-probe"] = ""
        self.fields["country"].widget.attrs.update({"maxlength": 2, "size": 3})
        self.fields["birth_date"].widget.attrs["max"] = "9999-12-31"
        self.fields["tags"].widget.attrs["placeholder"] = _("VIP, wholesale")

    @classmethod
    def initial_for(cls, client: Client, user: Any = None) -> dict[str, Any]:
        """The form's initial values for an existing card, as `user` may see them."""
        initial: dict[str, Any] = {
            name: getattr(client, name) for name in COMMON_FIELDS + PERSON_FIELDS + COMPANY_FIELDS
        }
        if user is not None and _hides_employer(user, client):
            initial["employer"] = None
        initial["version"] = client.version
        initial["tags"] = ", ".join(t.name for t in client.tags.all())
        return initial

    @property
    def kind_value(self) -> str:
        """The kind the form is showing: the posted one, else the initial one."""
        value = self.data.get("kind") if self.is_bound else None
        value = value or self.initial.get("kind") or Client.Kind.PERSON
        return value if value in Client.Kind.values else Client.Kind.PERSON

    def service_fields(self) -> list[str]:
        """The card fields this form sends to the services: common ones plus the kind's."""
        own = PERSON_FIELDS if self.cleaned_data["kind"] == Client.Kind.PERSON else COMPANY_FIELDS
        return COMMON_FIELDS + own

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.service_fields()}
        if (
            "employer" in data
            and data["employer"] is None
            and self.client is not None
            and _hides_employer(self.user, self.client)
        ):
            # The user never saw the company, so an empty picker means "leave it", not "unlink".
            del data["employer"]
        return data

    def tag_names(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data.get("tags", "").split(",")]

    def add_service_errors(self, error_dict: dict[str, list[ValidationError]]) -> None:
        """Show the service's errors next to their fields; unknown keys above the form."""
        for key, errors in error_dict.items():
            field = key if key in self.fields else None
            if key == NON_FIELD_ERRORS:
                field = None
            for error in errors:
                self.add_error(field, error)


class ContactForm(forms.Form):
    """One row of the contacts table."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Kind"), choices=ContactPoint.Kind.choices)
    value = forms.CharField(
        label=_("Value"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"data-dup-probe": ""}),
    )
    label = forms.CharField(
        label=_("Label"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("mobile, work…")}),
    )
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("value") or "").strip() and not (data.get("label") or "").strip()


class BaseContactFormSet(forms.BaseFormSet):
    def rows(self) -> list[tuple[int, dict[str, Any]]]:
        """(form index, service input) for every kept, non-blank row, in order."""
        result = []
        for index, form in enumerate(self.forms):
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.is_blank():
                continue
            data = form.cleaned_data
            result.append(
                (
                    index,
                    {
                        "kind": data["kind"],
                        "value": data.get("value") or "",
                        "label": data.get("label") or "",
                        "is_primary": bool(data.get("is_primary")),
                        "pk": data.get("id"),
                    },
                )
            )
        return result

    def add_service_errors(
        self, error_dict: dict[str, list[ValidationError]], rows: list[tuple[int, dict[str, Any]]]
    ) -> dict[str, list[ValidationError]]:
        """Put `contacts.<i>.<field>` errors on their rows; return the other errors."""
        rest: dict[str, list[ValidationError]] = {}
        for key, errors in error_dict.items():
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "contacts" and parts[1].isdigit():
                position = int(parts[1])
                if position < len(rows):
                    form = self.forms[rows[position][0]]
                    field = parts[2] if parts[2] in form.fields else None
                    for error in errors:
                        form.add_error(field, error)
                    continue
            rest[key] = errors
        return rest


ContactFormSet = forms.formset_factory(
    ContactForm, formset=BaseContactFormSet, extra=0, can_delete=True
)


def contact_initial(client: Client | None) -> list[dict[str, Any]]:
    """Contact rows to start the form with: the card's contacts, or an empty phone and email."""
    if client is None:
        return [{"kind": ContactPoint.Kind.PHONE}, {"kind": ContactPoint.Kind.EMAIL}]
    order = {kind: index for index, kind in enumerate(ContactPoint.Kind.values)}
    contacts = sorted(client.contacts.all(), key=lambda c: (order[c.kind], not c.is_primary, c.pk))
    return [
        {
            "id": c.pk,
            "kind": c.kind,
            "value": c.value,
            "label": c.label,
            "is_primary": c.is_primary,
        }
        for c in contacts
    ]


def duplicate_probe(data: Any) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Normalised contacts and registration numbers typed into a card form so far.

    Used by the live duplicate check before saving; values that do not parse yet are skipped
    (the form reports them on save).
    """
    contacts: list[tuple[str, str]] = []
    try:
        total = min(int(data.get("contacts-TOTAL_FORMS", 0)), 100)
    except (TypeError, ValueError):
        total = 0
    for index in range(total):
        if data.get(f"contacts-{index}-DELETE"):
            continue
        kind = data.get(f"contacts-{index}-kind", "")
        value = (data.get(f"contacts-{index}-value") or "").strip()
        if not value or kind not in ContactPoint.Kind.values or kind == "address":
            continue
        try:
            if kind == ContactPoint.Kind.PHONE:
                contacts.append((kind, normalize.normalize_phone(value)))
            elif kind == ContactPoint.Kind.EMAIL:
                contacts.append((kind, normalize.normalize_email(value)))
            else:
                contacts.append((kind, normalize.normalize_messenger(kind, value)))
        except ValidationError:
            continue
    registration: dict[str, str] = {}
    if data.get("kind") == Client.Kind.COMPANY:
        for name in normalize.DUPLICATE_REGISTRATION_FIELDS:
            value = (data.get(name) or "").strip()
            if value:
                try:
                    registration[name] = normalize.REGISTRATION_VALIDATORS[name](value)
                except ValidationError:
                    continue
    return contacts, registration


SORT_CHOICES = [
    ("-number", _("Newest cards first")),
    ("number", _("Oldest cards first")),
    ("name", _("Name A–Z")),
    ("-name", _("Name Z–A")),
    ("-updated", _("Recently updated")),
    ("actualized", _("Least recently confirmed")),
]


def client_filter_form(data: Any) -> forms.Form:
    """The list's filter panel: ClientFilterSet's form with widgets fit for a side panel."""
    form = ClientFilterSet(data=data or None, queryset=Client.objects.none()).form
    form.fields["status"].widget = forms.CheckboxSelectMultiple(
        choices=form.fields["status"].choices
    )
    form.fields["kind"].empty_label = _("Any")
    # Re-set so the widget's choice iterator reads this field's label, not the class's.
    form.fields["kind"].choices = Client.Kind.choices
    form.fields["tag"].widget.attrs["size"] = 4
    form.fields["responsible"].empty_label = _("Anyone")
    form.fields["team"].empty_label = _("Any team")
    for name, label in [
        ("created_from", _("from")),
        ("created_to", _("to")),
        ("actualized_from", _("from")),
        ("actualized_to", _("before")),
    ]:
        form.fields[name].label = label
    form.fields["q"].widget = forms.TextInput(
        attrs={
            "type": "search",
            "placeholder": _("Name, phone, email, INN, card number…"),
            "autocomplete": "off",
            "aria-label": _("Search"),
        }
    )
    form.fields["sort"] = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)
    # The same markup as Django's widget templates, written in Python: the panel's options
    # were a third of the list page's rendering time (clients.widgets).
    form.renderer = WIDGET_RENDERER
    return form
