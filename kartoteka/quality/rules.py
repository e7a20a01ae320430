"""What makes a card complete and valid. Pure functions over a card and its contacts.

Completeness (important fields, by kind):
- person: a phone or an email (a way to reach them), birth date (greetings, age checks),
  responsible employee (someone owns the relationship);
- company: a registration number (INN, OGRN, EDRPOU, RNOKPP, USCC or EU VAT: identifies the
  company for invoices and duplicate checks), legal address (invoices and contracts), a
  contact person (a person card linked to the company), responsible employee.
Validity: stored values that fail today's validation — phones not in E.164 or not valid,
emails email-validator refuses, registration numbers with a wrong checksum (rows written
by old imports or by hand in the database).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.normalize import REGISTRATION_VALIDATORS, normalize_email, normalize_phone

# code -> (label, points lost, kind, card field to edit)
PROBLEMS: dict[str, tuple[object, int, str, str]] = {
    "missing_contact": (_("No phone or email"), 30, "incomplete", "contacts"),
    "missing_birth_date": (_("No birth date"), 10, "incomplete", "birth_date"),
    "missing_responsible": (_("No responsible employee"), 15, "incomplete", "responsible"),
    "missing_registration": (_("No registration number"), 25, "incomplete", "inn"),
    "missing_legal_address": (_("No legal address"), 15, "incomplete", "legal_address"),
    "missing_contact_person": (_("No contact person"), 15, "incomplete", "people"),
    "invalid_phone": (_("A phone number is not valid"), 20, "invalid", "contacts"),
    "invalid_email": (_("An email address is not valid"), 20, "invalid", "contacts"),
    "invalid_registration": (_("A registration number fails its checksum"), 25, "invalid", "inn"),
}
REGISTRATION_FIELDS = ["inn", "ogrn", "edrpou", "rnokpp", "uscc", "vat_number"]


@dataclass
class Assessment:
    score: int
    problems: list[str]

    @property
    def incomplete(self) -> bool:
        return any(PROBLEMS[p][2] == "incomplete" for p in self.problems)

    @property
    def invalid(self) -> bool:
        return any(PROBLEMS[p][2] == "invalid" for p in self.problems)


def phone_is_valid(contact: ContactPoint) -> bool:
    try:
        return normalize_phone(contact.value) == contact.normalized
    except ValidationError:
        return False


def email_is_valid(contact: ContactPoint) -> bool:
    try:
        return normalize_email(contact.value) == contact.normalized
    except ValidationError:
        return False


def assess(client: Client, contacts: Iterable[ContactPoint], has_people: bool) -> Assessment:
    """The card's score and problems (codes of PROBLEMS), from its fields and contacts."""
    contacts = list(contacts)
    problems: list[str] = []
    reachable = [
        c for c in contacts if c.kind in (ContactPoint.Kind.PHONE, ContactPoint.Kind.EMAIL)
    ]
    if client.is_company:
        if not any(getattr(client, f) for f in REGISTRATION_FIELDS):
            problems.append("missing_registration")
        if not client.legal_address.strip():
            problems.append("missing_legal_address")
        if not has_people:
            problems.append("missing_contact_person")
    else:
        if not reachable:
            problems.append("missing_contact")
        if client.birth_date is None:
            problems.append("missing_birth_date")
    if client.responsible_id is None:
        problems.append("missing_responsible")
    if any(c.kind == ContactPoint.Kind.PHONE and not phone_is_valid(c) for c in contacts):
        problems.append("invalid_phone")
    if any(c.kind == ContactPoint.Kind.EMAIL and not email_is_valid(c) for c in contacts):
        problems.append("invalid_email")
    for field, validator in REGISTRATION_VALIDATORS.items():
        value = getattr(client, field)
        if not value:
            continue
        try:
            validator(value)
        except ValidationError:
            problems.append("invalid_registration")
            break
    score = max(0, 100 - sum(PROBLEMS[p][1] for p in problems))
    return Assessment(score=score, problems=problems)


def problem_label(code: str) -> str:
    return str(PROBLEMS[code][0]) if code in PROBLEMS else code
