import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.normalize import (
    REGISTRATION_VALIDATORS,
    format_phone,
    normalize_email,
    normalize_messenger,
    normalize_phone,
)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def person_display_name(last_name: str, first_name: str, middle_name: str) -> str:
    """A person's name as people of that script write it.

    Chinese: surname then given name, no space (王小明). Cyrillic: surname, given name,
    patronymic (Иванов Иван Петрович), as in Russian and Ukrainian paperwork. Latin: given,
    middle, surname (John A. Smith).
    """
    if _CJK.search(last_name + first_name):
        return f"{last_name}{first_name}{middle_name}".strip()
    if _CYRILLIC.search(last_name + first_name + middle_name):
        parts = [last_name, first_name, middle_name]
    else:
        parts = [first_name, middle_name, last_name]
    return " ".join(p.strip() for p in parts if p and p.strip())


class ClientQuerySet(models.QuerySet["Client"]):
    def visible_to(self, user: Any) -> "ClientQuerySet":
        """Cards `user` may see: administrators all; others those they are responsible for
        and those of their teams; managers also those any member of their teams is
        responsible for. Anonymous and inactive users see none."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self
        team_ids = user.team_ids()
        if user.role == user.Role.MANAGER:
            rule = Q(responsible_id__in=user.team_member_ids())
        else:
            rule = Q(responsible_id=user.pk)
        if team_ids:
            rule |= Q(team_id__in=team_ids)
        return self.filter(rule)

    def active(self) -> "ClientQuerySet":
        return self.filter(is_archived=False)


class Client(models.Model):
    """The client card: a person or a company, and everything that identifies and reaches them.

    Invariants: `number` is unique and never reused; `version` grows by one on every write
    (optimistic locking); `display_name` and `sort_name` are derived by the services from the
    name fields; cards are archived, never deleted, by users.
    """

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Status(models.TextChoices):
        LEAD = "lead", _("Lead")
        ACTIVE = "active", _("Active")
        KEY = "key", _("Key client")
        INACTIVE = "inactive", _("Inactive")

    class FamilyStatus(models.TextChoices):
        SINGLE = "single", _("Single")
        MARRIED = "married", _("Married")
        PARTNERSHIP = "partnership", _("In a partnership")
        DIVORCED = "divorced", _("Divorced")
        WIDOWED = "widowed", _("Widowed")

    class Size(models.TextChoices):
        MICRO = "1-10", _("1–10 employees")
        SMALL = "11-50", _("11–50 employees")
        MEDIUM = "51-250", _("51–250 employees")
        LARGE = "251-1000", _("251–1000 employees")
        HUGE = "1000+", _("over 1000 employees")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    number = models.PositiveBigIntegerField(_("card number"), unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.LEAD
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clients",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clients",
    )
    tags = models.ManyToManyField(
        "core.Tag", verbose_name=_("tags"), blank=True, related_name="clients"
    )
    source = models.CharField(_("source"), max_length=100, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")

    # Person
    last_name = models.CharField(_("surname"), max_length=100, blank=True, default="")
    first_name = models.CharField(_("given name"), max_length=100, blank=True, default="")
    middle_name = models.CharField(
        _("patronymic / middle name"), max_length=100, blank=True, default=""
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    family_status = models.CharField(
        _("family status"), max_length=12, blank=True, default="", choices=FamilyStatus.choices
    )
    employer = models.ForeignKey(
        "self",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
        limit_choices_to={"kind": "company"},
    )
    workplace = models.CharField(
        _("workplace"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("When the company has no card of its own."),
    )
    position = models.CharField(_("position"), max_length=150, blank=True, default="")
    company_role = models.CharField(
        _("role at the company"),
        max_length=150,
        blank=True,
        default="",
        help_text=_("E.g. decision maker, accountant."),
    )
    interests = models.TextField(_("interests"), blank=True, default="")
    preferences = models.TextField(_("preferences"), blank=True, default="")

    # Company
    legal_name = models.CharField(_("legal name"), max_length=300, blank=True, default="")
    short_name = models.CharField(_("short name"), max_length=150, blank=True, default="")
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        default="",
        help_text=_("Two-letter ISO code: RU, UA, CN, DE…"),
    )
    inn = models.CharField(_("INN"), max_length=12, blank=True, default="", db_index=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True, default="")
    ogrn = models.CharField(
        _("OGRN / OGRNIP"), max_length=15, blank=True, default="", db_index=True
    )
    edrpou = models.CharField(_("EDRPOU"), max_length=8, blank=True, default="", db_index=True)
    rnokpp = models.CharField(_("RNOKPP"), max_length=10, blank=True, default="", db_index=True)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, default="", db_index=True
    )
    vat_number = models.CharField(
        _("EU VAT number"), max_length=16, blank=True, default="", db_index=True
    )
    industry = models.CharField(_("industry"), max_length=150, blank=True, default="")
    size = models.CharField(_("size"), max_length=10, blank=True, default="", choices=Size.choices)
    website = models.URLField(_("website"), blank=True, default="")
    legal_address = models.TextField(_("legal address"), blank=True, default="")
    postal_address = models.TextField(_("postal address"), blank=True, default="")

    # Derived, maintained by services
    display_name = models.CharField(_("name"), max_length=300, editable=False, default="")
    sort_name = models.CharField(max_length=300, editable=False, default="")

    # Life cycle
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    actualized_at = models.DateTimeField(_("data confirmed"), null=True, blank=True)
    actualized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    custom_field_data = models.JSONField(default=dict, blank=True)
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("In the base currency. Orders beyond it are warned about."),
    )

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [
            models.Index(fields=["is_archived", "-number"], name="client_archived_number_idx"),
            models.Index(fields=["is_archived", "sort_name", "id"], name="client_sort_name_idx"),
            models.Index(fields=["is_archived", "-updated_at", "-id"], name="client_updated_idx"),
            models.Index(
                fields=["is_archived", "actualized_at", "id"], name="client_actualized_idx"
            ),
            models.Index(fields=["is_archived", "-created_at", "-id"], name="client_created_idx"),
            models.Index(
                fields=["responsible", "is_archived", "-number"], name="client_responsible_idx"
            ),
            models.Index(fields=["team", "is_archived", "-number"], name="client_team_idx"),
            models.Index(fields=["status", "is_archived", "-number"], name="client_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["person", "company"]),
                name="client_kind_valid",
                violation_error_message=_("Unknown kind of client."),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or f"#{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", args=[self.pk])

    @property
    def card_number(self) -> str:
        """The number people say on the phone and write on paper."""
        return f"{self.number:06d}"

    @property
    def is_company(self) -> bool:
        return self.kind == self.Kind.COMPANY

    def compute_display_name(self) -> str:
        if self.is_company:
            return (self.short_name or self.legal_name).strip()
        return person_display_name(self.last_name, self.first_name, self.middle_name)

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        if self.is_company:
            if not (self.legal_name.strip() or self.short_name.strip()):
                errors.setdefault("legal_name", []).append(
                    ValidationError(
                        _("A company needs a legal or short name."), code="name_required"
                    )
                )
        elif not (self.last_name.strip() or self.first_name.strip()):
            errors.setdefault("last_name", []).append(
                ValidationError(
                    _("A person needs a surname or a given name."), code="name_required"
                )
            )
        for field, validator in REGISTRATION_VALIDATORS.items():
            value = getattr(self, field)
            if value:
                try:
                    setattr(self, field, validator(value))
                except ValidationError as exc:
                    errors.setdefault(field, []).extend(exc.error_list)
        if self.country:
            self.country = self.country.strip().upper()
            if not re.fullmatch(r"[A-Z]{2}", self.country):
                errors.setdefault("country", []).append(
                    ValidationError(
                        _("Use the two-letter country code, e.g. RU, UA, CN."),
                        code="invalid_country",
                    )
                )
        if self.employer_id and self.employer_id == self.pk:
            errors.setdefault("employer", []).append(
                ValidationError(_("A card cannot be its own company."), code="self_employer")
            )
        if errors:
            raise ValidationError(errors)


class ContactPoint(models.Model):
    """One way to reach a client: a phone, email, messenger account or address.

    `value` is what the user typed (or a tidied form of it); `normalized` is the canonical
    form (E.164 phone, lowercased email, handle without '@') that search and duplicate
    checks compare.
    """

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        TELEGRAM = "telegram", _("Telegram")
        WHATSAPP = "whatsapp", _("WhatsApp")
        VIBER = "viber", _("Viber")
        WECHAT = "wechat", _("WeChat")
        ADDRESS = "address", _("Address")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=300)
    normalized = models.CharField(max_length=300, editable=False, default="")
    label = models.CharField(
        _("label"), max_length=50, blank=True, default="", help_text=_("E.g. mobile, work, home.")
    )
    is_primary = models.BooleanField(_("primary"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-is_primary", "pk"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["kind", "normalized"], name="contact_normalized_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def clean(self) -> None:
        value = (self.value or "").strip()
        if not value:
            raise ValidationError({"value": ValidationError(_("Enter a value."), code="required")})
        try:
            if self.kind == self.Kind.PHONE:
                self.normalized = normalize_phone(value)
                self.value = format_phone(self.normalized)
            elif self.kind == self.Kind.EMAIL:
                self.normalized = normalize_email(value)
                self.value = self.normalized
            elif self.kind == self.Kind.ADDRESS:
                self.value = value
                self.normalized = " ".join(value.lower().split())
            else:
                self.normalized = normalize_messenger(self.kind, value)
                self.value = value
        except ValidationError as exc:
            raise ValidationError({"value": exc.error_list}) from exc


class CardNumberCounter(models.Model):
    """The last card number handed out. One row; locked while a number is taken so that two
    concurrent creates never get the same number, on SQLite and PostgreSQL alike."""

    name = models.CharField(max_length=30, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


def tags_of(client: Client) -> list[Any]:
    """The card's tags: the list a list page read for all its rows at once
    (`Prefetch("tags", to_attr="tag_list")`, clients.selectors.client_list), else the
    relation itself."""
    tags = getattr(client, "tag_list", None)
    return list(client.tags.all()) if tags is None else tags
