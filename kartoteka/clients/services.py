"""Writes to client cards. Every change to a card goes through these functions, whichever door
(web, API, CLI, import) it comes from: permission check, validation, save, change log and
search index, in one transaction.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients import permissions
from kartoteka.clients.models import CardNumberCounter, Client, ContactPoint
from kartoteka.clients.selectors import client_find_duplicates
from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.models import ObjectChange, Tag
from kartoteka.quality import services as quality_services
from kartoteka.search.indexing import index_clients

# The fields a user edits on a card (everything else is derived or life-cycle).
PERSON_FIELDS = [
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "family_status",
    "employer",
    "workplace",
    "position",
    "company_role",
    "interests",
    "preferences",
]
COMPANY_FIELDS = [
    "legal_name",
    "short_name",
    "country",
    "inn",
    "kpp",
    "ogrn",
    "edrpou",
    "rnokpp",
    "uscc",
    "vat_number",
    "industry",
    "size",
    "website",
    "legal_address",
    "postal_address",
]
COMMON_FIELDS = ["kind", "status", "responsible", "team", "source", "notes", "credit_limit"]
EDITABLE_FIELDS = COMMON_FIELDS + PERSON_FIELDS + COMPANY_FIELDS
LOG_FIELDS = [*EDITABLE_FIELDS, "is_archived", "actualized_at"]
CONTACT_FIELDS = ["kind", "value", "label", "is_primary"]
NULLABLE_FIELDS = frozenset({"responsible", "team", "employer", "birth_date", "credit_limit"})


class VersionConflict(Exception):
    """The card changed since the user opened it; carries the card as it is now."""

    def __init__(self, current: Client) -> None:
        super().__init__(_("This card was changed by someone else while you were editing it."))
        self.current = current


class DuplicateClients(Exception):
    """Cards with the same phone, email or registration number exist (and the actor sees them)."""

    def __init__(self, duplicates: list[tuple[Client, list[str]]]) -> None:
        super().__init__(_("A card with the same contacts or registration number exists."))
        self.duplicates = duplicates


@dataclass
class ContactInput:
    """One contact as typed; `pk` set when editing an existing contact of the card."""

    kind: str
    value: str
    label: str = ""
    is_primary: bool = False
    pk: int | None = None


def _contact_inputs(contacts: Sequence[ContactInput | Mapping[str, Any]]) -> list[ContactInput]:
    return [c if isinstance(c, ContactInput) else ContactInput(**c) for c in contacts]


def _next_number() -> int:
    counter, _created = CardNumberCounter.objects.select_for_update().get_or_create(
        name="client", defaults={"value": 0}
    )
    if counter.value == 0:
        # First use on an existing base (e.g. rows loaded in bulk): continue after the maximum.
        last = Client.objects.order_by("-number").values_list("number", flat=True).first()
        counter.value = last or 0
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value


def _derive(client: Client) -> None:
    client.display_name = client.compute_display_name()[:300]
    if client.is_company:
        sort = client.display_name
    else:
        sort = " ".join(p for p in [client.last_name, client.first_name, client.middle_name] if p)
    client.sort_name = sort.strip().lower()[:300]


def _validate_contacts(
    client: Client, contacts: list[ContactInput], existing: Mapping[int, ContactPoint]
) -> list[ContactPoint]:
    """Build and validate contact rows, collecting errors per row: contacts.<i>.<field>.

    Inputs whose pk is one of the card's `existing` contacts edit that row; others are new.
    """
    rows: list[ContactPoint] = []
    errors: dict[str, list[ValidationError]] = {}
    for index, item in enumerate(contacts):
        row = existing.get(item.pk or 0) or ContactPoint(client=client)
        row.kind = item.kind
        row.value = item.value or ""
        row.label = (item.label or "").strip()
        row.is_primary = bool(item.is_primary)
        try:
            # Uniqueness is the database's job (and the pk of an edited row is its own).
            row.full_clean(exclude=["client"], validate_unique=False)
        except ValidationError as exc:
            for field, field_errors in exc.error_dict.items():
                errors.setdefault(f"contacts.{index}.{field}", []).extend(field_errors)
        rows.append(row)
    if errors:
        raise ValidationError(errors)
    seen: set[tuple[str, str]] = set()
    for index, row in enumerate(rows):
        key = (row.kind, row.normalized)
        if key in seen:
            raise ValidationError(
                {
                    f"contacts.{index}.value": ValidationError(
                        _("This contact is listed twice."), code="duplicate_contact"
                    )
                }
            )
        seen.add(key)
    # Exactly one primary per kind, so "call the client" always knows which number.
    for kind in {r.kind for r in rows}:
        of_kind = [r for r in rows if r.kind == kind]
        primaries = [r for r in of_kind if r.is_primary]
        for extra in primaries[1:]:
            extra.is_primary = False
        if not primaries:
            of_kind[0].is_primary = True
    return rows


def _validate_card(
    client: Client, contacts: list[ContactInput], existing: Mapping[int, ContactPoint]
) -> list[ContactPoint]:
    """Validate the card and its contacts together so the user sees every error at once."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        client.full_clean(exclude=["number"])
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        rows = _validate_contacts(client, contacts, existing)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    return rows


def _contacts_snapshot(rows: Sequence[ContactPoint]) -> list[str]:
    return sorted(f"{r.kind}:{r.value}" + (" *" if r.is_primary else "") for r in rows)


def _check_assignment(actor: User, client: Client, previous: Client | None) -> None:
    changed = previous is None or (
        previous.responsible_id != client.responsible_id or previous.team_id != client.team_id
    )
    if changed:
        permissions.ensure_can_assign(actor, responsible=client.responsible, team_id=client.team_id)


def _check_employer(actor: User, client: Client) -> None:
    if client.employer_id is None:
        return
    employer = client.employer
    if employer is None or employer.kind != Client.Kind.COMPANY:
        raise ValidationError(
            {"employer": ValidationError(_("Choose a company card."), code="employer_not_company")}
        )
    if not permissions.can_view_client(actor, employer):
        raise ValidationError(
            {"employer": ValidationError(_("Choose a company card."), code="employer_not_found")}
        )


DUPLICATE_KEYS = ("inn", "ogrn", "edrpou", "rnokpp", "uscc", "vat_number")


def _check_duplicates(
    actor: User,
    client: Client,
    rows: list[ContactPoint],
    previous: Client | None = None,
    known_contacts: frozenset[tuple[str, str]] = frozenset(),
) -> None:
    """Raise DuplicateClients for values other visible cards share.

    On an update only new or changed values are checked: a duplicate the user already
    accepted must not block every later edit of the card.
    """
    contacts = [
        (r.kind, r.normalized) for r in rows if (r.kind, r.normalized) not in known_contacts
    ]
    registration = {
        f: getattr(client, f)
        for f in DUPLICATE_KEYS
        if previous is None or getattr(previous, f) != getattr(client, f)
    }
    duplicates = client_find_duplicates(
        user=actor, contacts=contacts, registration=registration, exclude_pk=client.pk
    )
    if duplicates:
        raise DuplicateClients(duplicates)


def _apply(client: Client, data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("Unknown field."), code="unknown_field")
                for name in sorted(unknown)
            }
        )
    for name, value in data.items():
        if value is None and name not in NULLABLE_FIELDS:
            value = ""  # text fields store "" for "nothing", never NULL
        setattr(client, name, value.strip() if isinstance(value, str) else value)


@transaction.atomic
def client_create(
    *,
    actor: User,
    data: Mapping[str, Any],
    contacts: Sequence[ContactInput | Mapping[str, Any]] = (),
    tags: Sequence[Tag] = (),
    allow_duplicates: bool = False,
) -> Client:
    """Create a card with its contacts and tags.

    Raises ValidationError (per field; contacts as contacts.<i>.<field>), PermissionDenied,
    or DuplicateClients unless `allow_duplicates`. Writes an ObjectChange and the search entry.
    """
    permissions.ensure_can_create_client(actor)
    client = Client(created_by=actor)
    if "responsible" not in data and actor.role != User.Role.READ_ONLY:
        client.responsible = actor
    if "team" not in data:
        team_ids = actor.team_ids()
        client.team_id = team_ids[0] if len(team_ids) == 1 else None
    _apply(client, data)
    _check_assignment(actor, client, None)
    _check_employer(actor, client)
    _derive(client)
    rows = _validate_card(client, _contact_inputs(contacts), {})
    if not allow_duplicates:
        _check_duplicates(actor, client, rows)
    client.number = _next_number()
    client.save()
    for row in rows:
        row.client = client
    ContactPoint.objects.bulk_create(rows)
    if tags:
        client.tags.set(tags)
    after = snapshot(client, LOG_FIELDS)
    after["contacts"] = _contacts_snapshot(rows)
    after["tags"] = sorted(t.name for t in tags)
    log_change(actor=actor, obj=client, action=ObjectChange.Action.CREATE, after=after)
    index_clients([client])
    quality_services.quality_refresh(client)  # the stored score the attention list sorts by
    return client


def _full_snapshot(client: Client) -> dict[str, Any]:
    data = snapshot(client, LOG_FIELDS)
    data["contacts"] = _contacts_snapshot(list(client.contacts.all()))
    data["tags"] = sorted(client.tags.values_list("name", flat=True))
    return data


def _bump_version(client: Client, expected_version: int | None) -> None:
    """Claim the next version atomically; refuse when someone saved in between."""
    expected = client.version if expected_version is None else expected_version
    claimed = Client.objects.filter(pk=client.pk, version=expected).update(version=F("version") + 1)
    if not claimed:
        raise VersionConflict(Client.objects.get(pk=client.pk))
    client.version = expected + 1


@transaction.atomic
def client_update(
    *,
    actor: User,
    client: Client,
    expected_version: int | None,
    data: Mapping[str, Any],
    contacts: Sequence[ContactInput | Mapping[str, Any]] | None = None,
    tags: Sequence[Tag] | None = None,
    allow_duplicates: bool = False,
    message: str = "",
) -> Client:
    """Change a card. `expected_version` is the version the user saw (None: the current one).

    `contacts`, when given, is the card's full contact list: rows with a pk are updated, rows
    without are added, missing ones removed. Raises VersionConflict when the card was saved
    by someone else since, ValidationError, PermissionDenied, DuplicateClients.
    """
    permissions.ensure_can_change_client(actor, client)
    saved_state = client.__dict__.copy()
    try:
        return _update(
            actor, client, expected_version, data, contacts, tags, allow_duplicates, message
        )
    except Exception:
        # The transaction rolls back; leave the caller's instance as it was, too.
        client.__dict__.clear()
        client.__dict__.update(saved_state)
        raise


def _update(
    actor: User,
    client: Client,
    expected_version: int | None,
    data: Mapping[str, Any],
    contacts: Sequence[ContactInput | Mapping[str, Any]] | None,
    tags: Sequence[Tag] | None,
    allow_duplicates: bool,
    message: str = "",
) -> Client:
    before = _full_snapshot(client)
    previous = Client.objects.get(pk=client.pk)
    known_contacts = frozenset(client.contacts.values_list("kind", "normalized"))
    _bump_version(client, expected_version)
    _apply(client, data)
    _check_assignment(actor, client, previous)
    if client.employer_id != previous.employer_id:
        # A link someone else made to a company this user cannot see stays as it is.
        _check_employer(actor, client)
    _derive(client)
    rows: list[ContactPoint] | None = None
    if contacts is not None:
        # An id that is not one of this card's contacts is treated as a new contact.
        existing = {c.pk: c for c in client.contacts.all()}
        rows = _validate_card(client, _contact_inputs(contacts), existing)
    else:
        client.full_clean(exclude=["number"])
    if not allow_duplicates:
        _check_duplicates(actor, client, rows or [], previous, known_contacts)
    client.save()
    if rows is not None:
        keep = [r.pk for r in rows if r.pk]
        client.contacts.exclude(pk__in=keep).delete()
        for row in rows:
            row.save()
    if tags is not None:
        client.tags.set(tags)
    log_change(
        actor=actor,
        obj=client,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=_full_snapshot(client),
        message=message,  # e.g. "restored from change #12" (history.services)
    )
    index_clients([client])
    quality_services.quality_refresh(client)
    return client


def _set_archived(actor: User, client: Client, archived: bool) -> Client:
    permissions.ensure_can_archive_client(actor, client)
    if client.is_archived == archived:
        return client
    _bump_version(client, None)
    client.is_archived = archived
    client.archived_at = timezone.now() if archived else None
    client.save(update_fields=["is_archived", "archived_at", "version", "updated_at"])
    log_change(
        actor=actor,
        obj=client,
        action=ObjectChange.Action.ARCHIVE if archived else ObjectChange.Action.RESTORE,
        before={"is_archived": not archived},
        after={"is_archived": archived},
    )
    return client


@transaction.atomic
def client_archive(*, actor: User, client: Client) -> Client:
    """Archive a card: hidden from lists and search by default, kept with all its history."""
    return _set_archived(actor, client, True)


@transaction.atomic
def client_restore(*, actor: User, client: Client) -> Client:
    """Bring an archived card back."""
    return _set_archived(actor, client, False)


@transaction.atomic
def client_actualize(*, actor: User, client: Client) -> Client:
    """Record that `actor` confirmed the card's data is current today."""
    permissions.ensure_can_change_client(actor, client)
    before = {"actualized_at": client.actualized_at}
    _bump_version(client, None)
    client.actualized_at = timezone.now()
    client.actualized_by = actor
    client.save(update_fields=["actualized_at", "actualized_by", "version", "updated_at"])
    log_change(
        actor=actor,
        obj=client,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after={"actualized_at": client.actualized_at},
        message="actualized",
    )
    return client


@transaction.atomic
def contact_point_add(
    *,
    actor: User,
    client: Client,
    kind: str,
    value: str,
    label: str = "",
    is_primary: bool = False,
    allow_duplicates: bool = False,
) -> ContactPoint:
    """Add one contact to a card (the API's contact endpoints); bumps the card's version."""
    existing = [
        ContactInput(kind=c.kind, value=c.value, label=c.label, is_primary=c.is_primary, pk=c.pk)
        for c in client.contacts.all()
    ]
    if is_primary:
        for item in existing:
            if item.kind == kind:
                item.is_primary = False
    new = ContactInput(kind=kind, value=value, label=label, is_primary=is_primary)
    try:
        client_update(
            actor=actor,
            client=client,
            expected_version=None,
            data={},
            contacts=[*existing, new],
            allow_duplicates=allow_duplicates,
        )
    except ValidationError as exc:
        raise _renumber_contact_errors(exc, len(existing)) from exc
    return client.contacts.order_by("-pk").first()  # type: ignore[return-value]


@transaction.atomic
def contact_point_update(
    *, actor: User, contact: ContactPoint, data: Mapping[str, Any], allow_duplicates: bool = False
) -> ContactPoint:
    """Change one contact of a card; bumps the card's version."""
    client = contact.client
    inputs = []
    position = 0
    for index, c in enumerate(client.contacts.all()):
        item = ContactInput(
            kind=c.kind, value=c.value, label=c.label, is_primary=c.is_primary, pk=c.pk
        )
        if c.pk == contact.pk:
            position = index
            for name, value in data.items():
                if name not in CONTACT_FIELDS:
                    raise ValidationError(
                        {name: ValidationError(_("Unknown field."), code="unknown_field")}
                    )
                setattr(item, name, value)
        inputs.append(item)
    if data.get("is_primary"):
        for item in inputs:
            if item.kind == inputs[position].kind and item.pk != contact.pk:
                item.is_primary = False
    try:
        client_update(
            actor=actor,
            client=client,
            expected_version=None,
            data={},
            contacts=inputs,
            allow_duplicates=allow_duplicates,
        )
    except ValidationError as exc:
        raise _renumber_contact_errors(exc, position) from exc
    return ContactPoint.objects.get(pk=contact.pk)


@transaction.atomic
def contact_point_remove(*, actor: User, contact: ContactPoint) -> None:
    """Remove one contact from a card; recorded in the card's change log."""
    client = contact.client
    inputs = [
        ContactInput(kind=c.kind, value=c.value, label=c.label, is_primary=c.is_primary, pk=c.pk)
        for c in client.contacts.all()
        if c.pk != contact.pk
    ]
    client_update(
        actor=actor,
        client=client,
        expected_version=None,
        data={},
        contacts=inputs,
        allow_duplicates=True,
    )


def _renumber_contact_errors(exc: ValidationError, index: int) -> ValidationError:
    """contacts.<index>.value -> value: single-contact doors report plain field names."""
    if not hasattr(exc, "error_dict"):
        return exc
    prefix = f"contacts.{index}."
    return ValidationError(
        {
            (key[len(prefix) :] if key.startswith(prefix) else key): errors
            for key, errors in exc.error_dict.items()
        }
    )


def tags_from_names(*, actor: User, names: Sequence[str]) -> list[Tag]:
    """Tags by name, creating the missing ones (anyone who may edit a card may tag it)."""
    permissions.ensure_can_create_client(actor)
    result = []
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            tag = Tag(name=name[:64])
            tag.full_clean()
            tag.save()
            log_change(
                actor=actor, obj=tag, action=ObjectChange.Action.CREATE, after={"name": tag.name}
            )
        result.append(tag)
    return result
