"""Restoring earlier values of a card from its change history.

A restore is an ordinary edit of the card through clients.services.client_update, so it gets
the same permission checks, validation, optimistic locking, search refresh and change-log
row as any edit; the row says which change it restored from.
"""

import datetime
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.accounts.models import Team, User
from kartoteka.clients import permissions
from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client
from kartoteka.core.models import ObjectChange
from kartoteka.history.selectors import RESTORE_PREFIX, card_values, restorable_fields

# Not translated: stored in the log; the history shows it in the viewer's language.
RESTORE_MESSAGE = RESTORE_PREFIX + "%(id)s"


def _restore_error(name: str, message: str, code: str) -> ValidationError:
    return ValidationError({name: ValidationError(message, code=code)})


def _check_change(client: Client, change: ObjectChange) -> None:
    if change.client_id != client.pk or change.content_type.model_class() is not Client:
        raise ValidationError(
            _("Only changes of the card's own fields can be restored."), code="not_card_change"
        )
    if change.object_id != client.pk:
        raise ValidationError(
            _("This change belongs to another card (a merge); it cannot be restored here."),
            code="not_card_change",
        )
    if change.action != ObjectChange.Action.UPDATE:
        raise ValidationError(
            _("Only edits can be restored; use Restore on an archived card instead."),
            code="not_an_update",
        )


def _chosen(change: ObjectChange, fields: Sequence[str] | None) -> list[str]:
    """The fields to set back: those asked for, or every restorable field of the change."""
    allowed = restorable_fields()
    changed = set(change.changed_fields)
    if not fields:
        chosen = [name for name in change.changed_fields if name in allowed]
        if not chosen:
            raise ValidationError(
                _("This change has no values that can be restored."), code="nothing_to_restore"
            )
        return chosen
    errors: dict[str, ValidationError] = {}
    for name in fields:
        if name not in changed:
            errors[name] = ValidationError(
                _("This field was not changed by this change."), code="not_changed"
            )
        elif name not in allowed:
            errors[name] = ValidationError(
                _("This field cannot be restored."), code="not_restorable"
            )
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(fields))


def _ensure_something_changes(client: Client, change: ObjectChange, names: list[str]) -> None:
    current = card_values(client, names)
    if all(current.get(name) == change.before.get(name) for name in names):
        raise ValidationError(
            _("The card already has these values; nothing to restore."), code="already_restored"
        )


def _reference(actor: User, name: str, value: Any) -> Any:
    """The object a logged id pointed to, if it still exists and may be used."""
    if value is None:
        return None
    if name == "responsible":
        user = User.objects.filter(pk=value, is_active=True).first()
        if user is None:
            raise _restore_error(
                name,
                _("The employee this card was assigned to no longer works here."),
                "reference_gone",
            )
        return user
    if name == "team":
        team = Team.objects.filter(pk=value).first()
        if team is None:
            raise _restore_error(name, _("This team no longer exists."), "reference_gone")
        return team
    employer = Client.objects.visible_to(actor).filter(pk=value).first()
    if employer is None:
        raise _restore_error(
            name, _("This company card no longer exists or is not yours to see."), "reference_gone"
        )
    return employer


def _value(actor: User, name: str, value: Any) -> Any:
    """A logged (JSON) value back as the Python value the card field takes."""
    if name in ("responsible", "team", "employer"):
        return _reference(actor, name, value)
    if value is None:
        return None
    try:
        if name == "birth_date":
            return datetime.date.fromisoformat(value)
        if name == "credit_limit":
            return decimal.Decimal(str(value))
    except (TypeError, ValueError, decimal.InvalidOperation) as exc:
        raise _restore_error(name, _("The recorded value is not valid."), "invalid") from exc
    return value


def _contacts(client: Client, logged: Sequence[str]) -> list[client_services.ContactInput]:
    """The card's contact list as logged ('kind:value', ' *' when primary).

    Contacts still on the card keep their row (and label); the others come back as new rows.
    """
    existing = list(client.contacts.all())
    used: set[int] = set()
    result = []
    for raw in logged:
        kind, _sep, rest = str(raw).partition(":")
        primary = rest.endswith(" *")
        value = rest.removesuffix(" *")
        match = next(
            (
                c
                for c in existing
                if c.pk not in used and c.kind == kind and c.value.strip() == value.strip()
            ),
            None,
        )
        if match is not None:
            used.add(match.pk)
        result.append(
            client_services.ContactInput(
                kind=kind,
                value=value,
                label=match.label if match is not None else "",
                is_primary=primary,
                pk=match.pk if match is not None else None,
            )
        )
    return result


def _renamed_contact_errors(exc: ValidationError) -> ValidationError:
    """contacts.<i>.<field> errors -> one `contacts` error: the user restores the list whole."""
    if not hasattr(exc, "error_dict"):
        return exc
    errors: dict[str, list[ValidationError]] = {}
    for key, items in exc.error_dict.items():
        errors.setdefault("contacts" if key.startswith("contacts.") else key, []).extend(items)
    return ValidationError(errors)


@transaction.atomic
def history_restore(
    *,
    actor: User,
    client: Client,
    change: ObjectChange,
    fields: Sequence[str] | None = None,
    expected_version: int | None = None,
) -> Client:
    """Set the card's `fields` (all restorable fields of `change` when empty) back to their
    values before `change`.

    `expected_version` is the card version the user saw (None: the card as fetched), so a
    concurrent edit raises clients.services.VersionConflict. Raises PermissionDenied for users
    who may not change the card, ValidationError (per field) when a value no longer validates
    (a deleted team, a departed employee). Writes one ObjectChange, "restored from change #N".
    """
    permissions.ensure_can_change_client(actor, client)
    _check_change(client, change)
    chosen = _chosen(change, fields)
    _ensure_something_changes(client, change, chosen)
    before: Mapping[str, Any] = change.before
    data: dict[str, Any] = {}
    errors: dict[str, list[ValidationError]] = {}
    for name in chosen:
        if name in ("contacts", "tags"):
            continue
        try:
            data[name] = _value(actor, name, before.get(name))
        except ValidationError as exc:
            for key, items in exc.error_dict.items():
                errors.setdefault(key, []).extend(items)
    if errors:
        raise ValidationError(errors)
    contacts = _contacts(client, before.get("contacts") or []) if "contacts" in chosen else None
    tags = None
    if "tags" in chosen:
        tags = client_services.tags_from_names(actor=actor, names=before.get("tags") or [])
    try:
        return client_services.client_update(
            actor=actor,
            client=client,
            expected_version=client.version if expected_version is None else expected_version,
            data=data,
            contacts=contacts,
            tags=tags,
            # The value was on this card before; a card that shares it now was accepted since.
            allow_duplicates=True,
            message=RESTORE_MESSAGE % {"id": change.pk},
        )
    except ValidationError as exc:
        raise _renamed_contact_errors(exc) from exc
